from __future__ import annotations

from decimal import Decimal

import orjson

from domain.signal import Intent, Signal, Size, SizeKind
from domain.signals import (
    Parsed,
    Refusal,
    RefusalCode,
    SignalFormat,
    SourceSettings,
    SymbolMap,
    decode_signal,
    parse_native,
)
from tests.domain.signals.conftest import NOW_NS, SECRET


def body(**fields: object) -> str:
    return orjson.dumps({"secret": SECRET, **fields}).decode()


def test_canonical_signal_round_trips(settings) -> None:
    original = Signal(
        source="tv",
        instrument="ETH-USDT",
        intent=Intent.ENTER_LONG,
        size=Size(kind=SizeKind.NOTIONAL, value=Decimal("250")),
        stop_loss=Decimal("2900"),
        alert_id="a-1",
        ts_ns=NOW_NS - 1_000_000_000,
        tags=("momentum",),
    )
    payload = orjson.loads(original.model_dump_json())
    result = parse_native(body(**payload), "application/json", "tv", settings, NOW_NS)
    assert isinstance(result, Parsed)
    assert result.format is SignalFormat.NATIVE
    assert result.signal == original


def test_source_and_time_default_from_the_request(settings) -> None:
    result = decode_signal(
        body(instrument="BTCUSDT", intent="target_position", target="-0.5"),
        None,
        "tv",
        settings,
        NOW_NS,
    )
    assert isinstance(result, Parsed)
    assert result.signal.source == "tv"
    assert result.signal.ts_ns == NOW_NS
    assert result.signal.instrument == "BTC-USDT"
    assert result.signal.target == Decimal("-0.5")


def test_refusals(settings) -> None:
    cases = {
        body(instrument="BTC-USDT", intent="enter_long", source="other"): "source",
        body(instrument="BTC-USDT", intent="fly"): "intent",
        body(instrument="BTC-USDT", intent="enter_long", leverage=10): "leverage",
        body(intent="enter_long"): "instrument",
        body(instrument="BTC-USDT", intent="target_position"): "target",
        body(
            instrument="BTC-USDT", intent="enter_long", size={"kind": "quantity", "value": "1e999"}
        ): "range",
    }
    for text, word in cases.items():
        result = decode_signal(text, "application/json", "tv", settings, NOW_NS)
        assert isinstance(result, Refusal), text
        assert result.code is RefusalCode.INVALID, (text, result)
        assert word in result.reason, (word, result.reason)


def test_instrument_outside_the_allowed_set_is_refused() -> None:
    settings = SourceSettings(secret=SECRET, symbols=SymbolMap(instruments=frozenset({"ETH-USDT"})))
    result = decode_signal(body(instrument="BTC-USDT", intent="exit"), None, "tv", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.UNKNOWN_SYMBOL


def test_secret_inside_another_field_is_refused(settings) -> None:
    text = body(instrument="BTC-USDT", intent="exit", tags=[f"oops {SECRET}"])
    result = decode_signal(text, None, "tv", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.INVALID
    assert SECRET not in result.reason
