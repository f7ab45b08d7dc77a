"""One-line text commands: ``buy BTCUSDT 0.01 sl=60000 tp=70000 secret=...``.

The shape is ``VERB TICKER [SIZE] [@LIMIT] [key=value ...]``. Verbs: ``buy``/``long``,
``sell``/``short`` (enter short), ``close``/``exit``/``flat`` (``closelong``/``closeshort`` to exit
one side only), ``reverse``/``flip``, and ``target`` (a signed target position). SIZE is a
quantity (``0.01``), a percent of equity (``10%``) or a notional in quote currency (``$250``).
The secret is the ``secret=`` word and is checked before anything else is read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.signal import Intent, Size, SizeKind
from domain.signals.build import Parsed, make_order, make_signal, returns_refusal
from domain.signals.coerce import invalid, to_bool, to_decimal, to_positive, to_text, to_time_ns
from domain.signals.refusal import RefusalCode, Refused, show
from domain.signals.secret import verify_secret
from domain.signals.settings import SignalFormat, SourceSettings

VERBS: dict[str, tuple[Intent, str | None]] = {
    "buy": (Intent.ENTER_LONG, None),
    "long": (Intent.ENTER_LONG, None),
    "sell": (Intent.ENTER_SHORT, None),
    "short": (Intent.ENTER_SHORT, None),
    "close": (Intent.EXIT, None),
    "exit": (Intent.EXIT, None),
    "flat": (Intent.EXIT, None),
    "closelong": (Intent.EXIT, "long"),
    "exitlong": (Intent.EXIT, "long"),
    "closeshort": (Intent.EXIT, "short"),
    "exitshort": (Intent.EXIT, "short"),
    "reverse": (Intent.REVERSE, None),
    "flip": (Intent.REVERSE, None),
    "target": (Intent.TARGET_POSITION, None),
}
KEYS = frozenset(
    {
        "qty",
        "notional",
        "pct",
        "sl",
        "tp",
        "limit",
        "stop",
        "price",
        "tif",
        "id",
        "venue",
        "tag",
        "time",
        "post_only",
        "reduce_only",
    }
)
_KEY_ALIASES = {"size": "qty", "usd": "notional", "percent": "pct", "ts": "time"}
_FLAGS = ("post_only", "reduce_only")
_MAX_TOKENS = 40


def parse_text_command_line(
    body: str, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    line = body.strip()
    if not line:
        raise Refused(RefusalCode.MALFORMED, "the body is empty")
    if "\n" in line or "\r" in line:
        raise Refused(RefusalCode.MALFORMED, "send one command per alert, on one line")
    tokens = line.split()
    secrets = [t for t in tokens if t.lower().startswith("secret=")]
    if len(secrets) > 1:
        raise Refused(RefusalCode.BAD_SECRET, "give secret= only once")
    verify_secret(secrets[0][7:] if secrets else None, settings.secret, "secret=...")
    tokens = [t for t in tokens if not t.lower().startswith("secret=")]
    if len(tokens) > _MAX_TOKENS:
        raise Refused(RefusalCode.MALFORMED, f"a command has at most {_MAX_TOKENS} words")
    if len(tokens) < 2:
        raise Refused(RefusalCode.MALFORMED, "a command is VERB TICKER [SIZE] [key=value ...]")
    verb = tokens[0].lower()
    if verb not in VERBS:
        raise Refused(
            RefusalCode.MALFORMED, "the first word must be one of " + ", ".join(sorted(VERBS))
        )
    intent, exit_side = VERBS[verb]
    resolved = settings.symbols.resolve(tokens[1])
    options = _options(tokens[2:])
    target = None
    if intent is Intent.TARGET_POSITION:
        if "amount" not in options:
            raise invalid("'target' needs a signed position, e.g. target BTCUSDT -0.5")
        target = options.pop("amount")
    elif "amount" in options:
        _set(options, "qty", options.pop("amount"))
    size = _size(options) if target is None else Size(kind=SizeKind.RISK)
    tags = tuple(options.get("tags", ()))
    return Parsed(
        signal=make_signal(
            source=source,
            instrument=resolved.instrument,
            intent=intent,
            exit_side=exit_side,
            target=target,
            size=size,
            order=_order(options),
            stop_loss=_price(options, "sl"),
            take_profit=_price(options, "tp"),
            venue=options.get("venue", resolved.venue),
            alert_id=options.get("id"),
            ts_ns=to_time_ns(options["time"], "time") if "time" in options else now_ns,
            price_hint=_price(options, "price"),
            tags=tags,
        ),
        format=SignalFormat.TEXT,
    )


@returns_refusal(SignalFormat.TEXT)
def parse_text_command(
    body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
) -> Parsed:
    return parse_text_command_line(body, source, settings, now_ns)


def _options(tokens: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"tags": []}
    for token in tokens:
        key, sep, value = token.partition("=")
        key = _KEY_ALIASES.get(key.lower(), key.lower())
        if not sep:
            _positional(token, options)
            continue
        if key not in KEYS:
            raise invalid(f"unknown option {show(key)}; known: {', '.join(sorted(KEYS))}")
        if key == "tag":
            options["tags"].append(to_text(value, "tag", 100))
            continue
        _set(options, key, value)
    return options


def _positional(token: str, options: dict[str, Any]) -> None:
    lower = token.lower()
    if lower in _FLAGS:
        _set(options, lower, "true")
    elif token.startswith("@"):
        _set(options, "limit", token[1:])
    elif token.endswith("%"):
        _set(options, "pct", token[:-1])
    elif token.startswith("$"):
        _set(options, "notional", token[1:])
    else:
        _set(options, "amount", to_decimal(token, "size"))


def _set(options: dict[str, Any], key: str, value: object) -> None:
    if key in options:
        raise invalid(f"option {'size' if key == 'amount' else key!r} is given twice")
    options[key] = value


def _size(options: dict[str, Any]) -> Size:
    given = [k for k in ("qty", "notional", "pct") if k in options]
    if len(given) > 1:
        raise invalid("give one size: a quantity, a notional ($) or a percent (%)")
    if not given:
        return Size(kind=SizeKind.RISK)
    key = given[0]
    value = to_positive(options[key], key)
    if key == "pct":
        if value > 100:
            raise invalid("a percent size must be at most 100")
        return Size(kind=SizeKind.PERCENT_EQUITY, value=value)
    return Size(kind=SizeKind.NOTIONAL if key == "notional" else SizeKind.QUANTITY, value=value)


def _price(options: dict[str, Any], key: str) -> Decimal | None:
    return to_positive(options[key], key) if key in options else None


def _order(options: dict[str, Any]) -> Any:
    limit, stop = _price(options, "limit"), _price(options, "stop")
    if limit is not None and stop is not None:
        kind = "stop_limit"
    elif limit is not None:
        kind = "limit"
    elif stop is not None:
        kind = "stop_market"
    else:
        kind = "market"
    fields: dict[str, Any] = {"type": kind, "limit_price": limit, "stop_price": stop}
    if "tif" in options:
        fields["time_in_force"] = to_text(options["tif"], "tif").lower()
    for flag in _FLAGS:
        if flag in options:
            fields[flag] = to_bool(options[flag], flag)
    return make_order(**fields)
