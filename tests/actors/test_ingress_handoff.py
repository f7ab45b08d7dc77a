"""The hand-off from the ingress to the risk manager: batches of durable signals, never more
than the window of calls in flight, arrival order kept, a lone signal sent at once, failures and
overflow left to the risk manager's recovery from the tape."""

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
    """Each call (one batch) returns a future the test completes by hand."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[SignalReceived], asyncio.Future[str]]] = []

    def __call__(self, batch: list[SignalReceived]) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.calls.append((list(batch), future))
        return future

    def batches(self) -> list[list[SignalReceived]]:
        return [b for b, _ in self.calls]

    def events(self) -> list[SignalReceived]:
        return [e for b, _ in self.calls for e in b]

    def answer(self, index: int, result: str = "approved") -> None:
        self.calls[index][1].set_result(result)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_signal_goes_at_once_and_later_ones_gather_while_the_window_is_full() -> None:
    risk = FakeRisk()
    handoff = RiskHandoff(risk, window=2)
    events = [signal(i) for i in range(1, 10)]
    handoff(events[:1])
    handoff(events[1:2])
    assert risk.batches() == [events[:1], events[1:2]]
    handoff(events[2:5])
    handoff(events[5:9])
    assert (handoff.in_flight, handoff.waiting) == (2, 7)

    risk.answer(1)
    await settle()
    # everything that waited goes in one call, in arrival order
    assert risk.batches() == [events[:1], events[1:2], events[2:9]]
    risk.answer(0)
    risk.answer(2)
    await settle()
    assert risk.events() == events
    assert handoff.counts["handed"] == len(events) and handoff.counts["handoff_batches"] == 3
    assert (handoff.in_flight, handoff.waiting) == (0, 0)


async def test_batches_are_capped() -> None:
    risk = FakeRisk()
    handoff = RiskHandoff(risk, window=1, max_batch=3)
    events = [signal(i) for i in range(1, 9)]
    handoff(events[:1])
    handoff(events[1:])
    while len(risk.events()) < len(events) or not all(f.done() for _, f in risk.calls):
        for i, (_, future) in enumerate(risk.calls):
            if not future.done():
                risk.answer(i)
        await settle()
    assert [len(b) for b in risk.batches()] == [1, 3, 3, 1]
    assert risk.events() == events


async def test_a_failed_call_is_counted_and_the_next_goes_on() -> None:
    risk = FakeRisk()
    failures: list[SignalReceived] = []
    handoff = RiskHandoff(risk, window=1, on_failure=lambda b, exc: failures.extend(b))
    first, second, third = signal(1), signal(2), signal(3)
    handoff([first])
    handoff([second, third])
    risk.calls[0][1].set_exception(RuntimeError("risk actor died"))
    await settle()
    assert failures == [first]
    assert risk.batches() == [[first], [second, third]]
    assert handoff.counts["handoff_failures"] == 1


async def test_no_risk_actor_fails_fast_without_blocking_later_signals() -> None:
    calls: list[list[SignalReceived]] = []

    def absent(batch: list[SignalReceived]) -> asyncio.Future[str]:
        calls.append(batch)
        raise LookupError("risk.main is not running")

    handoff = RiskHandoff(absent, window=2)
    for i in range(1, 4):
        handoff([signal(i)])
    assert len(calls) == 3 and handoff.counts["handoff_failures"] == 3
    assert handoff.in_flight == 0


async def test_overflow_beyond_the_backlog_is_left_to_recovery() -> None:
    risk = FakeRisk()
    handoff = RiskHandoff(risk, window=1, backlog=2)
    events = [signal(i) for i in range(1, 6)]
    handoff(events[:1])
    handoff(events[1:])
    # one in flight, the two newest waiting, the two oldest waiting ones left to recovery
    assert risk.events() == events[:1]
    assert handoff.waiting == 2 and handoff.counts["left_to_recovery"] == 2
    risk.answer(0)
    await settle()
    assert risk.batches() == [events[:1], events[3:]]
    await handoff.close()
