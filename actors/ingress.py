"""Webhook ingress actor: the FastAPI app of ``ingress/`` under uvicorn, inside a Ray actor.

Each request's outcome (an accepted signal or a refusal) is appended to the tape before the
sender gets its answer; appends are micro-batched (outcomes that arrive while a write is under
way go together in the next transaction, each request awaiting its own durability future), so a
lone alert is written at once and a burst costs one fsync per batch. Accepted signals are then
handed to the risk actor without waiting for its decision: the acknowledgement never waits for
the pipeline, and a risk manager that misses a call decides the signal from the tape on its next
call or restart. The actor is the single writer of its ``signals.<source>`` streams; on start it
seeds the dedupe memory from them, so a redelivered alert is still a duplicate after a restart.

``IngressService`` is the whole thing without Ray (tests run it in-process); ``IngressActor``
is the Ray shell that resolves the risk actor by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ray
import uvicorn
from pydantic import BaseModel, ConfigDict, Field

from actors.tape_access import StreamWriter
from domain.events import Event, SignalReceived, signal_stream
from domain.signals import Refused
from ingress import AcceptedSignal, IngressSettings, RefusedRequest, create_app
from store import ConcurrencyConflict, Tape, open_tape
from telemetry.trace_context import start_trace

log = logging.getLogger("tapeline.ingress")

Outcome = AcceptedSignal | RefusedRequest
APPEND_ATTEMPTS = 3


class IngressParams(BaseModel):
    """What the actor is created with (``cluster.config.IngressConfig`` dumped)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535, description="0 picks a free port")
    risk: str = "main"
    settings: IngressSettings = Field(default_factory=lambda: IngressSettings(sources={}))


class BatchingTapeSink:
    """``SignalSink`` that appends outcomes to the tape in micro-batches, one writer task.

    ``record`` returns once the outcome's event is durable. Every outcome queued by the time the
    writer runs goes into one transaction (up to ``max_batch``); requests that arrive during a
    write form the next batch. Under load (the last batch held more than one outcome) the writer
    may linger ``linger_s`` to fill a batch, never for a lone outcome. By default the append runs
    on the event loop: on a small machine a writer thread costs more in GIL hand-offs and wake-ups
    than it gains by overlapping parsing with the commit (``offload=True`` uses one anyway).
    ``on_accepted`` gets every durable ``SignalReceived`` (it must not block).
    """

    def __init__(
        self,
        tape: Tape,
        on_accepted: Callable[[SignalReceived], None] | None = None,
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
        for event in events:
            if isinstance(event, SignalReceived):
                self.counts["accepted"] += 1
                if self.on_accepted is not None:
                    try:
                        self.on_accepted(event)
                    except Exception:
                        log.exception(
                            "ingress.forward_failed", extra={"signal": str(event.event_id)}
                        )
            else:
                self.counts["refused"] += 1

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
            meta = self.writer.meta()
            if isinstance(outcome, AcceptedSignal):
                meta = meta.model_copy(update={"traceparent": start_trace(outcome.signal_id)})
            events.append(outcome.to_event(meta, version))
        return events

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the host process (Ray, a test) owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_implementation() -> str:
    """httptools when installed (faster parsing), else the pure-Python h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; bind errors surface here, not as uvicorn's ``sys.exit``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class IngressService:
    """The webhook app, its tape sink and its uvicorn server, in the running event loop."""

    def __init__(
        self,
        settings: IngressSettings,
        tape: Tape,
        forward: Callable[[SignalReceived], None] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], int] = time.time_ns,
        linger_s: float = 0.0,
        offload: bool = False,
    ) -> None:
        self.settings = settings
        self.tape = tape
        self.host = host
        self.port = port
        self.sink = BatchingTapeSink(tape, forward, linger_s=linger_s, offload=offload)
        self.app = create_app(settings, self.sink, clock)
        self.remembered = self.rebuild_dedupe()
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._bound: tuple[str, int] | None = None

    def rebuild_dedupe(self) -> int:
        """Seed each source's dedupe memory from its stream; returns how many signals were seen."""
        handler = self.app.state.handler
        n = 0
        for source in self.settings.sources:
            deduper = handler.deduper(source)
            for event in self.tape.read_stream(signal_stream(source)):
                if not isinstance(event, SignalReceived):
                    continue
                n += 1
                if event.fingerprint is None:
                    if event.signal.alert_id is not None:
                        deduper.remember_alert_id(event.signal.alert_id, event.ts_ns)
                    continue
                with contextlib.suppress(Refused):  # recorded twice already: nothing to add
                    deduper.reserve(event.signal.alert_id, event.fingerprint, event.ts_ns)
        return n

    def listen(self) -> str:
        """Bind the port now (so a port in use fails the caller at once); returns the URL."""
        if self._socket is None:
            self._socket = bind(self.host, self.port)
            self._bound = self._socket.getsockname()[:2]
        return self.address()

    async def start(self) -> str:
        """Bind and serve (idempotent); returns the base URL, e.g. ``http://127.0.0.1:8787``."""
        if self._serving is None:
            self.listen()
            assert self._socket is not None
            config = uvicorn.Config(
                self.app,
                loop="none",
                http=http_implementation(),
                lifespan="off",
                log_level="warning",
                access_log=False,
                server_header=False,
                date_header=False,
                proxy_headers=False,  # the app resolves X-Forwarded-For from trusted proxies only
                timeout_keep_alive=75,
                backlog=2048,
            )
            self._server = _Server(config)
            self._serving = asyncio.get_running_loop().create_task(
                self._server.serve(sockets=[self._socket])
            )
        assert self._server is not None
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # raises what stopped it
                raise RuntimeError("the webhook server stopped while starting")
            await asyncio.sleep(0.002)
        return self.address()

    def address(self) -> str:
        if self._bound is None:
            raise RuntimeError("the webhook server is not started")
        host, port = self._bound
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    async def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._serving, timeout=5)
        await self.sink.close()

    def stats(self) -> dict[str, Any]:
        requests = self._server.server_state.total_requests if self._server else 0
        return {
            "address": self.address() if self._bound else None,
            "requests": requests,
            "remembered_at_start": self.remembered,
            **self.sink.counts,
            "lag": 0,
        }


@ray.remote(max_restarts=-1, max_task_retries=-1)
class IngressActor:
    """The Ray shell: serves from creation on (Ray runs an async actor's ``__init__`` inside
    its event loop), and fires each accepted signal at ``risk.<profile>``."""

    def __init__(self, params: dict[str, Any], tape_url: str, namespace: str | None = None):
        self.params = IngressParams.model_validate(params)
        self.namespace = namespace
        self.risk_name = f"risk.{self.params.risk}"
        self._risk: Any = None
        self._watching: set[asyncio.Task[None]] = set()
        self.forward_failures = 0
        self.service = IngressService(
            self.params.settings,
            open_tape(tape_url),
            self._forward,
            host=self.params.host,
            port=self.params.port,
        )
        self.service.listen()
        self._starting = asyncio.get_running_loop().create_task(self.service.start())

    def _risk_handle(self) -> Any:
        if self._risk is None:
            self._risk = ray.get_actor(self.risk_name, namespace=self.namespace)
        return self._risk

    def _forward(self, event: SignalReceived) -> None:
        """Fire and forget; the ObjectRef is watched only to log a failed hand-off."""
        try:
            ref = self._risk_handle().on_signal.remote(event)
        except Exception as exc:  # no risk actor now: it decides from the tape when it starts
            self._failed(event, exc)
            return
        task = asyncio.get_running_loop().create_task(self._watch(ref, event))
        self._watching.add(task)
        task.add_done_callback(self._watching.discard)

    async def _watch(self, ref: Any, event: SignalReceived) -> None:
        try:
            await ref
        except Exception as exc:
            self._risk = None  # resolve it again next time (it may have been replaced)
            self._failed(event, exc)

    def _failed(self, event: SignalReceived, exc: Exception) -> None:
        self.forward_failures += 1
        log.warning(
            "ingress.handoff_failed",
            extra={
                "signal": str(event.event_id),
                "risk": self.risk_name,
                "error": type(exc).__name__,
            },
        )

    async def start(self) -> str:
        return await asyncio.shield(self._starting)

    async def address(self) -> str:
        return await asyncio.shield(self._starting)

    async def stats(self) -> dict[str, Any]:
        return {
            **self.service.stats(),
            "in_flight": len(self._watching),
            "handoff_failures": self.forward_failures,
        }

    async def stop(self) -> None:
        await self.service.stop()
