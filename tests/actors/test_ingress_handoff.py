"""The hand-off from the ingress to the risk manager: one call per signal, never more than the
window in flight, arrival order kept, failures and overflow left to the risk manager's
recovery from the tape."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from actors.ingress_sink import RiskHandoff
from domain.events import SignalReceived
from domain.signal import Signal

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def signal(n: int) -> SignalReceived:
    return SignalReceived(
        event_id=uuid.uuid4(),
        stream="signals.tv",
        version=n,
        ts_ns=time.time_ns(),
        source="ingress",
        signal=Signal(source="tv", instrument="BTC-USDT", intent="exit", ts_ns=1),
    )


class FakeRisk:
    """Each call returns a future the test completes by hand."""

    def __init__(self) -> None:
        self.calls: list[tuple[SignalReceived, asyncio.Future[str]]] = []

    def __call__(self, event: SignalReceived) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.calls.append((event, future))
        return future

    def events(self) -> list[SignalReceived]:
        return [e for e, _ in self.calls]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_every_signal_gets_its_call_in_order_within_the_window() -> None:
    risk = FakeRisk()
    handoff = RiskHandoff(risk, window=3)
    events = [signal(i) for i in range(1, 8)]
    for e in events:
        handoff(e)
    assert risk.events() == events[:3]
    assert (handoff.in_flight, handoff.waiting) == (3, 4)

    risk.calls[1][1].set_result("approved")
    await settle()
    assert risk.events() == events[:4] and handoff.in_flight == 3

    while len(risk.calls) < len(events) or any(not f.done() for _, f in risk.calls):
        for _, future in risk.calls:
            if not future.done():
                future.set_result("approved")
        await settle()
    assert risk.events() == events
    assert handoff.counts["handed"] == len(events)
    assert (handoff.in_flight, handoff.waiting) == (0, 0)


async def test_a_failed_call_is_counted_and_the_next_goes_on() -> None:
    risk = FakeRisk()
    failures: list[SignalReceived] = []
    handoff = RiskHandoff(risk, window=1, on_failure=lambda e, exc: failures.append(e))
    first, second = signal(1), signal(2)
    handoff(first)
    handoff(second)
    risk.calls[0][1].set_exception(RuntimeError("risk actor died"))
    await settle()
    assert failures == [first]
    assert risk.events() == [first, second]
    assert handoff.counts["handoff_failures"] == 1


async def test_no_risk_actor_fails_fast_without_blocking_later_signals() -> None:
    calls: list[SignalReceived] = []

    def absent(event: SignalReceived) -> asyncio.Future[str]:
        calls.append(event)
        raise LookupError("risk.main is not running")

    handoff = RiskHandoff(absent, window=2)
    for i in range(1, 4):
        handoff(signal(i))
    assert len(calls) == 3 and handoff.counts["handoff_failures"] == 3
    assert handoff.in_flight == 0


async def test_overflow_beyond_the_backlog_is_left_to_recovery() -> None:
    risk = FakeRisk()
    handoff = RiskHandoff(risk, window=1, backlog=2)
    events = [signal(i) for i in range(1, 6)]
    for e in events:
        handoff(e)
    # one in flight, the two newest waiting, the two oldest waiting ones left to recovery
    assert risk.events() == events[:1]
    assert handoff.waiting == 2 and handoff.counts["left_to_recovery"] == 2
    risk.calls[0][1].set_result("approved")
    await settle()
    assert risk.events() == [events[0], events[3]]
    await handoff.close()
