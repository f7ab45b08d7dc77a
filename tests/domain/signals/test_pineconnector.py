from __future__ import annotations

from decimal import Decimal

import pytest

from domain.signal import Intent, SizeKind
from domain.signals import Parsed, Refusal, RefusalCode, SignalFormat, SourceSettings, decode_signal
from tests.domain.signals.conftest import NOW_NS, SECRET


def parse(text: str, settings) -> Parsed:
    result = decode_signal(text, "text/plain", "pc", settings, NOW_NS)
    assert isinstance(result, Parsed), result
    assert result.format is SignalFormat.PINECONNECTOR
    return result


def test_buy_with_risk_sl_tp(settings) -> None:
    signal = parse(f"{SECRET},buy,BTCUSDT,risk=0.01,sl=60000,tp=70000", settings).signal
    assert signal.intent is Intent.ENTER_LONG
    assert signal.size.kind is SizeKind.QUANTITY and signal.size.value == Decimal("0.01")
    assert signal.stop_loss == Decimal(60000) and signal.take_profit == Decimal(70000)
    assert "pineconnector:buy" in signal.tags


def test_risk_as_percent_of_equity() -> None:
    settings = SourceSettings(secret=SECRET, pineconnector_risk=SizeKind.PERCENT_EQUITY)
    signal = parse(f"{SECRET},sell,ETHUSDT,risk=2", settings).signal
    assert signal.intent is Intent.ENTER_SHORT
    assert signal.size.kind is SizeKind.PERCENT_EQUITY and signal.size.value == Decimal(2)


@pytest.mark.parametrize(
    ("text", "intent", "order_type"),
    [
        ("buylimit,BTCUSDT,risk=1,price=60000", Intent.ENTER_LONG, "limit"),
        ("sellstop,BTCUSDT,risk=1,price=59000", Intent.ENTER_SHORT, "stop_market"),
        ("closelong,BTCUSDT", Intent.EXIT, "market"),
        ("closeall,BTCUSDT", Intent.EXIT, "market"),
        ("closelongsell,BTCUSDT", Intent.REVERSE, "market"),
    ],
)
def test_commands(settings, text: str, intent: Intent, order_type: str) -> None:
    signal = parse(f"{SECRET},{text}", settings).signal
    assert signal.intent is intent
    assert signal.order.type.value == order_type


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("wrong-license,buy,BTCUSDT,risk=1", RefusalCode.BAD_SECRET),
        (",buy,BTCUSDT,risk=1", RefusalCode.BAD_SECRET),
        (f"{SECRET},buylimit,BTCUSDT,risk=1", RefusalCode.INVALID),
        (f"{SECRET},buy,BTCUSDT,trailtrig=5", RefusalCode.INVALID),
        (f"{SECRET},buy,BTCUSDT,risk=1,risk=2", RefusalCode.INVALID),
        (f"{SECRET},buy,BTCUSDT,sl=1,slprice=2", RefusalCode.INVALID),
        (f"{SECRET},buy,NOPE", RefusalCode.UNKNOWN_SYMBOL),
    ],
)
def test_refusals(settings, text: str, code: RefusalCode) -> None:
    result = decode_signal(text, "text/plain", "pc", settings, NOW_NS)
    assert isinstance(result, Refusal), result
    assert result.code is code, result
    assert SECRET not in result.reason
