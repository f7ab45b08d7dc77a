"""Webhook ingress actor: the webhook app of ``ingress/`` under uvicorn, inside a Ray actor.

Each request's outcome (an accepted signal or a refusal) is durable on the tape before the sender
gets its answer (``actors.ingress_sink.BatchingTapeSink``: micro-batched appends, a lone alert
written at once). Accepted signals are then handed to the risk actor without waiting for its
decisions (``RiskHandoff``: one call per batch, a bounded number in flight): the acknowledgement
never waits for the pipeline, and a risk manager that misses a call decides the signal from the
tape on its next call or restart. The actor is the single writer of its ``signals.<source>``
streams; on start it seeds the dedupe memory from them, so a redelivered alert is still a
duplicate after a restart.

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
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import ray
import uvicorn

from actors.ingress_sink import BatchingTapeSink, RiskHandoff
from actors.process import tune_gc
from actors.settings import IngressConfig
from domain.events import SignalReceived, signal_stream
from domain.signals import Refused
from ingress import IngressSettings, create_app
from store import Tape, open_tape

log = logging.getLogger("tapeline.ingress")

RESOLVE_BACKOFF_S = 1.0
BATCH = 256
SINGLE_CALLS_PER_BATCH = 32


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the host process (Ray, a test) owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_implementation() -> str:
    """httptools when installed (faster parsing), else the pure-Python h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def server_config(app: Any) -> uvicorn.Config:
    """How the webhook app is served (the latency benchmark's floor serves the same way)."""
    return uvicorn.Config(
        app,
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


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; bind errors surface here, not as uvicorn's ``sys.exit``.

    Created with ``IPPROTO_TCP`` so that asyncio switches Nagle's algorithm off (TCP_NODELAY) on
    every accepted connection: it only does so for sockets that say they are TCP. uvicorn
    writes a response's head and body separately, and with Nagle on the body can wait for the
    sender's delayed ACK (tens of milliseconds)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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
        forward: Callable[[list[SignalReceived]], None] | None = None,
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
                with contextlib.suppress(Refused):  # a key the replay holds already
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
            self._server = _Server(server_config(self.app))
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
    its event loop), and hands each accepted signal to ``risk.<profile>``."""

    def __init__(self, params: dict[str, Any], tape_url: str, namespace: str | None = None):
        self.params = IngressConfig.model_validate(params)
        self.namespace = namespace
        self.risk_name = f"risk.{self.params.risk}"
        self._risk: Any = None
        self._resolve_after = 0.0
        self.handoff = RiskHandoff(self._call_risk, on_failure=self._forget_risk)
        self.service = IngressService(
            self.params.ingress_settings(),
            open_tape(tape_url),
            self.handoff,
            host=self.params.host,
            port=self.params.port,
            offload=True,  # parse the next requests while a commit waits for the disk
        )
        self.service.listen()
        self._starting = asyncio.get_running_loop().create_task(self._start())
        tune_gc()

    async def _start(self) -> str:
        address = await self.service.start()
        with contextlib.suppress(Exception):  # resolved now so the first alert does not wait
            self._risk_handle()
        return address

    def _risk_handle(self) -> Any:
        if self._risk is None:
            if time.monotonic() < self._resolve_after:
                raise LookupError(f"{self.risk_name} is not running")
            try:
                self._risk = ray.get_actor(self.risk_name, namespace=self.namespace)
            except ValueError:
                self._resolve_after = time.monotonic() + RESOLVE_BACKOFF_S
                raise
        return self._risk

    def _call_risk(self, batch: list[SignalReceived]) -> Awaitable[Any]:
        """One ``on_recorded`` call per batch, naming the durable signals by event id (the risk
        manager reads them from the tape); else one ``on_signals`` call with the events; a risk
        actor with neither gets one ``on_signal`` call per signal (smaller batches then, so no
        more calls are in flight than before)."""
        risk = self._risk_handle()
        if hasattr(risk, "on_recorded"):
            self.handoff.max_batch = BATCH
            return risk.on_recorded.remote([e.event_id.bytes for e in batch])
        if hasattr(risk, "on_signals"):
            self.handoff.max_batch = BATCH
            return risk.on_signals.remote(batch)
        self.handoff.max_batch = SINGLE_CALLS_PER_BATCH
        return asyncio.gather(*(risk.on_signal.remote(event) for event in batch))

    def _forget_risk(self, batch: list[SignalReceived], exc: Exception) -> None:
        self._risk = None  # resolve it again (it may have been replaced)

    async def start(self) -> str:
        return await asyncio.shield(self._starting)

    async def address(self) -> str:
        return await asyncio.shield(self._starting)

    async def stats(self) -> dict[str, Any]:
        return {
            **self.service.stats(),
            **self.handoff.counts,
            "handoff_in_flight": self.handoff.in_flight,
            "handoff_waiting": self.handoff.waiting,
        }

    async def stop(self) -> None:
        await self.service.stop()
        await self.handoff.close()
