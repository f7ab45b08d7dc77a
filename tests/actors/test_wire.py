"""Events handed between actors as tape rows come back equal, of the kind expected."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.risk_manager import RiskManager
from actors.wire import pack, unpack
from domain.events import OrderIntentApproved, SignalReceived
from domain.signal import Intent
from store import open_tape
from tests.actors.risk_fakes import Desk, FakeGateway


def _approvals(notionals: list[int]) -> tuple[list[OrderIntentApproved], list[SignalReceived]]:
    tape = open_tape("memory://")
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = RiskManager("main", {}, tape, ["paper"], "paper", lambda venue: gw)
    desk.bar("100")
    signals = [
        desk.signal(Intent.ENTER_LONG if i % 2 else Intent.ENTER_SHORT, notional=str(n))
        for i, n in enumerate(notionals)
    ]
    asyncio.run(risk.on_signals(signals))
    return desk.events(OrderIntentApproved), signals


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 900), min_size=1, max_size=6))
def test_packed_events_come_back_equal(notionals: list[int]) -> None:
    approvals, signals = _approvals(notionals)
    assert approvals
    assert unpack(pack(approvals), OrderIntentApproved) == approvals
    assert unpack(pack(signals), SignalReceived) == signals


def test_a_row_of_another_kind_is_refused() -> None:
    _, signals = _approvals([100])
    with pytest.raises(TypeError, match="expected OrderIntentApproved, got SignalReceived"):
        unpack(pack(signals), OrderIntentApproved)
