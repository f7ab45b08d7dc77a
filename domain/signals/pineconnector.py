"""PineConnector-style comma lines: ``LICENSE,buy,BTCUSDT,risk=1,sl=60000,tp=70000``.

The first field (PineConnector's license id) is the source's secret. Commands: ``buy``, ``sell``,
``buylimit``/``selllimit``/``buystop``/``sellstop`` (with ``price=``), ``closelong``,
``closeshort``, ``closeall``, and ``closelongsell``/``closeshortbuy`` (reverse). ``risk=N`` is a
quantity or a percent of equity as the source configures. Unlike PineConnector (which counts
``sl``/``tp`` in pips for forex), ``sl``, ``tp``, ``slprice`` and ``tpprice`` are prices here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.signal import Intent, Size, SizeKind
from domain.signals.build import Parsed, make_order, make_signal, returns_refusal
from domain.signals.coerce import invalid, to_positive, to_text
from domain.signals.refusal import RefusalCode, Refused, show
from domain.signals.secret import verify_secret
from domain.signals.settings import SignalFormat, SourceSettings

COMMANDS: dict[str, tuple[Intent, str | None, str]] = {
    "buy": (Intent.ENTER_LONG, None, "market"),
    "sell": (Intent.ENTER_SHORT, None, "market"),
    "buylimit": (Intent.ENTER_LONG, None, "limit"),
    "selllimit": (Intent.ENTER_SHORT, None, "limit"),
    "buystop": (Intent.ENTER_LONG, None, "stop_market"),
    "sellstop": (Intent.ENTER_SHORT, None, "stop_market"),
    "closelong": (Intent.EXIT, "long", "market"),
    "closeshort": (Intent.EXIT, "short", "market"),
    "closeall": (Intent.EXIT, None, "market"),
    "closelongsell": (Intent.REVERSE, None, "market"),
    "closeshortbuy": (Intent.REVERSE, None, "market"),
}
KEYS = frozenset({"risk", "sl", "tp", "slprice", "tpprice", "price", "comment"})
_MAX_FIELDS = 20


def looks_like_pineconnector(line: str) -> bool:
    fields = line.split(",")
    return len(fields) >= 3 and fields[1].strip().lower() in COMMANDS


def parse_pineconnector_line(
    body: str, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    line = body.strip()
    if "\n" in line or "\r" in line:
        raise Refused(RefusalCode.MALFORMED, "send one PineConnector command per alert")
    fields = [f.strip() for f in line.split(",")]
    verify_secret(fields[0] or None, settings.secret, "the first field (license id)")
    if len(fields) < 3 or len(fields) > _MAX_FIELDS:
        raise Refused(RefusalCode.MALFORMED, "expected LICENSE,COMMAND,SYMBOL[,key=value...]")
    command = fields[1].lower()
    if command not in COMMANDS:
        raise Refused(RefusalCode.MALFORMED, "the command must be one of " + ", ".join(COMMANDS))
    intent, exit_side, order_type = COMMANDS[command]
    resolved = settings.symbols.resolve(fields[2])
    options = _options(fields[3:])
    return Parsed(
        signal=make_signal(
            source=source,
            instrument=resolved.instrument,
            intent=intent,
            exit_side=exit_side,
            size=_size(options, settings),
            order=_order(order_type, options),
            stop_loss=_price(options, "slprice", "sl"),
            take_profit=_price(options, "tpprice", "tp"),
            venue=resolved.venue,
            ts_ns=now_ns,
            tags=(f"pineconnector:{command}",)
            + ((f"comment:{options['comment']}",) if "comment" in options else ()),
        ),
        format=SignalFormat.PINECONNECTOR,
    )


@returns_refusal(SignalFormat.PINECONNECTOR)
def parse_pineconnector(
    body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    return parse_pineconnector_line(body, source, settings, now_ns)


def _options(fields: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for field in fields:
        if not field:
            continue
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        if not sep or key not in KEYS:
            raise invalid(
                f"unknown PineConnector parameter {show(key)}; known: {', '.join(sorted(KEYS))}"
            )
        if key in options:
            raise invalid(f"parameter {key!r} is given twice")
        value = value.strip()
        if key == "comment":
            value = to_text(value.strip('"'), "comment", 100)
        options[key] = value
    return options


def _size(options: dict[str, str], settings: SourceSettings) -> Size:
    if "risk" not in options:
        return Size(kind=SizeKind.RISK)
    value = to_positive(options["risk"], "risk")
    if settings.pineconnector_risk is SizeKind.PERCENT_EQUITY and value > 100:
        raise invalid("risk is a percent of equity here and must be at most 100")
    return Size(kind=settings.pineconnector_risk, value=value)


def _price(options: dict[str, str], *keys: str) -> Decimal | None:
    given = [k for k in keys if k in options]
    if len(given) > 1:
        raise invalid(f"give only one of {' or '.join(keys)}")
    return to_positive(options[given[0]], given[0]) if given else None


def _order(order_type: str, options: dict[str, str]) -> Any:
    price = _price(options, "price")
    if order_type == "market":
        return make_order(type="market")
    if price is None:
        raise invalid(f"a {order_type.replace('_', ' ')} command needs price=")
    if order_type == "limit":
        return make_order(type="limit", limit_price=price)
    return make_order(type="stop_market", stop_price=price)
