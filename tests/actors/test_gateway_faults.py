"""Every fault of the fake venues' switch, through the gateway: afterwards each approval is at
most one order at the venue, and once reconciled the tape agrees with the venue."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from actors.gateway import Gateway
from domain.events import OrderStatusUnknown, OrderSubmitted
from domain.events.venue import CircuitClosed, CircuitHalfOpened, CircuitOpened
from domain.values import OrderType
from store import Tape, open_tape

from .conftest import KINDS, World, approval, make_world

pytestmark = pytest.mark.anyio

CLOSED = {"open": "accepted", "expired": "closed", "canceled": "closed"}
"""Venues differ on whether an IOC remainder is expired or canceled: both mean closed."""
FAST = {"timeout_s": 0.3, "in_flight_grace_s": 0.3}


def assert_agrees(gateway: Gateway, world: World) -> None:
    """No client id twice at the venue; every venue order on the tape with its state."""
    at_venue = world.orders()
    ids = Counter(o["client_order_id"] for o in at_venue)
    assert all(n == 1 for n in ids.values()), ids
    by_venue_id = {o.venue_order_id: o for o in gateway.orders.values() if o.venue_order_id}
    assert len(by_venue_id) == len(at_venue)
    for o in at_venue:
        order = by_venue_id[str(o["venue_order_id"])]
        venue_status = CLOSED.get(o["status"], o["status"])
        if venue_status == "accepted" and order.filled_quantity:
            venue_status = "partially_filled"
        assert CLOSED.get(order.status.value, order.status.value) == venue_status, (o, order)


def tape_events(tape: Tape) -> list[Any]:
    return [r.event for r in tape.iter_all()]


UNKNOWN_OUTCOME = [
    {"kind": "response_lost", "drop": True},
    {"kind": "response_lost", "drop": False},
    {"kind": "timeout", "placed": True, "hang_s": 0.6},
    {"kind": "timeout", "placed": False, "hang_s": 0.6},
    {"kind": "server_error", "status": 502},
]


@pytest.mark.parametrize("fault", UNKNOWN_OUTCOME, ids=lambda f: f"{f['kind']}-{len(f)}")
@pytest.mark.parametrize("kind", KINDS)
async def test_unknown_outcome_never_duplicates(
    kind: str, fault: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch, **FAST) as world:
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        world.faults.add(on="place", **fault)
        intent = approval(1, world)
        assert await gateway.submit(intent) == "accepted"
        assert await gateway.submit(intent) == "accepted"  # a retried approval: same order
        assert len(world.orders()) == 1
        assert any(isinstance(e, OrderStatusUnknown) for e in tape_events(tape))
        await gateway.reconcile()
        assert_agrees(gateway, world)
        await gateway.close()


@pytest.mark.parametrize("fault", ["rate_limit", "banned"])
@pytest.mark.parametrize("kind", KINDS)
async def test_rate_limited_order_waits_then_goes_once(
    kind: str, fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch, **FAST) as world:
        gateway = Gateway(world.cfg, open_tape(f"sqlite:///{tmp_path}/t.sqlite"))
        await gateway.start()
        world.faults.add(fault, on="place", retry_after_s=0, times=2)
        assert await gateway.submit(approval(1, world)) == "accepted"
        assert len(world.orders()) == 1
        await gateway.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_refusal_is_rejected_and_nothing_is_placed(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch, **FAST) as world:
        gateway = Gateway(world.cfg, open_tape(f"sqlite:///{tmp_path}/t.sqlite"))
        await gateway.start()
        world.faults.add("reject", on="place")
        assert await gateway.submit(approval(1, world)) == "rejected"
        assert world.orders() == []
        await gateway.close()


@pytest.mark.parametrize(
    "fault", ["partial_fill", "duplicate_fills", "fills_out_of_order", "latency"]
)
@pytest.mark.parametrize("kind", KINDS)
async def test_fill_faults_reconcile_exactly(
    kind: str, fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch, **FAST) as world:
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        if fault == "partial_fill":
            world.faults.add(fault, on="place", fill_ratio="0.5")
        else:
            world.faults.add(fault, on="any", times=None, latency_s=0.02)
        intents = [approval(n, world, order_type=OrderType.MARKET) for n in range(1, 4)]
        for intent in intents:
            await gateway.submit(intent)
        await gateway.reconcile()
        await gateway.reconcile()
        world.faults.clear()
        await gateway.reconcile()
        assert_agrees(gateway, world)
        assert gateway.anomalies == []
        await gateway.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_circuit_opens_rejects_then_recovers_and_reconciles(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {**FAST, "circuit_failures": 3, "circuit_open_s": 0.2, "read_attempts": 2}
    with make_world(kind, tmp_path, monkeypatch, **settings) as world:
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        world.faults.add("server_error", on="any", times=None)
        first = approval(1, world)
        assert await gateway.submit(first) == "submitted"  # outcome unknown, lookups failed
        assert gateway.stats()["circuit"] == "open"
        assert await gateway.submit(approval(2, world)) == "rejected"  # not sent at all
        world.faults.clear()
        await asyncio.sleep(0.25)
        await gateway.sync()  # the probe closes the circuit
        await gateway.sync()  # ... and recovery reconciles: the unknown order is sent once
        assert gateway.orders[first.client_order_id].status.value == "accepted"
        kinds = [type(e) for e in tape_events(tape)]
        assert CircuitOpened in kinds and CircuitHalfOpened in kinds and CircuitClosed in kinds
        assert len(world.orders()) == 1
        assert_agrees(gateway, world)
        await gateway.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_restart_mid_burst_leaves_one_order_per_approval(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/t.sqlite"
    with make_world(kind, tmp_path, monkeypatch, **FAST) as world:
        intents = [approval(n, world) for n in range(1, 13)]
        first = Gateway(world.cfg, open_tape(url))
        await first.start()
        world.faults.add("latency", on="place", times=None, latency_s=0.05)
        burst = [asyncio.ensure_future(first.submit(i)) for i in intents]
        await asyncio.sleep(0.12)
        for task in burst:  # the process dies: whatever was in flight is cut off
            task.cancel()
        await asyncio.gather(*burst, return_exceptions=True)
        await first.close()

        second = Gateway(world.cfg, open_tape(url))
        await second.start()  # reconciles: finds what landed, resends what did not
        statuses = [await second.submit(i) for i in intents]  # the risk manager's recovery
        reasons = [
            e.reason for e in tape_events(second.tape) if type(e).__name__ == "OrderRejected"
        ]
        assert set(statuses) == {"accepted"}, reasons
        at_venue = world.orders()
        assert len(at_venue) == len(intents)
        submitted = Counter(
            e.client_order_id for e in tape_events(second.tape) if isinstance(e, OrderSubmitted)
        )
        assert set(submitted.values()) == {1} and len(submitted) == len(intents)
        assert_agrees(second, world)
        await second.close()
