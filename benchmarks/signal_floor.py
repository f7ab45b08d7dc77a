"""The floor of the webhook-to-order path, measured in the same run as the real thing.

Bare parts only: a FastAPI POST under the ingress's uvicorn set-up in a Ray actor, a one-way hop
between two async Ray actors carrying a ``SignalReceived``, and a raw durable SQLite commit (WAL,
synchronous=FULL) of one event-sized row. ``serve_bare_post`` measures the same bare POST through
Ray Serve (its HTTP proxy, then a replica), which is how uvicorn-in-an-actor was chosen.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import sqlite3
import time
from typing import Any

import orjson
import ray

from benchmarks._common import median, percentile

SOURCE = "bench"


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def connect(address: str) -> http.client.HTTPConnection:
    host, port = address.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


def timed_posts(address: str, path: str, body: bytes, n: int) -> list[float]:
    conn = connect(address)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        post(conn, path, body)
        out.append((time.perf_counter() - t0) * 1e3)
        time.sleep(0.002)
    conn.close()
    return out[10:]


@ray.remote(num_cpus=0)
class BareHttp:
    """A FastAPI POST endpoint under the ingress's uvicorn set-up, nothing behind it."""

    def __init__(self) -> None:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse

        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

        @app.post("/bare")
        async def bare(request: Request) -> JSONResponse:
            body = await request.body()
            return JSONResponse({"status": "accepted", "length": len(body)})

        self.app = app

    async def start(self) -> str:
        from actors.ingress import _Server, bind, server_config

        sock = bind("127.0.0.1", 0)
        self.server = _Server(server_config(self.app))
        self.task = asyncio.get_running_loop().create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            await asyncio.sleep(0.002)
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"


@ray.remote(num_cpus=0)
class Stamp:
    async def stamp(self, event: Any) -> int:
        return time.time_ns()


@ray.remote(num_cpus=0)
class Hopper:
    async def hops(self, target: Any, event: Any, n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.time_ns()
            t1 = await target.stamp.remote(event)
            out.append((t1 - t0) / 1e6)
            await asyncio.sleep(0.002)
        return out


def sample_event() -> Any:
    from domain.events import SignalReceived

    return SignalReceived(
        event_id="8d0c4a8e-7f3b-4a53-9a8f-0f8f5d9c1a11",
        stream=f"signals.{SOURCE}",
        version=1,
        ts_ns=time.time_ns(),
        source="ingress",
        signal={
            "source": SOURCE,
            "instrument": "BTC-USDT",
            "intent": "enter_long",
            "size": {"kind": "quantity", "value": "0.001"},
            "price_hint": "42000",
            "ts_ns": time.time_ns(),
        },
        format="tradingview",
        fingerprint="0" * 64,
    )


def raw_appends(directory: str, n: int) -> list[float]:
    conn = sqlite3.connect(f"{directory}/raw.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, stream TEXT, version INTEGER, "
        "topic TEXT, state BLOB, UNIQUE (stream, version))"
    )
    state = orjson.dumps(sample_event().model_dump(mode="json"))
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO events (stream, version, topic, state) VALUES (?, ?, ?, ?)",
            ("signals.raw", i + 1, "SignalReceived", state),
        )
        conn.execute("COMMIT")
        out.append((time.perf_counter() - t0) * 1e3)
        time.sleep(0.001)
    conn.close()
    return out


def floor(directory: str, body: bytes, n: int) -> dict[str, float]:
    """p50 of each bare part, and ``floor_p50_ms``: one POST, two one-way hops and the three
    appends that precede the venue's acknowledgement (signal, decision, order)."""
    bare = BareHttp.remote()
    posts = timed_posts(ray.get(bare.start.remote()), "/bare", body, n)
    hopper, stamp = Hopper.remote(), Stamp.remote()
    hops = ray.get(hopper.hops.remote(stamp, sample_event(), n))[10:]
    appends = raw_appends(directory, n)[10:]
    for actor in (bare, hopper, stamp):
        ray.kill(actor)
    parts = {
        "floor_post_p50_ms": median(posts),
        "floor_hop_p50_ms": median(hops),
        "floor_append_p50_ms": median(appends),
    }
    parts["floor_p50_ms"] = (
        parts["floor_post_p50_ms"]
        + 2 * parts["floor_hop_p50_ms"]
        + 3 * parts["floor_append_p50_ms"]
    )
    return parts


def serve_bare_post(body: bytes, n: int) -> dict[str, float] | None:
    """The bare POST through Ray Serve (None when Ray Serve's extras are not installed)."""
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse
        from ray import serve
    except ImportError:
        return None
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/bare")
    async def bare(request: Request) -> JSONResponse:
        return JSONResponse({"status": "accepted", "length": len(await request.body())})

    @serve.deployment(ray_actor_options={"num_cpus": 0})
    @serve.ingress(app)
    class Bare:
        pass

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        serve.run(Bare.bind(), route_prefix="/")
        posts = timed_posts(f"http://127.0.0.1:{port}", "/bare", body, n)
    finally:
        serve.shutdown()
    return {
        "serve_bare_post_p50_ms": median(posts),
        "serve_bare_post_p99_ms": percentile(posts, 99),
    }
