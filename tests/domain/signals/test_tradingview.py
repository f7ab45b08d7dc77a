from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from domain.signal import Intent, SizeKind
from domain.signals import Parsed, Refusal, RefusalCode, SignalFormat, decode_signal
from domain.signals.tradingview import parse_tradingview
from tests.domain.signals.conftest import NOW_ISO, NOW_NS, SECRET

# The template users paste into TradingView's alert message box (strategy alerts), shown here
# after TradingView substituted the placeholders, as it arrives at the webhook.
TEMPLATE = """{
  "secret": "%(secret)s",
  "ticker": "{{ticker}}",
  "exchange": "{{exchange}}",
  "action": "{{strategy.order.action}}",
  "contracts": "{{strategy.order.contracts}}",
  "position_size": "{{strategy.position_size}}",
  "market_position": "{{strategy.market_position}}",
  "prev_market_position": "{{strategy.prev_market_position}}",
  "order_id": "{{strategy.order.id}}",
  "price": "{{close}}",
  "time": "{{timenow}}"
}"""


def substitute(**values: str) -> str:
    body = TEMPLATE % {"secret": SECRET}
    defaults = {
        "ticker": "BTCUSDT.P",
        "exchange": "BINANCE",
        "strategy.order.action": "buy",
        "strategy.order.contracts": "0.015",
        "strategy.position_size": "0.015",
        "strategy.market_position": "long",
        "strategy.prev_market_position": "flat",
        "strategy.order.id": "Long",
        "close": "64213.7",
        "timenow": NOW_ISO,
    }
    defaults.update({k.replace("__", "."): v for k, v in values.items()})
    for name, value in defaults.items():
        body = body.replace("{{" + name + "}}", value)
    return body


def tv(**fields: object) -> str:
    return orjson.dumps({"secret": SECRET, **fields}).decode()


def parse(body: str, settings, content_type: str | None = "application/json") -> Parsed:
    result = decode_signal(body, content_type, "tv", settings, NOW_NS)
    assert isinstance(result, Parsed), result
    assert result.format is SignalFormat.TRADINGVIEW
    return result


def test_long_entry_is_a_target_position(settings) -> None:
    signal = parse(substitute(), settings).signal
    assert signal.intent is Intent.TARGET_POSITION
    assert signal.target == Decimal("0.015")
    assert signal.instrument == "BTC-USDT-PERP"
    assert signal.price_hint == Decimal("64213.7")
    assert signal.ts_ns == NOW_NS
    assert signal.alert_id == f"BTCUSDT.P:Long@{NOW_ISO}"
    assert signal.source == "tv"


def test_short_entry_targets_a_negative_position(settings) -> None:
    body = substitute(
        strategy__order__action="sell",
        strategy__order__contracts="0.03",
        strategy__position_size="-0.015",
        strategy__market_position="short",
        strategy__prev_market_position="long",
        strategy__order__id="Short",
    )
    signal = parse(body, settings).signal
    assert signal.intent is Intent.TARGET_POSITION
    assert signal.target == Decimal("-0.015")


def test_exit_to_flat_targets_zero(settings) -> None:
    body = substitute(
        strategy__order__action="sell",
        strategy__position_size="0",
        strategy__market_position="flat",
        strategy__prev_market_position="long",
        strategy__order__id="Exit Long",
    )
    assert parse(body, settings).signal.target == Decimal(0)


def test_a_repeated_alert_asks_for_the_same_target(settings) -> None:
    first = parse(substitute(), settings).signal
    again = parse(substitute(timenow="2024-05-01T12:00:05Z"), settings).signal
    assert first.intent is again.intent is Intent.TARGET_POSITION
    assert first.target == again.target


def test_market_position_gives_the_sign_when_size_is_unsigned(settings) -> None:
    obj = orjson.loads(substitute(strategy__market_position="short"))
    body = orjson.dumps(obj).decode()
    assert parse(body, settings).signal.target == Decimal("-0.015")


def test_unquoted_numbers_work(settings) -> None:
    body = tv(ticker="ETHUSDT", action="buy", position_size=1.5, price=3012.25, time=1714564800000)
    signal = parse(body, settings).signal
    assert signal.target == Decimal("1.5")
    assert signal.ts_ns == NOW_NS
    assert signal.instrument == "ETH-USDT"


def test_order_without_position_size_enters_with_contracts(settings) -> None:
    body = tv(ticker="BINANCE:BTCUSDT", action="sell", contracts="2")
    signal = parse(body, settings).signal
    assert signal.intent is Intent.ENTER_SHORT
    assert signal.size.kind is SizeKind.QUANTITY
    assert signal.size.value == Decimal(2)
    assert signal.ts_ns == NOW_NS


def test_stop_loss_take_profit_and_limit_order(settings) -> None:
    body = tv(
        ticker="BTCUSDT",
        action="buy",
        contracts="1",
        sl="60000",
        tp="70000",
        order_type="limit",
        limit_price="64000",
        comment="breakout",
    )
    signal = parse(body, settings).signal
    assert signal.stop_loss == Decimal(60000)
    assert signal.take_profit == Decimal(70000)
    assert signal.order.type.value == "limit"
    assert signal.order.limit_price == Decimal(64000)
    assert "comment:breakout" in signal.tags


def test_text_plain_content_type_with_json_body_still_parses(settings) -> None:
    parse(substitute(), settings, content_type="text/plain")


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (substitute(strategy__position_size="{{strategy.position_size}}"), "invalid", "substitute"),
        (substitute().replace('"ticker"', '"tickr"'), "invalid", "unknown field"),
        (substitute(strategy__market_position="sideways"), "invalid", "market_position"),
        (substitute(close="-1"), "invalid", "price"),
        (substitute(strategy__position_size="abc"), "invalid", "position_size"),
        (substitute(ticker="FOOBAR"), "unknown_symbol", "FOOBAR"),
        (substitute(timenow="yesterday"), "invalid", "ISO 8601"),
        (substitute(timenow="2024-05-01T11:50:00Z"), "stale", "old"),
        (tv(exchange="BINANCE", action="buy"), "invalid", "ticker"),
        (tv(ticker="BTCUSDT", action="hold"), "invalid", "buy or sell"),
    ],
)
def test_refusals_say_what_is_wrong(settings, body: str, code: str, words: str) -> None:
    result = decode_signal(body, "application/json", "tv", settings, NOW_NS)
    assert isinstance(result, Refusal)
    assert result.code == code
    assert words in result.reason
    assert SECRET not in result.reason


def test_wrong_or_missing_secret_is_refused_before_anything_else(settings) -> None:
    wrong = substitute(ticker="NOPE").replace(SECRET, "guess-guess")
    result = decode_signal(wrong, "application/json", "tv", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.BAD_SECRET
    assert "NOPE" not in result.reason and "guess-guess" not in result.reason
    missing = substitute().replace(f'"secret": "{SECRET}",', "")
    result = decode_signal(missing, "application/json", "tv", settings, NOW_NS)
    assert isinstance(result, Refusal) and result.code is RefusalCode.BAD_SECRET


def test_public_parser_returns_signal_or_refusal(settings) -> None:
    ok = parse_tradingview(substitute(), "application/json", "tv", settings, NOW_NS)
    assert isinstance(ok, Parsed)
    bad = parse_tradingview("{", "application/json", "tv", settings, NOW_NS)
    assert isinstance(bad, Refusal) and bad.code is RefusalCode.MALFORMED
