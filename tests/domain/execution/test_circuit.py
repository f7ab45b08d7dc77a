"""The circuit breaker: closed -> open after the threshold, half-open after the cool-down,
closed on a successful probe, open again (longer) on a failed one; rebuilt from its events."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.events import EventMeta
from domain.events.venue import CircuitClosed, CircuitHalfOpened, CircuitOpened, venue_stream
from domain.execution.circuit import Circuit, CircuitPolicy, CircuitState, Transition, fold

POLICY = CircuitPolicy(failure_threshold=3, open_for_ns=100, max_open_for_ns=1000)


def test_opens_after_threshold_then_half_opens_and_closes() -> None:
    c = Circuit(policy=POLICY)
    for t in range(2):
        c, change = c.failure(t, "5xx")
        assert change is None and c.state is CircuitState.CLOSED
    c, change = c.failure(2, "5xx")
    assert change == Transition(CircuitState.OPEN, "5xx", 3, 102)
    c, allowed, _ = c.admit(50)
    assert not allowed
    c, allowed, change = c.admit(102)
    assert allowed and change is not None and change.to is CircuitState.HALF_OPEN
    c, allowed, _ = c.admit(103)
    assert not allowed  # one probe at a time
    c, change = c.success()
    assert change is not None and change.to is CircuitState.CLOSED and c.failures == 0


def test_failed_probe_reopens_for_longer() -> None:
    c = Circuit(policy=POLICY)
    for t in range(3):
        c, _ = c.failure(t, "timeout")
    c, _, _ = c.admit(200)
    c, change = c.failure(200, "timeout")
    assert change is not None and change.to is CircuitState.OPEN
    assert change.retry_at_ns == 400  # doubled cool-down


def test_a_ban_opens_at_once_for_its_length() -> None:
    _, change = Circuit(policy=POLICY).failure(0, "banned", hold_ns=5000)
    assert change is not None and change.to is CircuitState.OPEN and change.retry_at_ns == 5000


def test_success_resets_the_count() -> None:
    c, _ = Circuit(policy=POLICY).failure(0, "x")
    c, change = c.success()
    assert change is None and c.failures == 0


def _event(change: Transition, version: int, ts: int):  # type: ignore[no-untyped-def]
    env = EventMeta(ts_ns=ts, source="t").envelope(venue_stream("v"), version)
    if change.to is CircuitState.OPEN:
        return CircuitOpened(
            **env,
            venue="v",
            reason=change.reason,
            failures=change.failures,
            retry_at_ns=change.retry_at_ns,
        )
    cls = CircuitHalfOpened if change.to is CircuitState.HALF_OPEN else CircuitClosed
    return cls(**env, venue="v")


@given(st.lists(st.sampled_from(["ok", "fail", "admit"]), max_size=40))
def test_fold_of_recorded_transitions_agrees_on_state(steps: list[str]) -> None:
    c, events, now = Circuit(policy=POLICY), [], 0
    for step in steps:
        now += 40
        change = None
        if step == "ok":
            c, change = c.success()
        elif step == "fail":
            c, change = c.failure(now, "x")
        else:
            c, _, change = c.admit(now)
        if change is not None:
            events.append(_event(change, len(events) + 1, now))
    rebuilt = fold(events, POLICY)
    # a restart forgets a probe in flight: half-open comes back as open, ready to probe
    expected = CircuitState.OPEN if c.state is CircuitState.HALF_OPEN else c.state
    assert rebuilt.state is expected
    if c.state is CircuitState.OPEN:
        assert rebuilt.retry_at_ns == c.retry_at_ns
