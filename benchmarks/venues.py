"""Venue round trips against the local fakes, and the order rate one gateway sustains inside each
venue's published limits.

Per venue: ``<venue>_order_p50_ms`` / ``_p99_ms`` (one resting limit order placed through the
adapter and the fake: signing, HTTP, the fake's matching, parsing; Kraken and Coinbase answer a
placement with the order id only, so the adapter asks for the order's state: two requests, see
``<venue>_requests_per_order``), ``<venue>_bare_p50_ms`` (a bare aiohttp request to a cheap
endpoint of the same fake server, over a warm keep-alive connection, interleaved with the orders
so both see the same machine load), ``<venue>_overhead_p50_ms`` (the difference),
``<venue>_venue_p50_ms`` (the fake's own CPU time per order: signature checks, matching, the
reply; the bare endpoint costs it next to nothing), ``<venue>_client_overhead_p50_ms`` (the
order's round trip without the venue's time, minus the bare one's: what our client side adds),
``<venue>_client_cpu_overhead_p50_ms`` (the same in CPU time: steadier than wall time on a
shared, loaded machine),
``<venue>_sustained_orders_per_s`` (one ``Gateway``, with its tape, its shared rate limiter and
published limits, fed by 16 concurrent submitters, measured over the second end of the run, see
``MEASURE_S``) and ``<venue>_limit_orders_per_s`` (the long-run placement rate the published
limits allow at 90 % headroom). The last line is JSON.

    .venv/bin/python -m benchmarks.venues [--orders 200] [--seconds 25] [--venues kraken ...]
        [--no-sustained]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
from eth_account import Account
from hyperliquid.exchange import Exchange

from actors.gateway import Gateway
from benchmarks._common import emit, machine, median, percentile
from domain.events import EventMeta, OrderIntentApproved, decision_stream, derive_id
from domain.execution.published import published_limits
from domain.values import OrderType, Side
from store import open_tape
from venues.base import OrderRequest
from venues.fakes import start_fake
from venues.fakes.busy import BusyMeter
from venues.fakes.hyperliquid import FakeHyperliquid
from venues.keystore import KEY_ENV, Credentials, KeySource, Keystore
from venues.registry import build_venue

VENUES = ("binance", "kraken", "coinbase", "hyperliquid")
INSTRUMENT = {
    "binance": "BTC-USDT",
    "kraken": "BTC-USD",
    "coinbase": "BTC-USD",
    "hyperliquid": "BTC-USD-PERP",
}
BARE = {
    "binance": ("GET", "/api/v3/ping", None),
    "kraken": ("GET", "/0/public/Time", None),
    "coinbase": ("GET", "/api/v3/brokerage/time", None),
    "hyperliquid": ("POST", "/info", {"type": "allMids"}),
}
MEASURE_S = {"binance": 10.0, "coinbase": 5.0}
"""Rates are counted over the run's final seconds: one full order window where the venue's
window is short; elsewhere the second half (Kraken's counter and Hyperliquid's minute may still
hold burst allowance then: compare with ``<venue>_limit_orders_per_s``)."""
RAW_KEY = os.urandom(32)
QTY, PRICE = Decimal("0.0002"), Decimal("55000")


class Venue(NamedTuple):
    cfg: dict[str, Any]
    busy: BusyMeter  # the fake's CPU time spent handling requests


@contextlib.contextmanager
def fake_venue(kind: str, workdir: Path) -> Iterator[Venue]:
    """A fake venue and the gateway configuration for it (credentials in a keystore)."""
    os.environ[KEY_ENV] = RAW_KEY.hex()
    store = Keystore(workdir / f"{kind}.keys", KeySource(raw_key=RAW_KEY))
    cfg: dict[str, Any] = {"name": kind, "kind": kind, "credentials": "main"}
    cfg |= {"keystore": str(store.path), "timeout_s": 5.0, "tier": "starter"}
    if kind == "hyperliquid":
        with FakeHyperliquid() as fake:
            master = Account.create()
            fake.add_user(master.address, "1000000")
            _, agent = Exchange(master, fake.base_url, timeout=5).approve_agent("bench")
            store.add(
                Credentials(
                    venue=kind, account="main", secret=agent, account_address=master.address
                ),
                replace=True,
            )
            yield Venue({**cfg, "base_url": fake.base_url}, fake.busy)
        return
    balances = {"binance": "USDT", "kraken": "ZUSD", "coinbase": "USD"}
    engine_balances = {balances[kind]: Decimal("100000000")}
    with start_fake(kind, balances=engine_balances) as handle:
        store.add(
            Credentials(venue=kind, account="main", api_key=handle.api_key, secret=handle.secret),
            replace=True,
        )
        yield Venue({**cfg, "base_url": handle.base_url}, handle.fake.busy)


@contextlib.contextmanager
def venue_cfg(kind: str, workdir: Path) -> Iterator[dict[str, Any]]:
    with fake_venue(kind, workdir) as venue:
        yield venue.cfg


def request(kind: str, n: int) -> OrderRequest:
    return OrderRequest(
        client_order_id=derive_id("bench", kind, n).hex,
        instrument=INSTRUMENT[kind],
        side=Side.BUY,
        quantity=QTY,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
    )


class Timed(NamedTuple):
    wall_ms: float
    venue_ms: float  # the fake's CPU time within the call
    cpu_ms: float  # the whole process's CPU time within the call (ours and the fake's)
    requests: int


async def timed(busy: BusyMeter, call: Callable[[], Awaitable[object]]) -> Timed:
    venue_ns, count = busy.read()
    cpu_ns = time.process_time_ns()
    start = time.perf_counter()
    await call()
    wall_ms = (time.perf_counter() - start) * 1000
    cpu_ms = (time.process_time_ns() - cpu_ns) / 1e6
    venue_after, count_after = busy.read()
    return Timed(wall_ms, (venue_after - venue_ns) / 1e6, cpu_ms, count_after - count)


async def round_trips(kind: str, venue: Venue, n: int, warmup: int = 20) -> dict[str, float]:
    """Orders through the adapter and bare requests to the same fake, taken in turns so both
    see the same machine load; the first ``warmup`` of each (markets, connections) not counted."""
    adapter: Any = build_venue(venue.cfg).adapter
    requests = [request(kind, i) for i in range(n + warmup)]  # built outside the timing
    method, path, body = BARE[kind]
    url = venue.cfg["base_url"] + path

    async def bare_call(session: aiohttp.ClientSession) -> None:
        async with session.request(method, url, json=body) as reply:
            await reply.read()

    orders: list[Timed] = []
    bares: list[Timed] = []
    async with aiohttp.ClientSession() as session:
        for i, req in enumerate(requests):
            order = await timed(venue.busy, lambda r=req: adapter.place(r))  # type: ignore[misc]
            bare = await timed(venue.busy, lambda: bare_call(session))
            if i >= warmup:
                orders.append(order)
                bares.append(bare)
    await adapter.close()
    p50, bare_p50 = median([t.wall_ms for t in orders]), median([t.wall_ms for t in bares])
    client = median([t.wall_ms - t.venue_ms for t in orders])
    bare_client = median([t.wall_ms - t.venue_ms for t in bares])
    client_cpu = median([t.cpu_ms - t.venue_ms for t in orders])
    bare_cpu = median([t.cpu_ms - t.venue_ms for t in bares])
    return {
        f"{kind}_order_p50_ms": round(p50, 3),
        f"{kind}_order_p99_ms": round(percentile([t.wall_ms for t in orders], 99), 3),
        f"{kind}_bare_p50_ms": round(bare_p50, 3),
        f"{kind}_overhead_p50_ms": round(p50 - bare_p50, 3),
        f"{kind}_venue_p50_ms": round(median([t.venue_ms for t in orders]), 3),
        f"{kind}_client_overhead_p50_ms": round(client - bare_client, 3),
        f"{kind}_client_cpu_overhead_p50_ms": round(client_cpu - bare_cpu, 3),
        f"{kind}_requests_per_order": round(median([t.requests for t in orders]), 1),
    }


def approval(kind: str, n: int) -> OrderIntentApproved:
    env = EventMeta(ts_ns=n, source="bench").envelope(decision_stream("bench"), n)
    return OrderIntentApproved(
        **env,
        signal_event_id=None,
        strategy="bench",
        client_order_id=derive_id("sustained", kind, n).hex,
        instrument=INSTRUMENT[kind],
        side=Side.BUY,
        quantity=QTY,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
    )


async def sustained(kind: str, cfg: dict[str, Any], workdir: Path, seconds: float) -> float:
    tape = open_tape(f"sqlite:///{workdir}/{kind}.sqlite")
    gateway = Gateway(cfg, tape)
    await gateway.start()
    done: list[float] = []
    counter = iter(range(1, 10**9))
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            status = await gateway.submit(approval(kind, next(counter)))
            if status == "accepted":
                done.append(time.perf_counter())

    await asyncio.gather(*(worker() for _ in range(16)))
    await gateway.close()
    tape.close()
    measured = min(seconds, MEASURE_S.get(kind, seconds / 2))
    late = [t for t in done if t >= start + seconds - measured]
    return len(late) / measured


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for kind in args.venues:
            with fake_venue(kind, workdir) as venue:
                figures |= await round_trips(kind, venue, args.orders)
            if not args.sustained:
                continue
            with venue_cfg(kind, workdir) as cfg:
                rate = await sustained(kind, cfg, workdir, args.seconds)
            limits = published_limits(kind, tier="starter")
            assert limits is not None
            figures[f"{kind}_sustained_orders_per_s"] = round(rate, 2)
            figures[f"{kind}_limit_orders_per_s"] = round(limits.sustained_orders_per_s(), 3)
            print(f"{kind}: done", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--venues", nargs="*", default=list(VENUES))
    parser.add_argument(
        "--no-sustained", dest="sustained", action="store_false", help="round trips only"
    )
    emit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
