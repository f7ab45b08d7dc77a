"""ccxt failures -> ``venues.base`` errors, for the ccxt-based spot adapters.

A definite refusal is ``OrderRefused``; a timeout, 5xx or dropped connection on a write is
``OutcomeUnknown``; 429/418 is ``RateLimited``; a transient failure on a read is
``VenueUnavailable``. Messages are built from the venue's parsed reply (kept per request by the
``capturing`` exchange subclass), never from ccxt's text, which may carry URLs and signed query
strings; exception chains are cut.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

import aiohttp
import ccxt.async_support as ccxt

from domain.values import Frozen
from venues.base import OrderRefused, OutcomeUnknown, RateLimited, VenueError, VenueUnavailable

T = TypeVar("T")


class CredentialsRejected(VenueError):
    """The venue refused the key or signature on a read (wrong key, secret or clock)."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class PermissionsTooBroad(VenueError):
    """The key can withdraw or transfer funds: refused unless explicitly overridden."""

    def __init__(self, venue: str, findings: Sequence[str]) -> None:
        super().__init__(f"{venue} key is not least-privilege: {', '.join(findings)}")
        self.venue = venue
        self.findings = list(findings)


class PermissionReport(Frozen):
    venue: str
    can_trade: bool | None  # None: the venue offers no way to ask
    can_withdraw: bool
    can_transfer: bool
    findings: list[str] = []


class HttpReply(NamedTuple):
    """The venue's raw reply to the failing request (captured per asyncio task)."""

    status: int
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


_LAST_REPLY: ContextVar[HttpReply | None] = ContextVar("ccxt_last_reply", default=None)


def capturing(cls: type[ccxt.Exchange]) -> type[ccxt.Exchange]:
    """Subclass a ccxt exchange so each reply's status, headers and body are kept for the
    adapter's error mapping (ccxt's exception text drops the venue code and Retry-After)."""

    def handle_errors(
        self: Any,
        code: Any,
        reason: Any,
        url: Any,
        method: Any,
        headers: Any,
        body: Any,
        *rest: Any,
    ) -> Any:
        reply = HttpReply(int(code or 0), dict(headers or {}), body or "")
        _LAST_REPLY.set(reply)
        self.tapeline_last_reply = reply  # ccxt loads markets in a task of its own
        return cls.handle_errors(self, code, reason, url, method, headers, body, *rest)

    return type(cls.__name__, (cls,), {"handle_errors": handle_errors})


def make_exchange(cls: type[ccxt.Exchange], config: dict[str, Any]) -> ccxt.Exchange:
    """A capturing ccxt exchange with our defaults: no ccxt-side throttling (the gateway owns
    rate limits)."""
    return capturing(cls)({"enableRateLimit": False, **config})


class NotFound(Exception):
    """Internal: the venue does not know the order."""


class CcxtCalls:
    """Runs ccxt calls and maps their failures; venues override the reply parsing hooks."""

    venue: str = "ccxt"
    _ex: ccxt.Exchange

    def refusal(self, exc: Exception, reply: HttpReply | None) -> tuple[str, str | None]:
        """(reason, venue error code) parsed from the venue's reply to the failing request."""
        return f"{self.venue} refused ({type(exc).__name__})", None

    def retry_after(self, exc: Exception, reply: HttpReply | None) -> float | None:
        value = reply.header("Retry-After") if reply else None
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def credential_codes(self) -> set[str]:
        """Venue error codes that mean a bad key or signature (when ccxt does not map them)."""
        return set()

    async def _call(self, op: str, write: bool, fn: Callable[[], Awaitable[T]]) -> T:
        _LAST_REPLY.set(None)
        self._ex.tapeline_last_reply = None
        try:
            return await fn()
        except VenueError:
            raise
        except Exception as exc:
            reply = _LAST_REPLY.get() or self._ex.tapeline_last_reply
            raise self._translate(op, write, exc, reply) from None

    def _translate(
        self, op: str, write: bool, exc: Exception, reply: HttpReply | None
    ) -> Exception:
        if isinstance(exc, ccxt.OrderNotFound):
            if op == "order_by_client_id":
                return NotFound()
            reason, code = self.refusal(exc, reply)
            return OrderRefused(reason, code or "order_not_found")
        if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
            return RateLimited(f"{self.venue} {op}: rate limited", self.retry_after(exc, reply))
        if isinstance(exc, ccxt.InvalidNonce | ccxt.AuthenticationError):
            reason, code = self.refusal(exc, reply)
            if write:  # the venue checked the credentials and did not take the request
                return OrderRefused(reason, code)
            return CredentialsRejected(f"{self.venue} {op}: {reason}", code)
        if isinstance(exc, ccxt.NetworkError):
            return self._transient(op, write, type(exc).__name__)
        if isinstance(exc, ccxt.ExchangeError):
            if isinstance(exc.__cause__, aiohttp.ClientError):
                return self._transient(op, write, type(exc.__cause__).__name__)
            reason, code = self.refusal(exc, reply)
            if not write and code in self.credential_codes():
                return CredentialsRejected(f"{self.venue} {op}: {reason}", code)
            if write:
                return OrderRefused(reason, code)
            return VenueError(f"{self.venue} {op} failed: {reason}")
        # anything else (a reply we could not parse): the request may have landed
        return self._transient(op, write, type(exc).__name__)

    def _transient(self, op: str, write: bool, what: str) -> VenueError:
        if write:
            return OutcomeUnknown(f"{self.venue} {op}: outcome unknown ({what})")
        return VenueUnavailable(f"{self.venue} {op}: unavailable ({what})")
