"""Webhook signal latency and throughput through the running system on local Ray.

A TradingView strategy alert (order semantics, alternating buy and sell 0.001 BTC) is POSTed to
the ingress actor of a system started with ``cluster.runtime.start_system`` (ingress, risk
manager, paper gateway, projector, market data; no strategy actor) on a fresh SQLite tape.
Prints one JSON object on its last line:

- ``ack_p50_ms`` / ``ack_p99_ms``: POST to 200 (the signal durable on the tape), one alert at a
  time, from a plain ``http.client`` connection kept alive.
- ``order_p50_ms`` / ``order_p99_ms``: POST to the paper venue's acknowledgement, i.e. the
  ``ts_ns`` of the order's ``OrderAccepted`` (stamped when the venue answered, before that event
  is appended). Path: HTTP, append SignalReceived, hop to risk, decide, append the approval, hop to
  the gateway, append OrderSubmitted, place on the paper venue. ``order_breakdown_p50_ms`` splits
  it by the events' stamps (each stamp is taken just before that event's append): POST to the
  signal stamped (HTTP and parsing), to the decision stamped (signal append, hop, risk's tape
  sync), to the order stamped (decision append, hop to the gateway), to the venue's ack (order
  append, paper placement).
- ``floor_p50_ms``: the same path's bare parts measured in this run and added up: a bare FastAPI
  POST (same uvicorn set-up, in a Ray actor), two one-way hops between async Ray actors carrying
  the same event, and three raw durable SQLite commits (WAL, synchronous=FULL). ``ratio_p50`` is
  ``order_p50_ms / floor_p50_ms``. The real path and the floor are measured in alternating rounds
  (``--rounds``), each part at the real path's pace (``benchmarks.signal_floor``);
  ``floor_hot_p50_ms`` / ``ratio_hot_p50`` are the same with the parts timed nearly back to back
  (a floor the real path, one alert at a time, never gets: shown for comparison).
- ``sustained_alerts_per_s``, ``sustained_p99_ms``: acknowledged alerts per second over
  ``--seconds`` with ``--concurrency`` keep-alive connections (a raw asyncio HTTP/1.1 client),
  while the rest of the pipeline works behind; ``pipeline_decided``/``pipeline_orders`` say how
  far the risk manager and gateway got by the end of the window; ``sustained_cpu_percent`` how
  busy each actor's process and the client were meanwhile (percent of one core), and
  ``sustained_cpu_ms_per_alert`` the same per acknowledged alert (CPU milliseconds; steadier than
  the rate on a machine shared with other work).
- ``ingress_alone_alerts_per_s`` / ``ingress_alone_p99_ms``: the same load for ``--solo-seconds``
  on a second ingress actor (own tape, a risk actor that does nothing): the ingress's own ceiling
  on this machine, without the pipeline competing for the cores.
- ``serve_bare_post_p50_ms`` (with ``--compare-serve``, when Ray Serve's extras are installed):
  the floor's bare POST through Ray Serve instead of uvicorn in an actor.
- ``cpu_probe_us_before`` / ``_after``: a fixed pure-Python loop timed before and after
  (``benchmarks._common.cpu_probe_us``): how fast the shared host was during the run.
- ``lost`` / ``duplicated``: acknowledged alerts without a ``SignalReceived``, and alerts with
  more than one ``SignalReceived`` or more than one order (both must be 0).

Starts its own local Ray (2 CPUs, no dashboard) and shuts it down. Usage:
``python benchmarks/signal_latency.py [--alerts 300] [--seconds 60] [--concurrency 64]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import ray

from benchmarks._common import cpu_probe_us, emit, machine, median, percentile
from benchmarks.signal_floor import FloorRig, connect, post, serve_bare_post

SECRET = "bench-Secret-0b1e5"
SOURCE = "bench"
NS = "bench_signal_latency"


def alert_body(n: int) -> bytes:
    return orjson.dumps(
        {
            "secret": SECRET,
            "ticker": "BINANCE:BTCUSDT",
            "exchange": "BINANCE",
            "action": "buy" if n % 2 == 0 else "sell",
            "contracts": "0.001",
            "order_id": f"bench-{n}",
            "price": "42000",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


# the system ------------------------------------------------------------------------------------


def start(tape_url: str) -> Any:
    from cluster.config import (
        IngressConfig,
        MarketDataConfig,
        RayConfig,
        TapeConfig,
        TapelineConfig,
    )
    from cluster.runtime import start_system

    cfg = TapelineConfig(
        tape=TapeConfig(url=tape_url),
        ray=RayConfig(namespace=NS, dashboard=False),
        market_data=MarketDataConfig(instruments=["BTC-USDT"], bars=20, seed=3),
        strategies=[],
        ingress=IngressConfig(
            port=0, settings={"sources": {SOURCE: {"secret": SECRET, "rate_limit": None}}}
        ),
    )
    system = start_system(cfg)
    ray.get(system.market_data.run.remote(max_steps=2), timeout=60)
    return system


STAGES = ("SignalReceived", "OrderIntentApproved", "OrderSubmitted", "OrderAccepted")


class OrderWatch:
    """Follows the tape: when each signal's events were stamped, up to the venue's ack."""

    def __init__(self, tape_url: str) -> None:
        from actors.tape_access import TapeFollower
        from store import open_tape

        self.tape = open_tape(tape_url)
        self.follower = TapeFollower(self.tape, STAGES)
        self.order_of: dict[str, str] = {}  # client order id -> signal id
        self.stamps: dict[str, dict[str, int]] = {}  # signal id -> stage -> ts_ns

    def poll(self) -> None:
        for rec in self.follower.poll():
            e = rec.event
            kind = type(e).__name__
            if kind == "SignalReceived":
                signal_id = str(e.event_id)
            elif kind == "OrderAccepted":
                signal_id = self.order_of.get(e.client_order_id, "")
            else:
                signal_id = e.correlation_id or ""
                if kind == "OrderSubmitted":
                    self.order_of[e.client_order_id] = signal_id
            self.stamps.setdefault(signal_id, {})[kind] = e.ts_ns

    def wait(self, signal_id: str, timeout_s: float = 5.0) -> dict[str, int] | None:
        deadline = time.monotonic() + timeout_s
        time.sleep(0.004)  # leave the pipeline alone while it works
        while time.monotonic() < deadline:
            self.poll()
            if "OrderAccepted" in self.stamps.get(signal_id, {}):
                return self.stamps[signal_id]
            time.sleep(0.002)
        return None


def one_at_a_time(address: str, watch: OrderWatch, n: int, first: int) -> dict[str, list[float]]:
    conn = connect(address)
    out: dict[str, list[float]] = {"ack": [], "order": []}
    for i in range(first, first + n):
        body = alert_body(i)
        t0_ns = time.time_ns()
        t0 = time.perf_counter()
        status, raw = post(conn, f"/webhook/{SOURCE}", body)
        out["ack"].append((time.perf_counter() - t0) * 1e3)
        if status != 200:
            raise RuntimeError(f"alert {i} answered {status}: {raw[:200]!r}")
        stamps = watch.wait(orjson.loads(raw)["signal_id"])
        if stamps is None:
            raise RuntimeError(f"alert {i} led to no acknowledged order within 5 s")
        out["order"].append((stamps["OrderAccepted"] - t0_ns) / 1e6)
        previous = t0_ns
        for stage in STAGES:
            out.setdefault(stage, []).append((stamps[stage] - previous) / 1e6)
            previous = stamps[stage]
        time.sleep(0.005)
    conn.close()
    return out


# sustained -------------------------------------------------------------------------------------


async def _client(
    host: str, port: int, deadline: float, numbers: Any, out: list[tuple[float, int, bytes]]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    head = f"POST /webhook/{SOURCE} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    try:
        while time.perf_counter() < deadline:
            body = alert_body(next(numbers))
            t0 = time.perf_counter()
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            header = await reader.readuntil(b"\r\n\r\n")
            status = int(header[9:12])
            length = 0
            for line in header.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            payload = await reader.readexactly(length)
            out.append((time.perf_counter() - t0, status, payload))
    finally:
        writer.close()


async def _sustain(address: str, seconds: float, concurrency: int, first: int) -> Any:
    host, port = address.removeprefix("http://").rsplit(":", 1)
    numbers = itertools.count(first)
    out: list[tuple[float, int, bytes]] = []
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(
        *(_client(host, int(port), deadline, numbers, out) for _ in range(concurrency))
    )
    return out, time.perf_counter() - t0


def actor_processes() -> dict[str, Any]:
    """psutil processes of this namespace's named actors, plus this driver (the load client)."""
    import psutil
    import ray._private.state as gcs

    procs = {"client (driver)": psutil.Process()}
    for info in gcs.actors().values():
        if info.get("State") == "ALIVE" and info.get("Name") and info.get("Pid"):
            procs[str(info["Name"])] = psutil.Process(info["Pid"])
    for proc in procs.values():
        proc.cpu_percent(None)
    return procs


def sustained(address: str, seconds: float, concurrency: int, first: int) -> dict[str, Any]:
    """The load, and how busy each process was meanwhile (percent of one core)."""
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    procs = actor_processes()
    out, elapsed = runner(_sustain(address, seconds, concurrency, first))
    cpu = {name: round(proc.cpu_percent(None), 1) for name, proc in procs.items()}
    ok = [(lat, payload) for lat, status, payload in out if status == 200]
    rate = len(ok) / elapsed
    return {
        "sustained_cpu_percent": cpu,
        "sustained_cpu_ms_per_alert": {
            name: round(pct / 100 * 1e3 / rate, 3) if rate else None for name, pct in cpu.items()
        },
        "ids": [orjson.loads(payload)["signal_id"] for _, payload in ok],
        "sustained_alerts_per_s": round(rate, 1),
        "sustained_p50_ms": round(median([lat for lat, _ in ok]) * 1e3, 3),
        "sustained_p99_ms": round(percentile([lat for lat, _ in ok], 99) * 1e3, 3),
        "sustained_errors": Counter(status for _, status, _ in out if status != 200),
        "sustained_requests": len(out),
    }


@ray.remote(num_cpus=0)
class NullRisk:
    async def on_signal(self, event: Any) -> str:
        return "ignored"

    async def on_signals(self, events: list[Any]) -> list[str]:
        return ["ignored"] * len(events)

    async def on_recorded(self, ids: list[bytes]) -> list[str]:
        return ["ignored"] * len(ids)


def ingress_alone(directory: str, seconds: float, concurrency: int) -> dict[str, Any]:
    """The same sustained load on a second ingress actor whose risk manager does nothing, on its
    own tape: what the ingress does when the pipeline is not competing for the two cores."""
    from actors.ingress import IngressActor

    risk = NullRisk.options(name="risk.null", namespace=NS).remote()
    params = {
        "port": 0,
        "risk": "null",
        "settings": {"sources": {SOURCE: {"secret": SECRET, "rate_limit": None}}},
    }
    solo = IngressActor.options(name="ingress_alone", namespace=NS, num_cpus=0).remote(
        params, f"sqlite:///{directory}/alone.sqlite", NS
    )
    try:
        run = sustained(ray.get(solo.address.remote(), timeout=60), seconds, concurrency, 0)
        handed = ray.get(solo.stats.remote())["handed"]
    finally:
        ray.kill(solo)
        ray.kill(risk)
    return {
        "ingress_alone_cpu_percent": run["sustained_cpu_percent"],
        "ingress_alone_cpu_ms_per_alert": run["sustained_cpu_ms_per_alert"],
        "ingress_alone_alerts_per_s": run["sustained_alerts_per_s"],
        "ingress_alone_p99_ms": run["sustained_p99_ms"],
        "ingress_alone_handed": handed,
    }


def integrity(tape_url: str, acked: list[str]) -> dict[str, int]:
    from store import open_tape

    received: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    decided = 0
    with open_tape(tape_url) as tape:
        for rec in tape.iter_all(
            topics=[
                "SignalReceived",
                "OrderSubmitted",
                "OrderIntentApproved",
                "OrderIntentRejected",
            ]
        ):
            e = rec.event
            kind = type(e).__name__
            if kind == "SignalReceived":
                received[str(e.event_id)] += 1
            elif kind == "OrderSubmitted":
                orders[str(e.correlation_id)] += 1
            else:
                decided += 1
    return {
        "lost": sum(1 for i in acked if received[i] == 0),
        "duplicated": sum(1 for i in acked if received[i] > 1 or orders[i] > 1),
        "signals_on_tape": sum(received.values()),
        "pipeline_decided": decided,
        "pipeline_orders": sum(orders.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--floor-n", type=int, default=300)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternate the real path and the floor this often"
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--solo-seconds", type=float, default=20.0, help="0 skips it")
    parser.add_argument("--compare-serve", action="store_true", help="bare POST via Ray Serve")
    args = parser.parse_args()

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from cluster.runtime import stop_system

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        namespace=NS,
        log_to_driver=False,
        configure_logging=False,
    )
    directory = tempfile.mkdtemp(prefix="signal-latency-")
    tape_url = f"sqlite:///{directory}/tape.sqlite"
    figures: dict[str, Any] = {"machine": machine(), "cpu_probe_us_before": cpu_probe_us()}
    system = None
    try:
        system = start(tape_url)
        address = ray.get(system.ingress.address.remote(), timeout=60)
        watch = OrderWatch(tape_url)
        rig = FloorRig(directory, alert_body(0))
        one_at_a_time(address, watch, 30, first=0)  # warm-up
        lat: dict[str, list[float]] = {}
        for r in range(args.rounds):  # alternating, so both see the machine's same moods
            done = one_at_a_time(address, watch, args.alerts // args.rounds, 1_000 + r * 100_000)
            for key, values in done.items():
                lat.setdefault(key, []).extend(values)
            rig.measure(args.floor_n // args.rounds)
        parts = rig.parts()
        rig.close()
        figures["ack_p50_ms"] = round(median(lat["ack"]), 3)
        figures["ack_p99_ms"] = round(percentile(lat["ack"], 99), 3)
        figures["order_p50_ms"] = round(median(lat["order"]), 3)
        figures["order_p99_ms"] = round(percentile(lat["order"], 99), 3)
        figures["order_breakdown_p50_ms"] = {
            "post_to_signal_stamped": round(median(lat["SignalReceived"]), 3),
            "to_decision_stamped": round(median(lat["OrderIntentApproved"]), 3),
            "to_order_stamped": round(median(lat["OrderSubmitted"]), 3),
            "to_venue_ack": round(median(lat["OrderAccepted"]), 3),
        }
        if args.compare_serve:
            parts |= serve_bare_post(alert_body(0), args.floor_n) or {}
        figures |= {k: round(v, 3) for k, v in parts.items()}
        figures["ratio_p50"] = round(figures["order_p50_ms"] / figures["floor_p50_ms"], 2)
        figures["ratio_hot_p50"] = round(figures["order_p50_ms"] / figures["floor_hot_p50_ms"], 2)
        if args.solo_seconds:
            figures |= ingress_alone(directory, args.solo_seconds, args.concurrency)
        run = sustained(address, args.seconds, args.concurrency, first=1_000_000)
        ids = run.pop("ids")
        figures |= run
        figures["sustained_seconds"] = args.seconds
        figures["sustained_concurrency"] = args.concurrency
        figures["ingress"] = ray.get(system.ingress.stats.remote())
        figures |= integrity(tape_url, ids)
        figures["acknowledged"] = len(ids)
    finally:
        if system is not None:
            stop_system(system)
        ray.shutdown()
    figures["load_average"] = os.getloadavg()
    figures["cpu_probe_us_after"] = cpu_probe_us()
    emit(figures)


if __name__ == "__main__":
    main()
