"""TradingView strategy alerts: a JSON template filled from the ``{{strategy.*}}`` placeholders.

The position size after the order (``{{strategy.position_size}}``, signed) becomes a
``target_position`` signal, so a repeated or late duplicate alert asks for the same position
again and does no harm. Without a position size the order itself is used: ``buy`` enters long,
``sell`` enters short, with ``{{strategy.order.contracts}}`` as quantity. ``{{strategy.order.id}}``
is an order *name* ("Long") that repeats across trades, so it only makes an alert id together
with the ticker and ``{{timenow}}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.signal import Intent, OrderPreference, Size, SizeKind
from domain.signals.build import (
    Parsed,
    drop_format_hint,
    make_order,
    make_signal,
    returns_refusal,
    take_secret,
)
from domain.signals.coerce import (
    invalid,
    to_bool,
    to_decimal,
    to_positive,
    to_text,
    to_time_ns,
)
from domain.signals.settings import SignalFormat, SourceSettings
from domain.signals.strict_json import loads_object

ALIASES = {
    "symbol": "ticker",
    "close": "price",
    "timenow": "time",
    "timestamp": "time",
    "stop_loss": "sl",
    "take_profit": "tp",
}
KEYS = frozenset(
    {
        "ticker",
        "exchange",
        "action",
        "contracts",
        "position_size",
        "market_position",
        "market_position_size",
        "prev_market_position",
        "prev_market_position_size",
        "order_id",
        "alert_id",
        "comment",
        "price",
        "time",
        "sl",
        "tp",
        "order_type",
        "limit_price",
        "stop_price",
        "reduce_only",
        "venue",
        "strategy",
        "interval",
        "tags",
    }
)
_POSITIONS = ("long", "short", "flat")


def parse_tradingview_object(
    obj: dict[str, Any], source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    obj = dict(obj)
    take_secret(obj, settings)
    drop_format_hint(obj)
    fields = _canonical_keys(obj)
    if "ticker" not in fields:
        raise invalid("field 'ticker' is required (use {{ticker}})")
    exchange = to_text(fields["exchange"], "exchange", 40) if "exchange" in fields else None
    resolved = settings.symbols.resolve(to_text(fields["ticker"], "ticker", 80), exchange)
    intent, target, size = _intent(fields)
    time_text = to_text(fields["time"], "time") if "time" in fields else None
    ts_ns = to_time_ns(fields["time"], "time") if time_text else now_ns
    return Parsed(
        signal=make_signal(
            source=source,
            instrument=resolved.instrument,
            intent=intent,
            target=target,
            size=size,
            order=_order(fields),
            stop_loss=_opt_positive(fields, "sl"),
            take_profit=_opt_positive(fields, "tp"),
            venue=to_text(fields["venue"], "venue") if "venue" in fields else resolved.venue,
            alert_id=_alert_id(fields, time_text),
            ts_ns=ts_ns,
            price_hint=_opt_positive(fields, "price"),
            tags=_tags(fields),
        ),
        format=SignalFormat.TRADINGVIEW,
    )


@returns_refusal(SignalFormat.TRADINGVIEW)
def parse_tradingview(
    body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    return parse_tradingview_object(loads_object(body), source, settings, now_ns)


def _canonical_keys(obj: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in obj.items():
        name = ALIASES.get(key, key)
        if name not in KEYS:
            raise invalid(
                f"unknown field {key[:40]!r} in a TradingView alert; known fields: "
                + ", ".join(sorted(KEYS))
            )
        if name in fields:
            raise invalid(f"field {name!r} is given twice (under two names)")
        if value is not None and value != "":
            fields[name] = value
    return fields


def _position(fields: dict[str, Any], key: str) -> str | None:
    if key not in fields:
        return None
    value = to_text(fields[key], key).lower()
    if value not in _POSITIONS:
        raise invalid(f"field {key!r} must be one of long, short, flat")
    return value


def _intent(fields: dict[str, Any]) -> tuple[Intent, Decimal | None, Size]:
    """Target position when the alert says where the position ends up, else the order."""
    market = _position(fields, "market_position")
    _position(fields, "prev_market_position")
    if "position_size" in fields:
        signed = to_decimal(fields["position_size"], "position_size")
        return Intent.TARGET_POSITION, _signed(signed, market), Size(kind=SizeKind.RISK)
    if "market_position_size" in fields and market is not None:
        size = to_decimal(fields["market_position_size"], "market_position_size")
        return Intent.TARGET_POSITION, _signed(size, market), Size(kind=SizeKind.RISK)
    if market == "flat":
        return Intent.TARGET_POSITION, Decimal(0), Size(kind=SizeKind.RISK)
    if "action" not in fields:
        raise invalid(
            "a TradingView alert needs 'position_size' ({{strategy.position_size}}, "
            "recommended), 'market_position' or 'action' ({{strategy.order.action}})"
        )
    action = to_text(fields["action"], "action").lower()
    intents = {"buy": Intent.ENTER_LONG, "sell": Intent.ENTER_SHORT}
    if action not in intents:
        raise invalid("field 'action' must be buy or sell")
    if "contracts" in fields:
        size = Size(kind=SizeKind.QUANTITY, value=to_positive(fields["contracts"], "contracts"))
    else:
        size = Size(kind=SizeKind.RISK)
    return intents[action], None, size


def _signed(size: Decimal, market: str | None) -> Decimal:
    if market == "flat":
        if size != 0:
            raise invalid("market_position is flat but the position size is not zero")
        return Decimal(0)
    if market == "long":
        return abs(size)
    if market == "short":
        return abs(size).copy_negate()
    return size


def _order(fields: dict[str, Any]) -> OrderPreference:
    kind = to_text(fields.get("order_type", "market"), "order_type").lower()
    options: dict[str, Any] = {"type": kind}
    for key in ("limit_price", "stop_price"):
        if key in fields:
            options[key] = to_positive(fields[key], key)
    if "reduce_only" in fields:
        options["reduce_only"] = to_bool(fields["reduce_only"], "reduce_only")
    return make_order(**options)


def _opt_positive(fields: dict[str, Any], key: str) -> Decimal | None:
    return to_positive(fields[key], key) if key in fields else None


def _alert_id(fields: dict[str, Any], time_text: str | None) -> str | None:
    if "alert_id" in fields:
        return to_text(fields["alert_id"], "alert_id")
    if "order_id" in fields and time_text:
        ticker = to_text(fields["ticker"], "ticker", 80)
        return f"{ticker}:{to_text(fields['order_id'], 'order_id', 80)}@{time_text[:30]}"
    return None


def _tags(fields: dict[str, Any]) -> tuple[str, ...]:
    tags: list[str] = []
    for key in ("strategy", "order_id", "comment", "interval"):
        if key in fields:
            tags.append(f"{key}:{to_text(fields[key], key)}")
    extra = fields.get("tags", [])
    if isinstance(extra, str):
        extra = [extra]
    if not isinstance(extra, list) or len(extra) > 20:
        raise invalid("field 'tags' must be a list of at most 20 texts")
    tags.extend(to_text(tag, "tags", 100) for tag in extra)
    return tuple(tags)
