"""Rate budgets: no window of the published length ever holds more than the capacity; counters
decay as published; backoff stays within its full-jitter bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.execution.backoff import BackoffPolicy
from domain.execution.limits import DecayingCounter, SlidingWindow
from domain.execution.published import published_limits

S = 1_000_000_000


@given(
    st.lists(st.tuples(st.integers(0, 3 * S), st.integers(1, 5)), min_size=1, max_size=200),
    st.integers(1, 20),
)
def test_sliding_window_never_exceeds_capacity_in_any_window(
    requests: list[tuple[int, int]], slots: int
) -> None:
    window = SlidingWindow("w", capacity=10, window_ns=S, slots=slots)
    granted: list[tuple[int, int]] = []
    clock = 0
    for at, cost in sorted(requests):
        clock = max(clock, at)  # requests queue in arrival order
        now = clock = clock + window.wait_ns(cost, clock)  # out as soon as the budget allows
        window.take(cost, now)
        granted.append((now, cost))
    for start, _ in granted:
        inside = sum(c for t, c in granted if start <= t < start + S)
        assert inside <= 10


def test_decaying_counter_waits_for_decay() -> None:
    counter = DecayingCounter("k", capacity=15, decay_per_s=0.5)
    counter.take(15, 0)
    assert counter.wait_ns(1, 0) == 2 * S
    assert counter.wait_ns(1, 2 * S) == 0


def test_cost_larger_than_capacity_is_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindow("w", 5, S).wait_ns(6, 0)


def test_published_limits_give_sustained_rates() -> None:
    binance = published_limits("binance")
    assert binance is not None
    # 100 per 10 s in a burst, but 200 000 a day is the long-run bound
    assert binance.sustained_orders_per_s(1.0) == pytest.approx(200_000 / 86_400)
    hyperliquid = published_limits("hyperliquid")
    assert hyperliquid is not None and hyperliquid.sustained_orders_per_s(1.0) == 20.0
    kraken = published_limits("kraken", tier="pro")
    assert kraken is not None and kraken.sustained_orders_per_s(1.0) == 3.75
    coinbase = published_limits("coinbase")
    assert coinbase is not None and coinbase.sustained_orders_per_s(1.0) == 30.0
    assert published_limits("paper") is None


@given(st.integers(0, 100), st.floats(0, 1, exclude_max=True))
def test_full_jitter_bounds(attempt: int, u: float) -> None:
    policy = BackoffPolicy(base_s=0.1, cap_s=3.0)
    delay = policy.delay(attempt, u)
    assert 0 <= delay <= min(3.0, 0.1 * 2**attempt)
    assert policy.wait(attempt, u, retry_after_s=5.0) == 5.0
