"""The floor of the webhook-to-order path, measured in the same run as the real thing.

Bare parts only: a FastAPI POST under the ingress's uvicorn set-up in a Ray actor, a one-way hop
between two async Ray actors carrying a ``SignalReceived``, and a raw durable SQLite commit (WAL,
synchronous=FULL) of one event-sized row. ``serve_bare_post`` measures the same bare POST through
Ray Serve (its HTTP proxy, then a replica), which is how uvicorn-in-an-actor was chosen.

Each part is timed at the pace the real path is timed at (one alert every ``PACE_S`` or so): on
this shared virtual machine the same code runs several times slower after a few milliseconds
idle than back to back (caches and branch predictors go cold), so a floor timed back to back
would compare a warm path with a cold one. ``FloorRig`` keeps its actors between rounds, so the
benchmark can alternate rounds of the real path and of the floor under the same conditions.
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
PACE_S = 0.008
"""Idle time between two timed operations: about what the real path's one-at-a-time loop leaves
between alerts (its 5 ms pause plus the wait for the venue's acknowledgement)."""
HOT_PACE_S = 0.001
"""The same parts nearly back to back, reported beside (``floor_hot_*``): the floor of a warm
path, which the real path, timed one alert at a time, never is."""


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def connect(address: str) -> http.client.HTTPConnection:
    host, port = address.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


def timed_posts(
    address: str, path: str, body: bytes, n: int, pace_s: float = PACE_S
) -> list[float]:
    conn = connect(address)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        post(conn, path, body)
        out.append((time.perf_counter() - t0) * 1e3)
        time.sleep(pace_s)
    conn.close()
    return out


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
    async def hops(self, target: Any, event: Any, n: int, pace_s: float) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.time_ns()
            t1 = await target.stamp.remote(event)
            out.append((t1 - t0) / 1e6)
            await asyncio.sleep(pace_s)
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


class RawAppends:
    """Raw durable commits of one event-sized row (WAL, synchronous=FULL), in their own file."""

    def __init__(self, directory: str) -> None:
        self.conn = sqlite3.connect(f"{directory}/raw.sqlite", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, stream TEXT, "
            "version INTEGER, topic TEXT, state BLOB, UNIQUE (stream, version))"
        )
        self.state = orjson.dumps(sample_event().model_dump(mode="json"))
        self.version = 0

    def timed(self, n: int, pace_s: float = PACE_S) -> list[float]:
        out = []
        for _ in range(n):
            self.version += 1
            t0 = time.perf_counter()
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT INTO events (stream, version, topic, state) VALUES (?, ?, ?, ?)",
                ("signals.raw", self.version, "SignalReceived", self.state),
            )
            self.conn.execute("COMMIT")
            out.append((time.perf_counter() - t0) * 1e3)
            time.sleep(pace_s)
        return out

    def close(self) -> None:
        self.conn.close()


class FloorRig:
    """The bare parts, set up once; ``measure`` adds a round of each to the samples (the first
    round's first ten of each are a warm-up and dropped)."""

    def __init__(self, directory: str, body: bytes) -> None:
        self.body = body
        self.bare = BareHttp.remote()
        self.address = ray.get(self.bare.start.remote())
        self.hopper, self.stamp = Hopper.remote(), Stamp.remote()
        self.appends = RawAppends(directory)
        self.samples: dict[str, dict[str, list[float]]] = {
            pace: {"post": [], "hop": [], "append": []} for pace in ("paced", "hot")
        }
        self._warm = False

    def measure(self, n: int) -> None:
        skip = 0 if self._warm else 10
        self._warm = True
        for pace, pace_s in (("paced", PACE_S), ("hot", HOT_PACE_S)):
            posts = timed_posts(self.address, "/bare", self.body, n + skip, pace_s)
            event = sample_event()
            hops = ray.get(self.hopper.hops.remote(self.stamp, event, n + skip, pace_s))
            appends = self.appends.timed(n + skip, pace_s)
            samples = self.samples[pace]
            samples["post"] += posts[skip:]
            samples["hop"] += hops[skip:]
            samples["append"] += appends[skip:]

    def parts(self) -> dict[str, float]:
        """p50 of each bare part, and ``floor_p50_ms``: one POST, two one-way hops and the three
        appends that precede the venue's acknowledgement (signal, decision, order); the same
        as ``floor_hot_*`` for the parts timed nearly back to back."""
        out: dict[str, float] = {}
        for pace, prefix in (("paced", "floor"), ("hot", "floor_hot")):
            parts = {f"{prefix}_{name}_p50_ms": median(v) for name, v in self.samples[pace].items()}
            out |= parts
            out[f"{prefix}_p50_ms"] = (
                parts[f"{prefix}_post_p50_ms"]
                + 2 * parts[f"{prefix}_hop_p50_ms"]
                + 3 * parts[f"{prefix}_append_p50_ms"]
            )
        return out

    def close(self) -> None:
        for actor in (self.bare, self.hopper, self.stamp):
            ray.kill(actor)
        self.appends.close()


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
        posts = timed_posts(f"http://127.0.0.1:{port}", "/bare", body, n + 10)[10:]
    finally:
        serve.shutdown()
    return {
        "serve_bare_post_p50_ms": median(posts),
        "serve_bare_post_p99_ms": percentile(posts, 99),
    }
