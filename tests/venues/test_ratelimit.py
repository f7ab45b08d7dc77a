"""The shared, prioritised rate limiter: requests beyond the budget queue, cancels and
reduce-only orders overtake queued entries, Retry-After pauses the key, keys share a limiter."""

from __future__ import annotations

import asyncio

import pytest

from domain.execution.limits import BudgetSpec
from domain.execution.published import VenueLimits
from venues.ratelimit import Priority, RateLimiter, key_id, shared_limiter

pytestmark = pytest.mark.anyio

LIMITS = VenueLimits(
    "test",
    {"w": BudgetSpec("window", 2, window_s=0.2, slots=4)},
    {"place": {"w": 1}, "cancel": {"w": 1}},
)


async def test_cancels_and_reduce_only_go_ahead_of_new_entries() -> None:
    limiter = RateLimiter(LIMITS, headroom=1.0)
    order: list[str] = []

    async def go(name: str, op: str, priority: Priority) -> None:
        await limiter.acquire(op, priority)
        order.append(name)

    await go("first", "place", Priority.ENTRY)
    await go("second", "place", Priority.ENTRY)  # the budget is now spent
    waiting = [asyncio.ensure_future(go(f"entry{i}", "place", Priority.ENTRY)) for i in range(2)]
    await asyncio.sleep(0.01)
    urgent = [
        asyncio.ensure_future(go("reduce", "place", Priority.REDUCE)),
        asyncio.ensure_future(go("cancel", "cancel", Priority.CANCEL)),
    ]
    await asyncio.gather(*waiting, *urgent)
    assert order[:2] == ["first", "second"]
    assert order[2:4] == ["cancel", "reduce"]
    assert order[4:] == ["entry0", "entry1"]


async def test_retry_after_pauses_the_key() -> None:
    now = [0]
    limiter = RateLimiter(LIMITS, headroom=1.0, clock_ns=lambda: now[0])
    limiter.pause(0.05)
    waiting = asyncio.ensure_future(limiter.acquire("place", Priority.CANCEL))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # the budget has room, but the key is paused
    now[0] = 60_000_000
    await waiting


def test_the_same_key_shares_one_limiter_and_ids_hide_the_key() -> None:
    a = shared_limiter(key_id("binance", "secret-api-key"), LIMITS)
    b = shared_limiter(key_id("binance", "secret-api-key"), LIMITS)
    c = shared_limiter(key_id("binance", "another-key"), LIMITS)
    assert a is b and a is not c
    assert "secret-api-key" not in key_id("binance", "secret-api-key")
