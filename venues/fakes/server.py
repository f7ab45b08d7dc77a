"""Runs a fake venue as an aiohttp server on 127.0.0.1 in a background thread.

The server owns the parts every fake shares: the fault middleware (latency, hangs, 429/418, 5xx,
lost responses), the admin endpoint under ``/__admin`` (arm/clear faults, move the mark, list
orders) and start/stop on an ephemeral port. Each venue fake only provides its routes, how it
classifies a request and what its own throttling and error replies look like.
"""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

from aiohttp import web

from venues.fakes.busy import BusyMeter, thread_cpu_ns
from venues.fakes.engine import Engine
from venues.fakes.faults import Fault, FaultKind, FaultSwitch

FAULTS_KEY = web.RequestKey("faults", dict)


class FakeVenue:
    """Base of the venue fakes: wire protocol in the subclass, shared plumbing here."""

    name = "fake"

    def __init__(self, engine: Engine, faults: FaultSwitch | None = None) -> None:
        self.engine = engine
        self.faults = faults or FaultSwitch()
        self.busy = BusyMeter()

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def classify(self, request: web.Request) -> str:
        """The request class a fault may target: place, cancel, query, fills, balance, ..."""
        raise NotImplementedError

    def throttled(self, status: int, retry_after_s: int) -> web.Response:
        return web.json_response(
            {"error": "rate limited"},
            status=status,
            headers={"Retry-After": str(retry_after_s)},
        )

    def server_error(self, status: int) -> web.Response:
        return web.Response(status=status, text="Service Unavailable", content_type="text/html")

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._fault_middleware])
        app.add_routes(self.routes())
        app.add_routes(_admin_routes(self))
        return app

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/__admin"):
            return await handler(request)
        started = thread_cpu_ns()
        try:
            return await self._faulted(request, handler)
        finally:
            self.busy.add(thread_cpu_ns() - started)

    async def _faulted(self, request: web.Request, handler: Any) -> web.StreamResponse:
        hit = self.faults.take(self.classify(request))
        request[FAULTS_KEY] = hit
        if (f := hit.get(FaultKind.LATENCY)) is not None:
            await asyncio.sleep(f.latency_s)
        if (f := hit.get(FaultKind.RATE_LIMIT)) is not None:
            return self.throttled(429, f.retry_after_s)
        if (f := hit.get(FaultKind.BANNED)) is not None:
            return self.throttled(418, f.retry_after_s)
        if (f := hit.get(FaultKind.SERVER_ERROR)) is not None:
            return self.server_error(f.status)
        timeout = hit.get(FaultKind.TIMEOUT)
        if timeout is not None and not timeout.placed:
            await asyncio.sleep(timeout.hang_s)
            return self.server_error(504)
        response = await handler(request)
        if timeout is not None:
            await asyncio.sleep(timeout.hang_s)
        if (f := hit.get(FaultKind.RESPONSE_LOST)) is not None:
            if f.drop and request.transport is not None:
                request.transport.abort()
                raise asyncio.CancelledError
            return web.Response(status=500, text="Internal Server Error")
        return response


def fault(request: web.Request, kind: FaultKind) -> Fault | None:
    """The fault of this kind that hit the request, if any (for venue-specific faults)."""
    return request.get(FAULTS_KEY, {}).get(kind)


def _admin_routes(venue: FakeVenue) -> list[web.RouteDef]:
    async def list_faults(_: web.Request) -> web.Response:
        return web.json_response([f.model_dump(mode="json") for f in venue.faults.active()])

    async def add_fault(request: web.Request) -> web.Response:
        armed = venue.faults.arm(Fault.model_validate(await request.json()))
        return web.json_response(armed.model_dump(mode="json"))

    async def clear_faults(_: web.Request) -> web.Response:
        venue.faults.clear()
        return web.json_response({"cleared": True})

    async def set_mark(request: web.Request) -> web.Response:
        body = await request.json()
        venue.engine.set_mark(body["symbol"], Decimal(str(body["price"])))
        return web.json_response({"ok": True})

    async def orders(_: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "order_id": o.order_id,
                    "client_order_id": o.client_order_id,
                    "symbol": o.symbol,
                    "side": o.side,
                    "status": o.status,
                    "quantity": str(o.quantity),
                    "filled": str(o.filled),
                }
                for o in venue.engine.all_orders()
            ]
        )

    return [
        web.get("/__admin/faults", list_faults),
        web.post("/__admin/faults", add_fault),
        web.delete("/__admin/faults", clear_faults),
        web.post("/__admin/mark", set_mark),
        web.get("/__admin/orders", orders),
    ]


class FakeServer:
    """One fake venue served on an ephemeral port of 127.0.0.1 from its own thread and loop."""

    def __init__(self, venue: FakeVenue) -> None:
        self.venue = venue
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"fake-{venue.name}", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"fake {self.venue.name} failed to start") from self._error
        return self.base_url

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(
            self.venue.build_app(), access_log=None, handle_signals=False, shutdown_timeout=0.2
        )
        try:
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for task in pending:  # handlers still hanging on a TIMEOUT fault
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()
