"""Keeps a gateway inside its venue's published limits: an asynchronous, prioritised gate in
front of every request, shared by everything in the process that uses the same key.

Each request names its operation (its cost comes from ``domain.execution.published``) and a
priority: cancels first, then reduce-only orders, then lookups of orders whose outcome is
unknown, then new entries, then background reads. A request goes out at once when its budgets
have room and nothing more urgent waits; otherwise it queues, and the queue is served in
priority order as the budgets refill. A venue's 429/418 ``Retry-After`` pauses the whole key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from enum import IntEnum

from domain.execution.limits import Costs
from domain.execution.published import VenueLimits


class Priority(IntEnum):
    CANCEL = 0
    REDUCE = 1
    LOOKUP = 2
    ENTRY = 3
    READ = 4


_Waiter = tuple[int, int, Costs, str | None, "asyncio.Future[None]"]


class RateLimiter:
    def __init__(
        self,
        limits: VenueLimits,
        *,
        headroom: float = 0.9,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.limits = limits
        self.budgets = limits.budgets(headroom)
        self._clock = clock_ns
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._paused_until = 0
        self._pump: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self.granted = 0
        self.queued = 0

    def __repr__(self) -> str:
        return f"RateLimiter(venue={self.limits.venue_kind!r}, waiting={len(self._heap)})"

    def _fits(self, costs: Costs, instrument: str | None, now: int) -> int:
        return max(self._paused_until - now, self.budgets.wait_ns(costs, now, instrument))

    async def acquire(
        self, op: str, priority: Priority = Priority.READ, instrument: str | None = None
    ) -> None:
        """Wait until a request of ``op`` may go out, then spend its cost."""
        costs = self.limits.cost(op)
        now = self._clock()
        head_first = bool(self._heap) and self._heap[0][0] <= priority
        if not head_first and self._fits(costs, instrument, now) <= 0:
            self.budgets.take(costs, now, instrument)
            self.granted += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (int(priority), next(self._seq), costs, instrument, future))
        self.queued += 1
        self._kick()
        await future

    def pause(self, seconds: float) -> None:
        """The venue said Retry-After: nothing goes out with this key until then."""
        until = self._clock() + int(max(0.0, seconds) * 1e9)
        self._paused_until = max(self._paused_until, until)

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()
        if self._pump is None or self._pump.done():
            self._wake = asyncio.Event()
            self._pump = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        assert self._wake is not None
        while self._heap:
            _, _, costs, instrument, future = self._heap[0]
            if future.done():  # the caller gave up
                heapq.heappop(self._heap)
                continue
            now = self._clock()
            wait = self._fits(costs, instrument, now)
            if wait <= 0:
                heapq.heappop(self._heap)
                self.budgets.take(costs, now, instrument)
                self.granted += 1
                future.set_result(None)
                continue
            self._wake.clear()
            # a more urgent request may arrive meanwhile: look again when it does
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait / 1e9)

    def used(self) -> dict[str, float]:
        return self.budgets.used(self._clock())


_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def key_id(kind: str, identity: str) -> str:
    """A non-secret id for a key (a short hash), to share its limiter."""
    return f"{kind}:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def shared_limiter(key: str, limits: VenueLimits, *, headroom: float = 0.9) -> RateLimiter:
    """The one limiter of this process for the key ``key`` (from ``key_id``)."""
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = _SHARED[key] = RateLimiter(limits, headroom=headroom)
        return limiter
