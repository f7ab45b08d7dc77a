"""Every request a gateway makes to its venue passes here: circuit breaker, rate limits, retries.

Writes are sent at most once per call: a refusal, a rate limit or an unknown outcome goes back
to the gateway, which alone decides what happens next (never a blind resend). Reads are retried
with exponential backoff and full jitter, and wait out a venue's Retry-After. Timeouts, 5xx and
dropped connections count against the circuit breaker; a refusal or a rate limit shows the venue
is up. A Retry-After long enough to be a ban opens the circuit for that long.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.execution.backoff import BackoffPolicy
from domain.execution.circuit import Circuit, Transition
from venues.base import OrderRefused, OutcomeUnknown, RateLimited, VenueError, VenueUnavailable
from venues.ratelimit import Priority, RateLimiter

log = logging.getLogger("tapeline.venue_guard")
T = TypeVar("T")
BAN_S = 30.0
"""A Retry-After at least this long is treated as a ban: the circuit opens for its length."""


class CircuitOpenError(VenueError):
    """The venue's circuit is open: the request was not sent."""


class GuardedVenue:
    def __init__(
        self,
        venue: str,
        *,
        circuit: Circuit,
        limiter: RateLimiter | None,
        backoff: BackoffPolicy,
        on_transition: Callable[[Transition], None],
        rng: random.Random | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = venue
        self.circuit = circuit
        self.limiter = limiter
        self.backoff = backoff
        self._on_transition = on_transition
        self._rng = rng or random.Random()
        self._clock = clock_ns
        self.recovered = False  # set after failures give way to a success (reconnect)

    # circuit ---------------------------------------------------------------------------------

    def _admit(self) -> None:
        self.circuit, allowed, change = self.circuit.admit(self._clock())
        if change is not None:
            self._on_transition(change)
        if not allowed:
            raise CircuitOpenError(f"{self.venue}: circuit open, request not sent")

    def _ok(self) -> None:
        had_failures = self.circuit.failures > 0
        self.circuit, change = self.circuit.success()
        if change is not None or had_failures:
            self.recovered = True
        if change is not None:
            self._on_transition(change)

    def _failed(self, reason: str, hold_s: float = 0.0) -> None:
        self.circuit, change = self.circuit.failure(
            self._clock(), reason, hold_ns=int(hold_s * 1e9)
        )
        if change is not None:
            self._on_transition(change)

    def _limited(self, exc: RateLimited) -> float:
        wait = exc.retry_after_s if exc.retry_after_s is not None else 1.0
        if self.limiter is not None:
            self.limiter.pause(wait)
        if wait >= BAN_S:
            self._failed(f"banned for {wait:.0f}s", hold_s=wait)
        return wait

    async def _gate(self, op: str, priority: Priority, instrument: str | None) -> None:
        self._admit()
        if self.limiter is not None:
            await self.limiter.acquire(op, priority, instrument)

    # requests --------------------------------------------------------------------------------

    async def write(
        self,
        op: str,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority,
        instrument: str | None = None,
    ) -> T:
        """One attempt. Raises what the adapter raised, or ``CircuitOpenError``."""
        await self._gate(op, priority, instrument)
        try:
            result = await call()
        except RateLimited as exc:
            self._limited(exc)
            raise
        except (OutcomeUnknown, VenueUnavailable) as exc:
            self._failed(type(exc).__name__)
            raise
        except VenueError:
            self._ok()  # the venue answered (a refusal, a bad key): it is up
            raise
        self._ok()
        return result

    async def read(
        self,
        op: str,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority = Priority.READ,
        instrument: str | None = None,
        attempts: int | None = None,
    ) -> T:
        """Retried with backoff and full jitter on transient failures and rate limits."""
        tries = attempts or self.backoff.max_attempts
        for attempt in range(tries):
            await self._gate(op, priority, instrument)
            retry_after: float | None = None
            try:
                result = await call()
            except RateLimited as exc:
                retry_after = self._limited(exc)
                error: VenueError = exc
            except (VenueUnavailable, OutcomeUnknown) as exc:
                self._failed(type(exc).__name__)
                error = exc
            except OrderRefused:
                self._ok()
                raise
            except VenueError:
                self._ok()
                raise
            else:
                self._ok()
                return result
            if attempt + 1 >= tries:
                raise error
            delay = self.backoff.wait(attempt, self._rng.random(), retry_after)
            log.info(
                "venue.read_retry",
                extra={"venue": self.venue, "op": op, "attempt": attempt + 1, "delay_s": delay},
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
