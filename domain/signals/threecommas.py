"""3Commas-style signal JSON, so alerts written for a 3Commas Signal Bot work unchanged.

Signal Bot messages carry ``tv_instrument``/``tv_exchange``, an ``action`` (``buy``/``sell`` from a
strategy, or ``enter_long``/``exit_long``/``enter_short``/``exit_short``), an optional
``strategy_info`` (then the position after the order is the target, as for TradingView) and an
``order`` with ``amount`` and ``currency_type`` (base, quote, or margin_percent). ``max_lag``
tightens the source's staleness limit. The older DCA-bot message (``message_type: bot``,
``email_token`` as the secret, ``pair`` as ``QUOTE_BASE``) is read too. As 3Commas does, fields
we do not use are ignored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.signal import Intent, Size, SizeKind
from domain.signals.build import Parsed, make_signal, returns_refusal
from domain.signals.coerce import invalid, to_decimal, to_positive, to_text, to_time_ns
from domain.signals.secret import verify_secret
from domain.signals.settings import SignalFormat, SourceSettings
from domain.signals.strict_json import loads_object

_CURRENCY_KINDS = {
    "base": SizeKind.QUANTITY,
    "quote": SizeKind.NOTIONAL,
    "margin_percent": SizeKind.PERCENT_EQUITY,
}
_ACTIONS = {
    "enter_long": (Intent.ENTER_LONG, None),
    "enter_short": (Intent.ENTER_SHORT, None),
    "exit_long": (Intent.EXIT, "long"),
    "exit_short": (Intent.EXIT, "short"),
    "buy": (Intent.ENTER_LONG, None),
    "sell": (Intent.ENTER_SHORT, None),
}


def is_threecommas(obj: dict[str, Any]) -> bool:
    return any(key in obj for key in ("bot_uuid", "tv_instrument", "email_token"))


def parse_threecommas_object(
    obj: dict[str, Any], source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    if "email_token" in obj and "secret" not in obj:
        return _parse_dca(obj, source, settings, now_ns)
    verify_secret(obj.get("secret"), settings.secret)
    if obj.get("tv_instrument") in (None, ""):
        raise invalid("field 'tv_instrument' is required (use {{ticker}})")
    exchange = to_text(obj["tv_exchange"], "tv_exchange", 40) if obj.get("tv_exchange") else None
    ticker = to_text(obj["tv_instrument"], "tv_instrument", 80)
    resolved = settings.symbols.resolve(ticker, exchange)
    action = to_text(obj.get("action", ""), "action").lower()
    if action not in _ACTIONS:
        raise invalid("field 'action' must be one of " + ", ".join(_ACTIONS))
    intent, exit_side = _ACTIONS[action]
    target = _target(obj.get("strategy_info")) if action in ("buy", "sell") else None
    if target is not None:
        intent = Intent.TARGET_POSITION
    ts_ns = to_time_ns(obj["timestamp"], "timestamp") if obj.get("timestamp") else now_ns
    max_lag = to_positive(obj["max_lag"], "max_lag") if obj.get("max_lag") else None
    signal = make_signal(
        source=source,
        instrument=resolved.instrument,
        intent=intent,
        target=target,
        size=_size(obj.get("order")) if target is None else Size(kind=SizeKind.RISK),
        exit_side=exit_side,
        venue=resolved.venue,
        ts_ns=ts_ns,
        price_hint=to_positive(obj["trigger_price"], "trigger_price")
        if obj.get("trigger_price")
        else None,
        tags=("3commas",),
    )
    return Parsed(
        signal=signal,
        format=SignalFormat.THREECOMMAS,
        max_lag_s=float(max_lag) if max_lag is not None else None,
    )


@returns_refusal(SignalFormat.THREECOMMAS)
def parse_threecommas(
    body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    return parse_threecommas_object(loads_object(body), source, settings, now_ns)


def _target(info: object) -> Decimal | None:
    if info is None:
        return None
    if not isinstance(info, dict):
        raise invalid("field 'strategy_info' must be an object")
    if not info.get("market_position"):
        return None
    market = to_text(info["market_position"], "strategy_info.market_position").lower()
    if market == "flat":
        return Decimal(0)
    if market not in ("long", "short"):
        raise invalid("field 'strategy_info.market_position' must be long, short or flat")
    if info.get("market_position_size") in (None, ""):
        raise invalid("field 'strategy_info.market_position_size' is required with a position")
    size = abs(to_decimal(info["market_position_size"], "strategy_info.market_position_size"))
    return size if market == "long" else size.copy_negate()


def _size(order: object) -> Size:
    if order is None:
        return Size(kind=SizeKind.RISK)
    if not isinstance(order, dict):
        raise invalid("field 'order' must be an object")
    if order.get("amount") in (None, ""):
        return Size(kind=SizeKind.RISK)
    currency = to_text(order.get("currency_type", "base"), "order.currency_type").lower()
    if currency not in _CURRENCY_KINDS:
        raise invalid("field 'order.currency_type' must be one of " + ", ".join(_CURRENCY_KINDS))
    amount = to_positive(order["amount"], "order.amount")
    kind = _CURRENCY_KINDS[currency]
    if kind is SizeKind.PERCENT_EQUITY and amount > 100:
        raise invalid("field 'order.amount' is a percentage and must be at most 100")
    return Size(kind=kind, value=amount)


def _parse_dca(obj: dict[str, Any], source: str, settings: SourceSettings, now_ns: int) -> Parsed:
    verify_secret(obj.get("email_token"), settings.secret, "'email_token'")
    if obj.get("pair") in (None, ""):
        raise invalid("field 'pair' is required, e.g. USDT_BTC")
    pair = to_text(obj["pair"], "pair", 80).upper()
    quote, sep, base = pair.partition("_")
    if not sep or not quote or not base:
        raise invalid("field 'pair' must be QUOTE_BASE, e.g. USDT_BTC")
    resolved = settings.symbols.resolve(f"{base}/{quote}")
    action = to_text(obj.get("action", "start_deal"), "action").lower()
    intents = {"start_deal": Intent.ENTER_LONG, "close_at_market_price": Intent.EXIT}
    if action not in intents:
        raise invalid("field 'action' must be start_deal or close_at_market_price")
    signal = make_signal(
        source=source,
        instrument=resolved.instrument,
        intent=intents[action],
        venue=resolved.venue,
        ts_ns=now_ns,
        tags=("3commas", "dca"),
    )
    return Parsed(signal=signal, format=SignalFormat.THREECOMMAS)
