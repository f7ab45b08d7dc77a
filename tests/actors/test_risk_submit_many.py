"""Approvals reach the gateways in batches: one ``submit_many`` per venue for a batch of signals
and for each batch ``recover()`` decides, each approval exactly one order even when a gateway
fails half-way through a batch, and periodic snapshots kept to a share of the time."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import pytest

from actors import risk_snapshot
from actors.risk_manager import RiskManager
from domain.events import Event, OrderIntentApproved, OrderIntentRejected, OrderSubmitted
from domain.signal import Intent
from store import Tape, open_tape
from tests.actors.risk_fakes import Desk, FakeGateway

CONFIG = {
    "limits": {
        "max_position_notional": "1000000",
        "max_open_orders": 10_000,
        "max_order_notional": "1500",
    }
}


@dataclass
class BatchGateway(FakeGateway):
    """A fake gateway with ``submit_many``; ``fail_after`` makes the next batch fail once that
    many of its orders are recorded (the rest never reach the venue)."""

    batches: list[list[str]] = field(default_factory=list)
    singles: int = 0
    fail_after: int | None = None

    async def submit(self, intent: OrderIntentApproved) -> str:
        self.singles += 1
        return await super().submit(intent)

    async def submit_many(self, intents: list[OrderIntentApproved]) -> list[str]:
        self.batches.append([i.client_order_id for i in intents])
        out: list[str] = []
        for n, intent in enumerate(intents):
            if self.fail_after is not None and n == self.fail_after:
                self.fail_after = None
                raise ConnectionError("gateway unreachable")
            out.append(await super().submit(intent))
        return out


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def make(tape: Tape, gateways: dict[str, FakeGateway], **kwargs: Any) -> RiskManager:
    venues = list(gateways)
    return RiskManager("main", CONFIG, tape, venues, venues[0], gateways.__getitem__, **kwargs)


def orders_per_approval(desk: Desk) -> dict[str, int]:
    """For every approval on the tape, how many orders the gateways recorded for it."""
    counts = {a.client_order_id: 0 for a in desk.events(OrderIntentApproved)}
    for submitted in desk.events(OrderSubmitted):
        counts[submitted.client_order_id] += 1
    return counts


@pytest.fixture
def tape() -> Any:
    with open_tape("memory://") as t:
        yield t


def test_a_batch_is_one_submit_many_per_venue(tape: Tape) -> None:
    paper, alt = BatchGateway(tape), BatchGateway(tape, venue="alt")
    desk = Desk(tape)
    risk = make(tape, {"paper": paper, "alt": alt})
    desk.bar("100")
    signals = [desk.signal(venue="alt" if i % 3 == 0 else None) for i in range(9)]
    signals.append(desk.signal(notional="2000"))  # over max_order_notional: rejected
    outcomes = run(risk.on_signals(signals))
    assert outcomes == ["approved"] * 9 + ["rejected"]
    approvals = desk.events(OrderIntentApproved)
    to_alt = [a.client_order_id for a in approvals if a.venue == "alt"]
    to_paper = [a.client_order_id for a in approvals if a.venue is None]
    assert alt.batches == [to_alt] and paper.batches == [to_paper]
    assert paper.singles == alt.singles == 0
    assert set(orders_per_approval(desk).values()) == {1}
    assert not risk.unsubmitted and not risk.submitting


def test_a_gateway_without_submit_many_gets_one_submit_per_approval(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = make(tape, {"paper": gw})
    desk.bar("100")
    assert run(risk.on_signals([desk.signal() for _ in range(5)])) == ["approved"] * 5
    assert set(orders_per_approval(desk).values()) == {1} and len(gw.orders) == 5


@pytest.mark.parametrize("restart", [False, True])
def test_a_batch_failing_half_way_ends_with_one_order_per_approval(
    tape: Tape, restart: bool
) -> None:
    paper, alt = BatchGateway(tape), BatchGateway(tape, venue="alt")
    gateways: dict[str, FakeGateway] = {"paper": paper, "alt": alt}
    desk = Desk(tape)
    risk = make(tape, gateways, snapshot_every=1)
    desk.bar("100")
    signals = [desk.signal(venue="alt" if i % 2 else None) for i in range(8)]
    paper.fail_after = 2  # paper comes first: alt never hears of its batch
    with pytest.raises(ConnectionError):
        run(risk.on_signals(signals))
    assert len(paper.orders) == 2 and not alt.orders
    assert not risk.submitting
    risk.sync()  # the two orders the gateway recorded leave ``unsubmitted``
    assert len(risk.unsubmitted) == 6
    if restart:
        risk = make(tape, gateways, apply_configured=False, snapshot_every=1)
    run(risk.recover())
    assert set(orders_per_approval(desk).values()) == {1}
    assert len(orders_per_approval(desk)) == 8
    assert not risk.unsubmitted
    assert set(run(risk.on_signals(signals))) == {"duplicate"}
    assert len(desk.events(OrderSubmitted)) == 8


def test_a_crash_between_the_decisions_and_the_submit_is_finished_by_recover(tape: Tape) -> None:
    gw, desk = BatchGateway(tape), Desk(tape)
    risk = make(tape, {"paper": gw}, snapshot_every=1)
    desk.bar("100")
    signals = [desk.signal() for _ in range(6)]
    gw.fail_after = 0  # decided and recorded; no order left
    with contextlib.suppress(ConnectionError):
        run(risk.on_signals(signals))
    assert not gw.orders
    again = make(tape, {"paper": gw}, apply_configured=False, snapshot_every=1)
    assert len(again.unsubmitted) == 6
    run(again.recover())
    assert gw.batches[-1] == [a.client_order_id for a in desk.events(OrderIntentApproved)]
    assert set(orders_per_approval(desk).values()) == {1} and len(gw.orders) == 6


def _decisions(desk: Desk) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for e in desk.events(Event):
        if isinstance(e, OrderIntentApproved):
            out.append(("approved", e.side, e.quantity, e.reduce_only))
        elif isinstance(e, OrderIntentRejected):
            out.append(("rejected", e.rule))
    return out


def _record_signals(desk: Desk, n: int) -> None:
    desk.bar("100")
    for i in range(n):
        intent = [Intent.ENTER_LONG, Intent.ENTER_SHORT, Intent.EXIT][i % 3]
        desk.signal(intent, notional="2000" if i % 7 == 0 else "1000")


def test_recover_decides_in_batches_what_one_at_a_time_decides() -> None:
    n = 600
    with open_tape("memory://") as one, open_tape("memory://") as batched:
        ref_gw, ref_desk = FakeGateway(one), Desk(one)
        _record_signals(ref_desk, n)
        reference = make(one, {"paper": ref_gw})
        for signal in ref_desk.events(Event):  # one at a time, as recorded
            if signal.__class__.__name__ == "SignalReceived":
                run(reference.on_signal(signal))

        gw, desk = BatchGateway(batched), Desk(batched)
        _record_signals(desk, n)
        risk = make(batched, {"paper": gw})
        appends: list[int] = []
        real = batched.append
        batched.append = lambda events: appends.append(len(events)) or real(events)  # type: ignore[method-assign]
        run(risk.recover())

        assert _decisions(desk) == _decisions(ref_desk)
        assert [k for k in appends if k > 1] == [256, 256, n - 512]  # one append per batch
        approved = len(desk.events(OrderIntentApproved))
        assert len(gw.batches) == 3 and sum(map(len, gw.batches)) == approved
        assert gw.singles == 0 and not risk.undecided
        assert set(orders_per_approval(desk).values()) == {1}
        assert risk.status()["approved"] == approved


def test_periodic_snapshots_keep_to_their_share_of_the_time(
    tape: Tape, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(risk_snapshot, "clock", lambda: now[0])
    real = risk_snapshot.save_from
    monkeypatch.setattr(  # every save "takes" a second
        risk_snapshot, "save_from", lambda m: (now.__setitem__(0, now[0] + 1.0), real(m))[1]
    )
    gw, desk = BatchGateway(tape), Desk(tape)
    risk = make(tape, {"paper": gw}, snapshot_every=1)

    def snapshot_at() -> int:
        found = tape.latest_snapshot("risk.main")
        return -1 if found is None else found[0]

    desk.bar("100")
    run(risk.step())
    assert snapshot_at() == tape.max_position()  # within the burst: at once
    saved = snapshot_at()
    desk.bar("101")
    run(risk.step())
    assert snapshot_at() == saved  # the budget is spent
    now[0] += 1.0 / risk_snapshot.SNAPSHOT_DUTY
    run(risk.step())
    assert snapshot_at() == tape.max_position()  # accrued again
    restarted = make(tape, {"paper": gw}, apply_configured=False, snapshot_every=1)
    assert restarted.restored_from == tape.max_position()
    assert restarted.view.bars == risk.view.bars
