"""What happens to each webhook outcome: a durable, micro-batched append, then the hand-off.

``BatchingTapeSink`` is the ingress app's ``SignalSink``: it appends outcomes to the tape in
micro-batches (a lone alert is written at once; requests arriving during a write share the next
transaction) and answers each request only once its event is durable. ``RiskHandoff`` then gives
the accepted signals to the risk manager in batches without waiting for the decisions, with a
bounded number of calls in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from actors.tape_access import StreamWriter
from domain.events import Event, SignalReceived
from ingress import AcceptedSignal, RefusedRequest
from store import ConcurrencyConflict, Tape
from telemetry.trace_context import start_trace

log = logging.getLogger("tapeline.ingress")

Outcome = AcceptedSignal | RefusedRequest
APPEND_ATTEMPTS = 3
LOG_EVERY_S = 5.0


class BatchingTapeSink:
    """``SignalSink`` that appends outcomes to the tape in micro-batches, one writer task.

    ``record`` returns once the outcome's event is durable. Every outcome queued by the time the
    writer runs goes into one transaction (up to ``max_batch``); requests that arrive during a
    write form the next batch. Under load (the last batch held more than one outcome) the writer
    may linger ``linger_s`` to fill a batch, never for a lone outcome. With ``offload=True`` the
    append runs on one writer thread, so the event loop parses the next requests while a commit
    waits for the disk (the ingress actor does this: about 5 % more alerts per second on two
    cores under the webhook benchmark's load, one alert's latency unchanged); by default it runs
    on the event loop.
    ``on_accepted`` gets each durable batch's ``SignalReceived`` events, in order (it must not
    block).
    """

    def __init__(
        self,
        tape: Tape,
        on_accepted: Callable[[list[SignalReceived]], None] | None = None,
        *,
        source: str = "ingress",
        max_batch: int = 512,
        linger_s: float = 0.0,
        offload: bool = False,
    ) -> None:
        self.writer = StreamWriter(tape, source)
        self.on_accepted = on_accepted
        self.max_batch = max_batch
        self.linger_s = linger_s
        self.offload = offload
        self._queue: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingress-append")
            if offload
            else None
        )
        self._last_batch = 0
        self.counts = {"accepted": 0, "refused": 0, "batches": 0, "failed": 0, "max_batch": 0}

    async def record(self, outcome: Outcome) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        future: asyncio.Future[None] = loop.create_future()
        self._queue.append((outcome, future))
        assert self._wake is not None
        self._wake.set()
        await future

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                if self.linger_s and self._last_batch > 1 and len(self._queue) < self.max_batch:
                    await asyncio.sleep(self.linger_s)
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                outcomes = [o for o, _ in batch]
                try:
                    if self._executor is not None:
                        events = await loop.run_in_executor(self._executor, self._append, outcomes)
                    else:
                        events = self._append(outcomes)
                except Exception as exc:
                    self.counts["failed"] += len(batch)
                    log.error(
                        "ingress.append_failed",
                        extra={"outcomes": len(batch), "error": type(exc).__name__},
                    )
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self._done(batch, events)

    def _done(self, batch: list[tuple[Outcome, asyncio.Future[None]]], events: list[Event]) -> None:
        self._last_batch = len(batch)
        self.counts["batches"] += 1
        self.counts["max_batch"] = max(self.counts["max_batch"], len(batch))
        for _, future in batch:
            if not future.done():
                future.set_result(None)
        accepted = [e for e in events if isinstance(e, SignalReceived)]
        self.counts["accepted"] += len(accepted)
        self.counts["refused"] += len(events) - len(accepted)
        if accepted and self.on_accepted is not None:
            try:
                self.on_accepted(accepted)
            except Exception:
                log.exception("ingress.forward_failed", extra={"signals": len(accepted)})

    def _append(self, outcomes: Sequence[Outcome]) -> list[Event]:
        """Events with the next versions of their streams, appended in one transaction."""
        for attempt in range(APPEND_ATTEMPTS):
            events = self._build(outcomes)
            try:
                self.writer.append(events)
            except ConcurrencyConflict:
                if attempt == APPEND_ATTEMPTS - 1:
                    raise
                log.warning("ingress.concurrent_writer", extra={"attempt": attempt + 1})
                continue  # heads were dropped: re-read them and number the events again
            return events
        return []  # pragma: no cover - the loop returns or raises

    def _build(self, outcomes: Sequence[Outcome]) -> list[Event]:
        taken: dict[str, int] = {}
        events: list[Event] = []
        for outcome in outcomes:
            stream = outcome.stream
            version = taken.get(stream) or self.writer.next_version(stream)
            taken[stream] = version + 1
            if isinstance(outcome, AcceptedSignal):
                meta = self.writer.meta(traceparent=start_trace(outcome.signal_id))
            else:
                meta = self.writer.meta()
            events.append(outcome.to_event(meta, version))
        return events

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)


class RiskHandoff:
    """Hands durable signals to the risk manager in batches, never waiting for its decisions.

    Signals wait here in arrival order. Whenever fewer than ``window`` calls are in flight,
    everything waiting (up to ``max_batch``) goes in one call: a lone alert goes at once, alone,
    and under load the batches grow by themselves while the risk manager works on the previous
    ones (one Ray call, one serialisation, one decision append per batch instead of per signal).
    Past ``backlog`` waiting signals the oldest are left to the risk manager's recovery, which
    decides every recorded, undecided signal of its sources on each call and at start; a failed
    call is logged and left to the same recovery. ``call`` takes a batch and returns an
    awaitable (a Ray ObjectRef).
    """

    def __init__(
        self,
        call: Callable[[list[SignalReceived]], Awaitable[object]],
        *,
        window: int = 2,
        max_batch: int = 256,
        backlog: int = 10_000,
        on_failure: Callable[[list[SignalReceived], Exception], None] | None = None,
    ) -> None:
        self.call = call
        self.window = window
        self.max_batch = max_batch
        self.backlog = backlog
        self.on_failure = on_failure
        self._waiting: deque[SignalReceived] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self.counts = {
            "handed": 0,
            "handoff_batches": 0,
            "handoff_failures": 0,
            "left_to_recovery": 0,
        }
        self._unlogged = 0
        self._log_after = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def __call__(self, events: Sequence[SignalReceived]) -> None:
        """Queue a durable batch (the sink's) and send what the window allows."""
        self._waiting.extend(events)
        overflow = len(self._waiting) - self.backlog
        for _ in range(max(0, overflow)):
            self._waiting.popleft()
        self.counts["left_to_recovery"] += max(0, overflow)
        self._pump()

    def _pump(self) -> None:
        while len(self._tasks) < self.window and self._waiting:
            n = min(self.max_batch, len(self._waiting))
            batch = [self._waiting.popleft() for _ in range(n)]
            try:
                pending = self.call(batch)
            except Exception as exc:
                self._failed(batch, exc)
                continue
            task = asyncio.get_running_loop().create_task(self._watch(pending, batch))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    async def _watch(self, pending: Awaitable[object], batch: list[SignalReceived]) -> None:
        try:
            await pending
        except Exception as exc:
            self._failed(batch, exc)
        else:
            self.counts["handed"] += len(batch)
            self.counts["handoff_batches"] += 1

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._pump()

    def _failed(self, batch: list[SignalReceived], exc: Exception) -> None:
        """Counted every time, logged at most every ``LOG_EVERY_S`` (a risk actor that is down
        would otherwise cost a log line per batch)."""
        self.counts["handoff_failures"] += len(batch)
        self._unlogged += len(batch)
        now = time.monotonic()
        if now >= self._log_after:
            log.warning(
                "ingress.handoff_failed",
                extra={
                    "first_signal": str(batch[0].event_id),
                    "signals": len(batch),
                    "error": type(exc).__name__,
                    "failures_since_last_log": self._unlogged,
                },
            )
            self._unlogged = 0
            self._log_after = now + LOG_EVERY_S
        if self.on_failure is not None:
            self.on_failure(batch, exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._waiting.clear()
