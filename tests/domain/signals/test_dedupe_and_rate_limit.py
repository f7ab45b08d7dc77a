from __future__ import annotations

import pytest

from domain.signals import Deduper, RefusalCode, TokenBucket, fingerprint
from domain.signals.refusal import Refused

S = 1_000_000_000


def test_same_alert_id_is_a_duplicate_within_its_ttl() -> None:
    dedupe = Deduper(window_s=10, alert_id_ttl_s=100)
    dedupe.reserve("a-1", "h1", 0)
    with pytest.raises(Refused) as caught:
        dedupe.reserve("a-1", "h2", 50 * S)
    assert caught.value.code is RefusalCode.DUPLICATE
    dedupe.reserve("a-1", "h3", 101 * S)


def test_same_body_is_a_duplicate_within_the_window() -> None:
    dedupe = Deduper(window_s=10, alert_id_ttl_s=100)
    dedupe.reserve(None, "h1", 0)
    with pytest.raises(Refused):
        dedupe.reserve(None, "h1", 9 * S)
    dedupe.reserve(None, "h1", 11 * S)
    dedupe.reserve(None, "h2", 11 * S)


def test_release_lets_a_retry_pass() -> None:
    dedupe = Deduper(window_s=10, alert_id_ttl_s=100)
    dedupe.reserve("a", "h", 0)
    dedupe.release("a", "h")
    dedupe.reserve("a", "h", 1)


def test_memory_is_bounded() -> None:
    dedupe = Deduper(window_s=1000, alert_id_ttl_s=1000, max_entries=10)
    for i in range(100):
        dedupe.reserve(f"id{i}", f"h{i}", i)
    assert len(dedupe) <= 20


def test_remember_alert_id_from_the_tape() -> None:
    dedupe = Deduper(window_s=10, alert_id_ttl_s=100)
    dedupe.remember_alert_id("old", 0)
    with pytest.raises(Refused):
        dedupe.reserve("old", "h", 5 * S)


def test_fingerprint_excludes_the_secret() -> None:
    a = fingerprint('{"secret":"s3cret-aa","x":1}', "s3cret-aa")
    b = fingerprint('{"secret":"","x":1}', "s3cret-aa")
    assert a == b and "s3cret" not in a
    assert fingerprint("buy 1", "zzzzzzzz") != fingerprint("buy 2", "zzzzzzzz")


def test_token_bucket_allows_burst_then_waits() -> None:
    bucket = TokenBucket(per_second=2, burst=3)
    assert [bucket.take(0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.take(0)
    assert wait == pytest.approx(0.5)
    assert bucket.take(S // 2) == 0.0
    assert bucket.take(S // 2) > 0
    assert bucket.take(10 * S) == 0.0


def test_token_bucket_ignores_a_clock_that_steps_back() -> None:
    bucket = TokenBucket(per_second=1, burst=1)
    assert bucket.take(10 * S) == 0.0
    assert bucket.take(5 * S) > 0
    assert bucket.take(11 * S) == 0.0
