from __future__ import annotations

from decimal import Decimal

import orjson

from domain.signal import Intent, SizeKind
from domain.signals import Parsed, Refusal, RefusalCode, SignalFormat, decode_signal
from tests.domain.signals.conftest import NOW_ISO, NOW_NS, SECRET


def signal_bot(**changes: object) -> str:
    message: dict[str, object] = {
        "secret": SECRET,
        "max_lag": "300",
        "timestamp": NOW_ISO,
        "trigger_price": "64213.7",
        "tv_exchange": "BINANCE",
        "tv_instrument": "BTCUSDT",
        "action": "buy",
        "bot_uuid": "0c3c6f3e-1d2b-4a5e-9f00-7b1e2d3c4a5b",
        "strategy_info": {
            "market_position": "long",
            "market_position_size": "0.02",
            "prev_market_position": "flat",
            "prev_market_position_size": "0",
        },
        "order": {"amount": "0.02", "currency_type": "base"},
    }
    message.update(changes)
    return orjson.dumps(message).decode()


def parse(text: str, settings) -> Parsed:
    result = decode_signal(text, "application/json", "3c", settings, NOW_NS)
    assert isinstance(result, Parsed), result
    assert result.format is SignalFormat.THREECOMMAS
    return result


def test_strategy_alert_is_a_target_position(settings) -> None:
    result = parse(signal_bot(), settings)
    assert result.signal.intent is Intent.TARGET_POSITION
    assert result.signal.target == Decimal("0.02")
    assert result.signal.price_hint == Decimal("64213.7")
    assert result.max_lag_s == 300.0


def test_short_position_is_negative(settings) -> None:
    info = {"market_position": "short", "market_position_size": "0.5"}
    assert parse(signal_bot(action="sell", strategy_info=info), settings).signal.target == Decimal(
        "-0.5"
    )


def test_custom_signal_actions(settings) -> None:
    enter = parse(signal_bot(action="enter_short", strategy_info=None), settings).signal
    assert enter.intent is Intent.ENTER_SHORT
    assert enter.size.kind is SizeKind.QUANTITY and enter.size.value == Decimal("0.02")
    leave = parse(signal_bot(action="exit_long", strategy_info=None, order=None), settings).signal
    assert leave.intent is Intent.EXIT and leave.exit_side == "long"
    quote = parse(
        signal_bot(
            action="enter_long", strategy_info=None, order={"amount": 100, "currency_type": "quote"}
        ),
        settings,
    ).signal
    assert quote.size.kind is SizeKind.NOTIONAL and quote.size.value == Decimal(100)


def test_body_max_lag_tightens_staleness(settings) -> None:
    text = signal_bot(max_lag="5", timestamp="2024-05-01T11:59:50Z")
    result = decode_signal(text, "application/json", "3c", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.STALE


def test_legacy_dca_message(settings) -> None:
    text = orjson.dumps(
        {
            "message_type": "bot",
            "bot_id": 123,
            "email_token": SECRET,
            "delay_seconds": 0,
            "pair": "USDT_ETH",
        }
    ).decode()
    signal = parse(text, settings).signal
    assert signal.instrument == "ETH-USDT" and signal.intent is Intent.ENTER_LONG


def test_refusals(settings) -> None:
    for text, code in [
        (signal_bot(secret="nope-nope"), RefusalCode.BAD_SECRET),
        (signal_bot(action="moon"), RefusalCode.INVALID),
        (signal_bot(tv_instrument=""), RefusalCode.INVALID),
        (
            signal_bot(
                action="enter_long", strategy_info=None, order={"amount": 1, "currency_type": "x"}
            ),
            RefusalCode.INVALID,
        ),
    ]:
        result = decode_signal(text, "application/json", "3c", settings, NOW_NS)
        assert isinstance(result, Refusal) and result.code is code, (text, result)
