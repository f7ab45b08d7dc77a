from __future__ import annotations

from decimal import Decimal

import pytest

from domain.signal import Intent, SizeKind
from domain.signals import Parsed, Refusal, RefusalCode, SignalFormat, decode_signal
from tests.domain.signals.conftest import NOW_NS, SECRET

S = f"secret={SECRET}"


def parse(text: str, settings) -> Parsed:
    result = decode_signal(text, "text/plain", "cmd", settings, NOW_NS)
    assert isinstance(result, Parsed), result
    assert result.format is SignalFormat.TEXT
    return result


def test_buy_with_quantity_stop_and_target(settings) -> None:
    signal = parse(f"buy BTCUSDT 0.01 sl=60000 tp=70000 {S}", settings).signal
    assert signal.intent is Intent.ENTER_LONG
    assert signal.instrument == "BTC-USDT"
    assert signal.size.kind is SizeKind.QUANTITY and signal.size.value == Decimal("0.01")
    assert signal.stop_loss == Decimal(60000) and signal.take_profit == Decimal(70000)


@pytest.mark.parametrize(
    ("text", "intent", "side"),
    [
        (f"sell ETH/USDT 2 {S}", Intent.ENTER_SHORT, None),
        (f"{S} short ETH-USDT", Intent.ENTER_SHORT, None),
        (f"close BTCUSDT {S}", Intent.EXIT, None),
        (f"EXIT BTCUSDT {S}", Intent.EXIT, None),
        (f"closelong BTCUSDT {S}", Intent.EXIT, "long"),
        (f"closeshort BTCUSDT {S}", Intent.EXIT, "short"),
        (f"reverse BTCUSDT {S}", Intent.REVERSE, None),
    ],
)
def test_verbs(settings, text: str, intent: Intent, side: str | None) -> None:
    signal = parse(text, settings).signal
    assert signal.intent is intent
    assert signal.exit_side == side


def test_sizes_limits_and_flags(settings) -> None:
    pct = parse(f"buy BTCUSDT 10% {S}", settings).signal
    assert pct.size.kind is SizeKind.PERCENT_EQUITY and pct.size.value == Decimal(10)
    usd = parse(f"buy BTCUSDT $250 {S}", settings).signal
    assert usd.size.kind is SizeKind.NOTIONAL and usd.size.value == Decimal(250)
    limit = parse(f"buy BTCUSDT 0.5 @64000 post_only tif=gtc id=abc-1 tag=x {S}", settings)
    order = limit.signal.order
    assert order.type.value == "limit" and order.limit_price == Decimal(64000) and order.post_only
    assert limit.signal.alert_id == "abc-1" and limit.signal.tags == ("x",)
    stop = parse(f"sell BTCUSDT 1 stop=59000 limit=58900 {S}", settings).signal
    assert stop.order.type.value == "stop_limit"


def test_target_verb_takes_a_signed_position(settings) -> None:
    assert parse(f"target BTCUSDT -0.25 {S}", settings).signal.target == Decimal("-0.25")
    assert parse(f"target BTCUSDT 0 {S}", settings).signal.target == Decimal(0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("buy BTCUSDT 0.01", RefusalCode.BAD_SECRET),
        ("buy BTCUSDT 0.01 secret=wrong-one", RefusalCode.BAD_SECRET),
        (f"hodl BTCUSDT {S}", RefusalCode.MALFORMED),
        (f"buy {S}", RefusalCode.MALFORMED),
        (f"buy BTCUSDT 0.01\nsell BTCUSDT 0.01 {S}", RefusalCode.MALFORMED),
        (f"buy BTCUSDT -1 {S}", RefusalCode.INVALID),
        (f"buy BTCUSDT 1 2 {S}", RefusalCode.INVALID),
        (f"buy BTCUSDT 1 $5 {S}", RefusalCode.INVALID),
        (f"buy BTCUSDT 1 leverage=5 {S}", RefusalCode.INVALID),
        (f"buy BTCUSDT 101% {S}", RefusalCode.INVALID),
        (f"buy BTCUSDT nan {S}", RefusalCode.INVALID),
        (f"buy BTCUSDT 1 sl=0 {S}", RefusalCode.INVALID),
        (f"target BTCUSDT {S}", RefusalCode.INVALID),
        (f"buy NOTATICKER 1 {S}", RefusalCode.UNKNOWN_SYMBOL),
    ],
)
def test_refusals(settings, text: str, code: RefusalCode) -> None:
    result = decode_signal(text, "text/plain", "cmd", settings, NOW_NS)
    assert isinstance(result, Refusal), result
    assert result.code is code, result
    assert SECRET not in result.reason
