"""Deciding a batch of signals at once: the same decisions as one at a time, one tape append,
duplicates answered as duplicates, and no decision or order twice after a restart."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import uuid4

from actors.risk_manager import RiskManager
from domain.events import Event, OrderIntentApproved, OrderIntentRejected, SignalReceived
from domain.signal import Intent
from store import Tape, open_tape
from tests.actors.risk_fakes import Desk, FakeGateway

CONFIG = {
    "limits": {"max_position_notional": "2500", "max_open_orders": 4, "max_order_notional": "1500"}
}


SIGNALS_APPROVED = 2


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def make(tape: Tape, gw: FakeGateway, **kwargs: Any) -> RiskManager:
    return RiskManager("main", CONFIG, tape, ["paper"], "paper", lambda venue: gw, **kwargs)


SIGNALS: list[tuple[Intent, str]] = [
    (Intent.ENTER_LONG, "1000"),
    (Intent.ENTER_LONG, "1000"),
    (Intent.ENTER_LONG, "2000"),  # over max_order_notional
    (Intent.ENTER_LONG, "1000"),  # over max_position_notional with the two before
    (Intent.ENTER_SHORT, "1000"),
    (Intent.EXIT, "1000"),
]


def _signals(desk: Desk) -> list[SignalReceived]:
    desk.bar("100")
    return [desk.signal(intent, notional=notional) for intent, notional in SIGNALS]


def _decisions(desk: Desk) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for e in desk.events(Event):
        if isinstance(e, OrderIntentApproved):
            out.append(("approved", e.side, e.quantity, e.reduce_only, e.order_type))
        elif isinstance(e, OrderIntentRejected):
            out.append(("rejected", e.rule, e.limit, e.observed))
    return out


def test_a_batch_decides_what_one_signal_after_another_decides() -> None:
    with open_tape("memory://") as one, open_tape("memory://") as batch:
        gw1, desk1 = FakeGateway(one), Desk(one)
        single = make(one, gw1)
        desk1.bar("100")
        each = [  # as the ingress does: record one, hand it over, record the next
            run(single.on_signal(desk1.signal(intent, notional=notional)))
            for intent, notional in SIGNALS
        ]

        gw2, desk2 = FakeGateway(batch), Desk(batch)
        together = run(make(batch, gw2).on_signals(_signals(desk2)))

        assert together == each
        assert "approved" in each and "rejected" in each
        assert _decisions(desk2) == _decisions(desk1)
        assert len(gw2.orders) == len(gw1.orders) == each.count("approved")


def test_a_batch_is_one_append() -> None:
    with open_tape("memory://") as tape:
        gw, desk = FakeGateway(tape), Desk(tape)
        risk = make(tape, gw)
        signals = _signals(desk)
        before = tape.max_position()
        appends: list[int] = []
        real = tape.append
        tape.append = lambda events: appends.append(len(events)) or real(events)  # type: ignore[method-assign]
        risk.writer.tape = tape
        run(risk.on_signals(signals))
        decided = [
            r for r in tape.iter_all() if r.position > before and r.event.stream == "risk.main"
        ]
        assert len(decided) == len(signals)
        assert appends[0] == len(signals)  # the decisions first, in one transaction


def test_duplicates_in_and_before_a_batch_are_answered_as_duplicates() -> None:
    with open_tape("memory://") as tape:
        gw, desk = FakeGateway(tape), Desk(tape)
        risk = make(tape, gw)
        desk.bar("100")
        first = desk.signal()
        assert run(risk.on_signal(first)) == "approved"
        second = desk.signal()
        assert run(risk.on_signals([first, second, second])) == [
            "duplicate",
            "approved",
            "duplicate",
        ]
        assert run(risk.on_signals([])) == []
        assert len(gw.orders) == 2
        assert risk.status()["approved"] == 2


def test_after_a_restart_a_batch_is_never_decided_again() -> None:
    with open_tape("memory://") as tape:
        gw, desk = FakeGateway(tape), Desk(tape)
        signals = _signals(desk)
        gw.fail_next_submit = True
        with contextlib.suppress(ConnectionError):  # decided and recorded; no order left yet
            run(make(tape, gw, snapshot_every=1).on_signals(signals))
        again = make(tape, gw, apply_configured=False, snapshot_every=1)
        assert again.restored_from > 0  # from a snapshot
        assert set(run(again.on_signals(signals))) == {"duplicate"}
        approvals = desk.events(OrderIntentApproved)
        assert len(gw.orders) == len(approvals) == SIGNALS_APPROVED
        decided = desk.events(OrderIntentApproved) + desk.events(OrderIntentRejected)
        assert sorted(str(d.signal_event_id) for d in decided) == sorted(
            str(s.event_id) for s in signals
        )


def test_signals_named_by_id_are_decided_as_the_events_would_be() -> None:
    with open_tape("memory://") as by_event, open_tape("memory://") as by_id:
        gw1, desk1 = FakeGateway(by_event), Desk(by_event)
        expected = run(make(by_event, gw1).on_signals(_signals(desk1)))

        gw2, desk2 = FakeGateway(by_id), Desk(by_id)
        signals = _signals(desk2)
        risk = make(by_id, gw2)
        got = run(risk.on_recorded([s.event_id for s in signals]))

        assert got == expected
        assert _decisions(desk2) == _decisions(desk1)
        assert len(gw2.orders) == len(gw1.orders)
        again = [signals[0].event_id, uuid4(), signals[0].event_id]
        assert run(risk.on_recorded(again)) == ["duplicate", "unknown", "duplicate"]


def test_an_id_named_twice_in_a_batch_is_decided_once() -> None:
    with open_tape("memory://") as tape:
        gw, desk = FakeGateway(tape), Desk(tape)
        risk = make(tape, gw)
        desk.bar("100")
        signal = desk.signal()
        assert run(risk.on_recorded([signal.event_id, signal.event_id])) == [
            "approved",
            "duplicate",
        ]
        assert len(gw.orders) == 1
