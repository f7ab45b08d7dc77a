"""Why a request did not become a signal: one machine-readable code and a human sentence.

Parsers raise ``Refused`` deep inside; the public functions return a ``Refusal`` value. Reasons
are written for the sender (what is wrong and how to fix it) and never contain a secret:
``scrub`` removes any secret text that could have slipped in, and caps the length.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import Field

from domain.values import Frozen

MAX_REASON_CHARS = 400
_MIN_SCRUB_CHARS = 4


class RefusalCode(StrEnum):
    MALFORMED = "malformed"
    """The body is not valid JSON or not a readable command (HTTP 400)."""
    PARSER_ERROR = "parser_error"
    """The body could not be interpreted at all; a parser bug, answered 400, never 5xx."""
    BAD_SECRET = "bad_secret"
    IP_NOT_ALLOWED = "ip_not_allowed"
    UNKNOWN_SOURCE = "unknown_source"
    DUPLICATE = "duplicate"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    INVALID = "invalid"
    """Well-formed but not a valid signal (a missing field, a bad value)."""
    UNKNOWN_SYMBOL = "unknown_symbol"
    FORMAT_NOT_ALLOWED = "format_not_allowed"
    STALE = "stale"
    FROM_FUTURE = "from_future"
    RATE_LIMITED = "rate_limited"


class Refusal(Frozen):
    code: RefusalCode
    reason: str = Field(max_length=MAX_REASON_CHARS)
    format: str | None = Field(default=None, description="the wire format, when it was known")


class Refused(Exception):
    """Raised inside parsers; turned into a ``Refusal`` at the public boundary."""

    def __init__(self, code: RefusalCode, reason: str) -> None:
        super().__init__(code.value)
        self.code = code
        self.reason = reason

    def to_refusal(self, secrets: Iterable[str] = (), format: str | None = None) -> Refusal:
        return Refusal(code=self.code, reason=scrub(self.reason, secrets), format=format)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secret text (and anything too long) from a message meant for the sender or tape."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SCRUB_CHARS and secret in text:
            text = text.replace(secret, "***")
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 3] + "..."
    return text


def show(value: object, limit: int = 40) -> str:
    """A short, quoted rendering of a sender's value for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
