"""Shared steps of every parser: the parse result, building a validated ``Signal``, and the
small conventions (secret and format hint keys) that all the JSON formats have in common."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pydantic import Field, ValidationError

from domain.signal import OrderPreference, Signal
from domain.signals.coerce import decimal_in_range, invalid
from domain.signals.refusal import Refusal, Refused
from domain.signals.secret import verify_secret
from domain.signals.settings import SignalFormat, SourceSettings
from domain.values import Frozen


class Parsed(Frozen):
    """A body turned into a canonical signal (before dedupe, staleness and rate limits)."""

    signal: Signal
    format: SignalFormat
    max_lag_s: float | None = Field(
        default=None, description="a stricter maximum lag the body itself asked for"
    )


def describe(exc: ValidationError, limit: int = 5) -> str:
    """A validation error as one sentence, naming fields but never echoing the input."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False)[:limit]:
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "invalid signal: " + "; ".join(parts)


def make_signal(**fields: Any) -> Signal:
    try:
        signal = Signal(**fields)
    except ValidationError as exc:
        raise invalid(describe(exc)) from None
    check_numbers(signal)
    return signal


def make_order(**options: Any) -> OrderPreference:
    try:
        return OrderPreference(**options)
    except ValidationError as exc:
        raise invalid(describe(exc)) from None


def check_numbers(signal: Signal) -> None:
    """Every decimal in range: a huge exponent would make formatting it a denial of service."""
    values = {
        "size.value": signal.size.value,
        "target": signal.target,
        "order.limit_price": signal.order.limit_price,
        "order.stop_price": signal.order.stop_price,
        "stop_loss": signal.stop_loss,
        "take_profit": signal.take_profit,
        "price_hint": signal.price_hint,
    }
    for name, value in values.items():
        if value is not None:
            decimal_in_range(value, name)


def take_secret(obj: dict[str, Any], settings: SourceSettings) -> None:
    """Check and remove the body's ``secret`` key, first, before reading anything else."""
    verify_secret(obj.pop("secret", None), settings.secret)


def drop_format_hint(obj: dict[str, Any]) -> None:
    obj.pop("format", None)


ParserFn = Callable[[str, str | None, str, SourceSettings, int], Parsed]
PublicParserFn = Callable[[str, str | None, str, SourceSettings, int], Parsed | Refusal]


def returns_refusal(fmt: SignalFormat) -> Callable[[ParserFn], PublicParserFn]:
    """Make a raising parser public: it returns a ``Parsed`` or a scrubbed ``Refusal``."""

    def wrap(fn: ParserFn) -> PublicParserFn:
        @functools.wraps(fn)
        def parse(
            body: str, content_type: str | None, source: str, settings: SourceSettings, now_ns: int
        ) -> Parsed | Refusal:
            try:
                return fn(body, content_type, source, settings, now_ns)
            except Refused as refused:
                return refused.to_refusal([settings.secret.get_secret_value()], fmt.value)

        return parse

    return wrap
