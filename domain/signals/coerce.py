"""Turning a sender's loosely typed values into exact ones, with a clear refusal otherwise.

TradingView substitutes placeholders as text, so ``"0.01"`` and ``0.01`` must both work, while
``"NaN"``, ``"1e999999"`` or an unsubstituted ``"{{close}}"`` must not. Numbers become ``Decimal``
within a sane range (a huge exponent would make formatting the number a denial of service).
Times accept ISO 8601 (``{{timenow}}``) and epoch seconds, milliseconds, micro- or nanoseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from domain.signals.refusal import RefusalCode, Refused, show

MAX_DIGITS = 28
MAX_ADJUSTED_EXPONENT = 15
MIN_ADJUSTED_EXPONENT = -18
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def invalid(message: str) -> Refused:
    return Refused(RefusalCode.INVALID, message)


def check_placeholder(value: object, field: str) -> None:
    if isinstance(value, str) and "{{" in value:
        raise invalid(
            f"field {field!r} still holds the placeholder {show(value)}: TradingView did not "
            "substitute it (strategy placeholders only work in alerts created from a strategy)"
        )


def decimal_in_range(value: Decimal, field: str) -> Decimal:
    if not value.is_finite():
        raise invalid(f"field {field!r} must be a finite number")
    if value.is_zero():
        return Decimal(0)
    digits = value.as_tuple().digits
    if len(digits) > MAX_DIGITS:
        raise invalid(f"field {field!r} has more than {MAX_DIGITS} significant digits")
    if not (MIN_ADJUSTED_EXPONENT <= value.adjusted() <= MAX_ADJUSTED_EXPONENT):
        raise invalid(f"field {field!r} is out of range")
    return value


def to_decimal(value: object, field: str) -> Decimal:
    """A finite, in-range ``Decimal`` from a JSON number or numeric string."""
    check_placeholder(value, field)
    if isinstance(value, bool) or value is None:
        raise invalid(f"field {field!r} must be a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        if abs(value) >= 10 ** (MAX_ADJUSTED_EXPONENT + 1):
            raise invalid(f"field {field!r} is out of range")
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if not text or len(text) > 64:
            raise invalid(f"field {field!r} must be a number, not {show(value)}")
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            raise invalid(f"field {field!r} must be a number, not {show(value)}") from None
    else:
        raise invalid(f"field {field!r} must be a number")
    return decimal_in_range(number, field)


def to_positive(value: object, field: str) -> Decimal:
    number = to_decimal(value, field)
    if number <= 0:
        raise invalid(f"field {field!r} must be greater than zero")
    return number


def to_text(value: object, field: str, max_len: int = 200) -> str:
    check_placeholder(value, field)
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise invalid(f"field {field!r} must be text")
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    text = text.strip()
    if len(text) > max_len:
        raise invalid(f"field {field!r} is longer than {max_len} characters")
    return text


def to_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off"):
        return False
    raise invalid(f"field {field!r} must be true or false")


def to_time_ns(value: object, field: str) -> int:
    """UTC nanoseconds from ISO 8601 text or an epoch number (s, ms, us or ns by magnitude)."""
    check_placeholder(value, field)
    if isinstance(value, str) and not _looks_numeric(value):
        return _iso_to_ns(value, field)
    number = to_decimal(value, field) if not isinstance(value, int | bool) else value
    if isinstance(number, bool) or number < 0:
        raise invalid(f"field {field!r} must be a time after 1970")
    magnitude = abs(number)
    if magnitude < 10**11:
        scale = 10**9
    elif magnitude < 10**14:
        scale = 10**6
    elif magnitude < 10**17:
        scale = 10**3
    else:
        scale = 1
    return int(Decimal(number) * scale)


def _looks_numeric(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and stripped.replace(".", "", 1).isdigit() and stripped.isascii()


def _iso_to_ns(text: str, field: str) -> int:
    stripped = text.strip()
    if len(stripped) > 40:
        raise invalid(f"field {field!r} is not a time")
    try:
        moment = datetime.fromisoformat(stripped)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        micros = (moment - _EPOCH) // timedelta(microseconds=1)
    except (ValueError, OverflowError):
        raise invalid(
            f"field {field!r} must be an ISO 8601 time like 2024-05-01T12:00:00Z "
            f"or epoch seconds/milliseconds, not {show(text)}"
        ) from None
    if micros < 0:
        raise invalid(f"field {field!r} must be a time after 1970")
    return micros * 1000
