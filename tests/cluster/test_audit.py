"""``audit``: the causal chain through any id; ``rebuild_as_of``: projections at an instant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from benchmarks.replay_tape import session_events
from cluster.audit import audit_chain, chain_table, fmt_latency, parse_time, rebuild_as_of
from cluster.replay import rebuild
from domain.events import Event, OrderFilled, OrderIntentRejected, SignalReceived
from projections.default import default_bundle
from store import Tape, open_tape

CASH = Decimal(50_000)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return session_events(40, seed=21)


@pytest.fixture
def tape(events: list[Event]) -> Tape:
    t = open_tape("memory://")
    t.append(events)
    return t


def a_filled_order(events: list[Event], fills: int = 2) -> str:
    counts: dict[str, int] = {}
    for e in events:
        if isinstance(e, OrderFilled):
            counts[e.client_order_id] = counts.get(e.client_order_id, 0) + 1
    return next(cid for cid, n in counts.items() if n == fills)


CHAIN = ["SignalReceived", "OrderIntentApproved", "OrderSubmitted", "OrderAccepted"]


def test_from_a_client_order_id_to_the_signal_and_every_fill(
    tape: Tape, events: list[Event]
) -> None:
    cid = a_filled_order(events)
    chain = audit_chain(tape, cid)
    assert chain.topics() == [*CHAIN, "OrderFilled", "OrderFilled"]
    assert chain.root.topic == "SignalReceived"
    by_id = {str(e.event_id): e for e in events}
    for step in chain.steps[1:]:
        parent = by_id[step.parent_id or ""]
        assert step.latency_ns == step.event.ts_ns - parent.ts_ns
        assert step.since_root_ns == step.event.ts_ns - chain.root.ts_ns
        assert step.depth > 0
    assert [s.position for s in chain.steps] == sorted(s.position for s in chain.steps)


def test_any_id_on_the_chain_gives_the_same_chain(tape: Tape, events: list[Event]) -> None:
    cid = a_filled_order(events)
    whole = audit_chain(tape, cid)
    fill = whole.steps[-1].event
    for ident in (str(whole.root.event_id), str(fill.event_id), str(fill.event_id)[:13]):
        assert [s.event.event_id for s in audit_chain(tape, ident).steps] == [
            s.event.event_id for s in whole.steps
        ]
    assert whole.root.correlation_id is not None
    assert audit_chain(tape, whole.root.correlation_id).root == whole.root


def test_a_webhook_alert_id_finds_its_signal(events: list[Event]) -> None:
    signal = next(e for e in events if isinstance(e, SignalReceived))
    tagged = signal.model_copy(
        update={"signal": signal.signal.model_copy(update={"alert_id": "tv-alert-42"})}
    )
    t = open_tape("memory://")
    t.append([tagged if e is signal else e for e in events])
    assert audit_chain(t, "tv-alert-42").root.event_id == signal.event_id


def test_a_rejected_signal_ends_at_its_rejection(tape: Tape, events: list[Event]) -> None:
    rejected = next(e for e in events if isinstance(e, OrderIntentRejected))
    chain = audit_chain(tape, str(rejected.signal_event_id))
    assert chain.topics() == ["SignalReceived", "OrderIntentRejected"]


def test_a_fill_recorded_without_a_cause_hangs_under_its_order(events: list[Event]) -> None:
    cid = a_filled_order(events, fills=1)
    stripped = [
        e.model_copy(update={"causation_id": None, "correlation_id": None})
        if isinstance(e, OrderFilled)
        else e
        for e in events
    ]
    t = open_tape("memory://")
    t.append(stripped)
    assert audit_chain(t, cid).topics() == [*CHAIN, "OrderFilled"]


def test_an_unknown_id_is_refused(tape: Tape) -> None:
    with pytest.raises(LookupError):
        audit_chain(tape, "no-such-order")


def test_the_table_shows_each_step_with_its_latency(tape: Tape, events: list[Event]) -> None:
    table = chain_table(audit_chain(tape, a_filled_order(events)))
    assert table.row_count == 6
    assert fmt_latency(150_000) == "+150 µs" and fmt_latency(2_500_000) == "+2.50 ms"


def test_rebuild_as_of_folds_exactly_the_events_recorded_by_then(
    tape: Tape, events: list[Event]
) -> None:
    fills = [e for e in events if isinstance(e, OrderFilled)]
    instant = fills[len(fills) // 2].ts_ns
    result = rebuild_as_of(tape, CASH, instant)
    expected = default_bundle(CASH).fold(e for e in events if e.ts_ns <= instant)
    assert result.bundle.digests() == expected.digests()
    topics = result.bundle.topics
    assert result.events == sum(1 for e in events if e.ts_ns <= instant and e.topic in topics)
    # after the last event it is the full rebuild
    assert rebuild_as_of(tape, CASH, events[-1].ts_ns).bundle.digest() == (
        rebuild(tape, CASH).bundle.digest()
    )


def test_rebuild_as_of_keeps_events_stamped_earlier_but_recorded_later(
    events: list[Event],
) -> None:
    fills = [e for e in events if isinstance(e, OrderFilled)][:6]
    first, late = fills[0], fills[4]
    skewed = late.model_copy(update={"ts_ns": first.ts_ns})  # a writer whose clock is behind
    order = [e if e is not late else skewed for e in events]
    t = open_tape("memory://")
    t.append(order)
    result = rebuild_as_of(t, CASH, first.ts_ns)
    expected = default_bundle(CASH).fold(e for e in order if e.ts_ns <= first.ts_ns)
    assert result.bundle.digests() == expected.digests()
    assert any("recorded after position" in note for note in result.notes)


def test_parse_time() -> None:
    assert parse_time("2024-01-01T00:00:00Z") == 1_704_067_200 * 10**9
    assert parse_time("2024-01-01 00:00:01.5") == 1_704_067_201_500_000_000
    assert parse_time("1704067200000000000") == 1_704_067_200 * 10**9
    with pytest.raises(ValueError):
        parse_time("yesterday")
