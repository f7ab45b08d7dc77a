"""Format detection, allowed formats, strict JSON, staleness: the decoder as a whole."""

from __future__ import annotations

import pytest

from domain.signals import (
    Parsed,
    Refusal,
    RefusalCode,
    SignalFormat,
    SourceSettings,
    check_fresh,
    decode_signal,
    detect,
)
from domain.signals.refusal import Refused
from domain.signals.strict_json import loads_object
from tests.domain.signals.conftest import NOW_NS, SECRET


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        ('{"intent":"exit","instrument":"BTC-USDT"}', SignalFormat.NATIVE),
        ('{"ticker":"BTCUSDT","action":"buy"}', SignalFormat.TRADINGVIEW),
        ('{"position_size":"1"}', SignalFormat.TRADINGVIEW),
        ('{"bot_uuid":"x","tv_instrument":"BTCUSDT"}', SignalFormat.THREECOMMAS),
        ('{"format":"native","ticker":"x"}', SignalFormat.NATIVE),
        ("abc,buy,BTCUSDT,risk=1", SignalFormat.PINECONNECTOR),
        ("buy BTCUSDT 0.1", SignalFormat.TEXT),
        ("  close, now", SignalFormat.TEXT),
    ],
)
def test_detect(body: str, fmt: SignalFormat) -> None:
    assert detect(body, None)[0] is fmt


def test_format_not_allowed_is_refused() -> None:
    settings = SourceSettings(secret=SECRET, formats=frozenset({SignalFormat.TRADINGVIEW}))
    result = decode_signal(f"buy BTCUSDT 1 secret={SECRET}", "text/plain", "s", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.FORMAT_NOT_ALLOWED
    assert "tradingview" in result.reason


def test_json_content_type_with_a_text_body_is_malformed(settings) -> None:
    result = decode_signal(f"buy BTCUSDT 1 secret={SECRET}", "application/json", "s", settings, 0)
    assert isinstance(result, Refusal) and result.code is RefusalCode.MALFORMED


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "Infinity"),
        ('{"secret": "x", "secret": "y"}', "twice"),
        ("[1, 2]", "object"),
        ('{"a": 1', "not valid JSON"),
        ("[" * 5000, "not valid JSON"),
    ],
)
def test_strict_json(text: str, words: str) -> None:
    with pytest.raises(Refused) as caught:
        loads_object(text)
    assert caught.value.code is RefusalCode.MALFORMED
    assert words in caught.value.reason


def test_strict_json_keeps_decimals_exact() -> None:
    assert str(loads_object('{"p": 64213.123456789012345678}')["p"]) == "64213.123456789012345678"


def test_empty_and_junk_bodies_are_refused_not_raised(settings) -> None:
    for body in ["", "   ", "\x00\x01\x02", "{" * 10, "💥💥", "a,b", "buy"]:
        result = decode_signal(body, None, "s", settings, NOW_NS)
        assert isinstance(result, Refusal)
        assert result.code is not RefusalCode.PARSER_ERROR


def test_staleness_window() -> None:
    second = 1_000_000_000
    check_fresh(NOW_NS - 59 * second, NOW_NS, 60, 30)
    check_fresh(NOW_NS + 29 * second, NOW_NS, 60, 30)
    check_fresh(NOW_NS - 10_000 * second, NOW_NS, None, 30)
    with pytest.raises(Refused) as stale:
        check_fresh(NOW_NS - 61 * second, NOW_NS, 60, 30)
    assert stale.value.code is RefusalCode.STALE
    with pytest.raises(Refused) as ahead:
        check_fresh(NOW_NS + 31 * second, NOW_NS, 60, 30)
    assert ahead.value.code is RefusalCode.FROM_FUTURE


def test_stale_alert_is_refused_by_its_own_time(settings) -> None:
    old = f"buy BTCUSDT 1 time=2024-05-01T11:58:00Z secret={SECRET}"
    result = decode_signal(old, None, "s", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.STALE
    fresh = f"buy BTCUSDT 1 time=1714564790 secret={SECRET}"
    assert isinstance(decode_signal(fresh, None, "s", settings, NOW_NS), Parsed)
