"""Helpers for the ingress tests: settings, a controllable clock, and an in-process client."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
from starlette.types import ASGIApp

from domain.signals import RateLimit, SourceSettings
from ingress import IngressSettings

SECRET = "tv-Secret-8f3a"
OTHER_SECRET = "cmd-Secret-77aa"
NOW_NS = 1_714_564_800_000_000_000
NOW_ISO = "2024-05-01T12:00:00Z"
TV_PEER = ("52.89.214.238", 443)


class Clock:
    """UTC nanoseconds that only move when a test says so."""

    def __init__(self, ns: int = NOW_NS) -> None:
        self.ns = ns

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += int(seconds * 1_000_000_000)


def ingress_settings(**tv_changes: object) -> IngressSettings:
    tv = {
        "secret": SECRET,
        "ip_preset": "tradingview",
        "rate_limit": RateLimit(per_second=1000, burst=1000),
    }
    tv.update(tv_changes)
    return IngressSettings(
        sources={
            "tv": SourceSettings(**tv),
            "cmd": SourceSettings(secret=OTHER_SECRET, rate_limit=None),
        },
        trusted_proxies=("10.0.0.0/8",),
        max_body_bytes=1024,
    )


async def apost(
    app: ASGIApp,
    path: str,
    content: bytes | str,
    headers: Mapping[str, str] | None = None,
    client: tuple[str, int] = TV_PEER,
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
        return await http.post(path, content=content, headers=headers)


def post(
    app: ASGIApp,
    path: str,
    content: bytes | str,
    headers: Mapping[str, str] | None = None,
    client: tuple[str, int] = TV_PEER,
) -> httpx.Response:
    return asyncio.run(apost(app, path, content, headers, client))
