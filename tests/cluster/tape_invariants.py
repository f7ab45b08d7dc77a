"""What must hold on a tape after crashes, restarts and lost nodes, checked from the tape alone.

Shared by the crash-injection, multi-node and registry tests: each check returns a list of
problems (empty when the invariant holds), so a failing test says exactly what broke.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

from cluster.replay import verify
from domain.bars import bar_from_event
from domain.events import (
    BarClosed,
    Event,
    OrderFilled,
    OrderIntentApproved,
    OrderIntentRejected,
    OrderSubmitted,
    SignalReceived,
)
from domain.strategies.base import load_strategy
from store import Tape


def decisions(events: Sequence[Event]) -> list[str]:
    """Every recorded signal has exactly one decision, and no decision is for an unknown one."""
    signals = {e.event_id for e in events if isinstance(e, SignalReceived)}
    decided = Counter(
        e.signal_event_id
        for e in events
        if isinstance(e, OrderIntentApproved | OrderIntentRejected) and e.signal_event_id
    )
    problems = [f"signal {s} has no decision" for s in sorted(signals - set(decided), key=str)]
    problems += [f"signal {s} decided {n} times" for s, n in decided.items() if n > 1]
    problems += [f"decision for unknown signal {s}" for s in set(decided) - signals]
    return problems


def orders(events: Sequence[Event], *, every_approval_sent: bool) -> list[str]:
    """No approval becomes two orders (by intent or by client order id); with
    ``every_approval_sent`` each one has reached the gateway exactly once."""
    approvals = {e.event_id for e in events if isinstance(e, OrderIntentApproved)}
    submitted = [e for e in events if isinstance(e, OrderSubmitted)]
    by_intent = Counter(e.intent_event_id for e in submitted)
    by_coid = Counter(e.client_order_id for e in submitted)
    problems = [f"intent {i} submitted {n} times" for i, n in by_intent.items() if n > 1]
    problems += [f"client order id {c} submitted {n} times" for c, n in by_coid.items() if n > 1]
    problems += [f"order for unknown intent {i}" for i in set(by_intent) - approvals]
    if every_approval_sent:
        problems += [f"approval {a} never submitted" for a in approvals - set(by_intent)]
    return problems


def fills_within_orders(events: Sequence[Event]) -> list[str]:
    """The venue never executes more than an approval asked for, nor one execution twice."""
    asked = {e.client_order_id: e.quantity for e in events if isinstance(e, OrderIntentApproved)}
    fills = [e for e in events if isinstance(e, OrderFilled)]
    filled: dict[str, Decimal] = {}
    for f in fills:
        filled[f.client_order_id] = filled.get(f.client_order_id, Decimal(0)) + f.quantity
    problems = [
        f"fill {i} recorded {n} times"
        for i, n in Counter(f.fill_id for f in fills).items()
        if n > 1
    ]
    problems += [
        f"order {c} filled {q} of {asked.get(c)}"
        for c, q in filled.items()
        if c not in asked or q > asked[c]
    ]
    return problems


def bars_once(events: Sequence[Event], expected: int) -> list[str]:
    """Every bar of the run is on the tape exactly once."""
    keys = Counter(
        (e.venue, e.instrument, e.open_ts_ns) for e in events if isinstance(e, BarClosed)
    )
    problems = [f"bar {k} recorded {n} times" for k, n in keys.items() if n > 1]
    if len(keys) != expected:
        problems.append(f"{len(keys)} distinct bars on the tape, expected {expected}")
    return problems


def signals_match_strategy(
    events: Sequence[Event], name: str, import_path: str, params: dict
) -> list[str]:
    """The strategy's recorded signals are exactly what it produces from the recorded bars in
    one process with no crash: none lost, none doubled."""
    strategy = load_strategy(import_path, name, params)
    expected: list[str] = []
    for e in events:
        if isinstance(e, BarClosed):
            expected += [s.alert_id or "" for s in strategy.on_bar(bar_from_event(e))]
    recorded = Counter(
        e.signal.alert_id or ""
        for e in events
        if isinstance(e, SignalReceived) and e.signal.source == name
    )
    problems = [f"signal {a} lost" for a in expected if a not in recorded]
    problems += [f"signal {a} recorded {n} times" for a, n in recorded.items() if n > 1]
    problems += [f"signal {a} not produced by a clean run" for a in set(recorded) - set(expected)]
    return problems


def replay_agrees(tape: Tape, starting_cash: Decimal, live: dict | None = None) -> list[str]:
    """No stream gap, recorded projections equal a rebuild, and (given) the live state too."""
    result = verify(tape, starting_cash)
    problems = list(result.problems)
    if live is not None and result.bundle.state() != live:
        differing = sorted(k for k in live if live.get(k) != result.bundle.state().get(k))
        problems.append(f"live projections differ from a fresh replay: {differing}")
    return problems


def all_events(tape: Tape) -> list[Event]:
    return [r.event for r in tape.iter_all()]


def summary(events: Iterable[Event]) -> dict[str, int]:
    return dict(Counter(type(e).__name__ for e in events))
