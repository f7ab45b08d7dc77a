"""The webhook application: ``POST /webhook/{source}`` and ``GET /health``.

Thin on purpose: the request goes to ``WebhookHandler``. It is a bare ASGI application that
routes its two paths itself and uses Starlette's ``Request`` and ``Response``: a framework's
router, exception middlewares and per-request dependency solving cost more CPU than the whole
signal parse, and this endpoint needs none of them (no OpenAPI either: a public endpoint should
not advertise itself). The caller (the ingress actor) runs it under uvicorn and passes the sink
that appends outcomes to the tape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import SimpleNamespace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ingress.handler import WebhookHandler, json_response
from ingress.outcomes import SignalSink
from ingress.settings import IngressSettings

log = logging.getLogger("tapeline.ingress")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

WEBHOOK_PREFIX = "/webhook/"


class WebhookApp:
    """ASGI app: ``POST /webhook/{source}`` to the handler, ``GET /health``; anything else is
    404, or 405 with ``Allow`` for a known path with another method. An error escaping the
    handler (it refuses everything it can with a 4xx) is logged and answered 500, never left to
    the server."""

    def __init__(self, handler: WebhookHandler) -> None:
        self.handler = handler
        self.state = SimpleNamespace(handler=handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            return  # websockets: not served (the server answers the upgrade with a 403)
        started = False

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            response = await self._route(scope, receive)
            await response(scope, receive, tracking_send)
        except Exception:
            log.exception("webhook app failed", extra={"path": str(scope.get("path"))[:200]})
            if not started:
                error = json_response({"status": "error", "error": "internal error"}, 500)
                await error(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive) -> Response:
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith(WEBHOOK_PREFIX):
            source = path[len(WEBHOOK_PREFIX) :]
            if not source or "/" in source:
                return _not_found()
            if method != "POST":
                return _not_allowed("POST")
            return await self.handler.handle(source, Request(scope, receive))
        if path == "/health":
            if method not in ("GET", "HEAD"):
                return _not_allowed("GET, HEAD")
            return json_response({"status": "ok"})
        return _not_found()


def create_app(
    settings: IngressSettings, sink: SignalSink, clock: Callable[[], int] = time.time_ns
) -> WebhookApp:
    """Build the webhook app. ``clock`` returns UTC nanoseconds (injectable for tests)."""
    return WebhookApp(WebhookHandler(settings, sink, clock))


def _not_found() -> Response:
    return json_response({"status": "error", "error": "not found"}, 404)


def _not_allowed(allow: str) -> Response:
    return json_response(
        {"status": "error", "error": f"method not allowed: use {allow}"}, 405, {"Allow": allow}
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
