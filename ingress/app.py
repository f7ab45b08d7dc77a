"""The webhook application: ``POST /webhook/{source}`` and ``GET /health``.

Thin on purpose: the request goes to ``WebhookHandler``. It is a plain Starlette app (the ASGI
core FastAPI is built on) with two routes: FastAPI's per-request dependency solving, body-limit
and telemetry wrappers cost more CPU than the whole signal parse, and this endpoint needs none of
them (no OpenAPI either: a public endpoint should not advertise itself). The caller (the ingress
actor) runs it under uvicorn and passes the sink that appends outcomes to the tape.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingress.handler import WebhookHandler, json_response
from ingress.outcomes import SignalSink
from ingress.settings import IngressSettings


def create_app(
    settings: IngressSettings, sink: SignalSink, clock: Callable[[], int] = time.time_ns
) -> Starlette:
    """Build the webhook app. ``clock`` returns UTC nanoseconds (injectable for tests)."""
    handler = WebhookHandler(settings, sink, clock)

    async def webhook(request: Request) -> Response:
        return await handler.handle(request.path_params["source"], request)

    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/webhook/{source}", webhook, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    app.state.handler = handler
    return app
