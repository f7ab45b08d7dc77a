"""Venue round trips against the local fakes, and the order rate one gateway sustains inside each
venue's published limits.

Per venue: ``<venue>_order_p50_ms`` / ``_p99_ms`` (one resting limit order placed through the
adapter and the fake: signing, HTTP, the fake's matching, parsing), ``<venue>_bare_p50_ms`` (a
bare aiohttp request to a cheap endpoint of the same fake server), ``<venue>_overhead_p50_ms``
(the difference), ``<venue>_sustained_orders_per_s`` (one ``Gateway``, with its tape, its shared
rate limiter and published limits, fed by 16 concurrent submitters, measured over the second
end of the run, see ``MEASURE_S``) and ``<venue>_limit_orders_per_s`` (the
long-run placement rate the published limits allow at 90 % headroom). The last line is JSON.

    .venv/bin/python -m benchmarks.venues [--orders 200] [--seconds 25]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

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


@contextlib.contextmanager
def venue_cfg(kind: str, workdir: Path) -> Iterator[dict[str, Any]]:
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
            yield {**cfg, "base_url": fake.base_url}
        return
    balances = {"binance": "USDT", "kraken": "ZUSD", "coinbase": "USD"}
    engine_balances = {balances[kind]: Decimal("100000000")}
    with start_fake(kind, balances=engine_balances) as handle:
        store.add(
            Credentials(venue=kind, account="main", api_key=handle.api_key, secret=handle.secret),
            replace=True,
        )
        yield {**cfg, "base_url": handle.base_url}


def request(kind: str, n: int) -> OrderRequest:
    return OrderRequest(
        client_order_id=derive_id("bench", kind, n).hex,
        instrument=INSTRUMENT[kind],
        side=Side.BUY,
        quantity=QTY,
        order_type=OrderType.LIMIT,
        limit_price=PRICE,
    )


async def round_trips(kind: str, cfg: dict[str, Any], n: int) -> dict[str, float]:
    adapter: Any = build_venue(cfg).adapter
    order_ms: list[float] = []
    for i in range(n + 20):
        start = time.perf_counter()
        await adapter.place(request(kind, i))
        if i >= 20:  # warm-up: markets, connections
            order_ms.append((time.perf_counter() - start) * 1000)
    await adapter.close()
    method, path, body = BARE[kind]
    bare_ms: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(n + 20):
            start = time.perf_counter()
            async with session.request(method, cfg["base_url"] + path, json=body) as reply:
                await reply.read()
            if i >= 20:
                bare_ms.append((time.perf_counter() - start) * 1000)
    p50, bare = median(order_ms), median(bare_ms)
    return {
        f"{kind}_order_p50_ms": round(p50, 3),
        f"{kind}_order_p99_ms": round(percentile(order_ms, 99), 3),
        f"{kind}_bare_p50_ms": round(bare, 3),
        f"{kind}_overhead_p50_ms": round(p50 - bare, 3),
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
            with venue_cfg(kind, workdir) as cfg:
                figures |= await round_trips(kind, cfg, args.orders)
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
    emit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
