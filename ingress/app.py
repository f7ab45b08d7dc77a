"""The FastAPI application: ``POST /webhook/{source}`` and ``GET /health``.

Thin on purpose: the request goes to ``WebhookHandler``; the app adds routing and switches off
the interactive docs (a public endpoint should not advertise itself). The caller (the ingress
actor) runs it under uvicorn and passes the sink that appends outcomes to the tape.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ingress.handler import WebhookHandler
from ingress.outcomes import SignalSink
from ingress.settings import IngressSettings


def create_app(
    settings: IngressSettings, sink: SignalSink, clock: Callable[[], int] = time.time_ns
) -> FastAPI:
    """Build the webhook app. ``clock`` returns UTC nanoseconds (injectable for tests)."""
    app = FastAPI(title="Tapeline webhook ingress", docs_url=None, redoc_url=None, openapi_url=None)
    handler = WebhookHandler(settings, sink, clock)
    app.state.handler = handler

    @app.post("/webhook/{source}")
    async def webhook(source: str, request: Request) -> JSONResponse:
        return await handler.handle(source, request)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
