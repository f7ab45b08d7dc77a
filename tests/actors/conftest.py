"""Venue worlds for the gateway tests: a fake venue on 127.0.0.1, its credentials in a keystore
in tmp_path, and the gateway's venue configuration pointing at it."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange

from domain.events import EventMeta, OrderIntentApproved, decision_stream, derive_id
from domain.values import OrderType, Side
from venues.fakes import start_fake
from venues.fakes.faults import FaultSwitch
from venues.fakes.hyperliquid import FakeHyperliquid
from venues.keystore import KEY_ENV, Credentials, KeySource, Keystore

RAW_KEY = bytes(range(32))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class World:
    """One fake venue and what a test needs to drive it."""

    kind: str
    cfg: dict[str, Any]
    faults: FaultSwitch
    instrument: str
    rest_price: Decimal  # a buy limit here rests
    quantity: Decimal
    venue: Any = field(repr=False)

    def orders(self) -> list[dict[str, Any]]:
        """Every order the venue ever took: client id (venue's field), status, filled."""
        if self.kind == "hyperliquid":
            return [
                {"client_order_id": o["cloid"], "status": o["status"], "venue_order_id": o["oid"]}
                for o in self.venue.orders(self.cfg["_account"])
            ]
        return [
            {"client_order_id": o.client_order_id, "status": o.status, "venue_order_id": o.order_id}
            for o in self.venue.engine.all_orders()
        ]

    def fill_resting(self) -> None:
        """A counterparty takes every resting order."""
        if self.kind == "hyperliquid":
            for o in self.venue.orders(self.cfg["_account"]):
                if o["status"] == "open":
                    self.venue.fill_resting(oid=o["oid"])
            return
        engine = self.venue.engine
        symbol = next(iter(engine.instruments))
        engine.set_mark(symbol, self.rest_price - engine.instruments[symbol].tick_size)


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, creds: Credentials) -> Path:
    monkeypatch.setenv(KEY_ENV, RAW_KEY.hex())
    path = tmp_path / "keys.json"
    Keystore(path, KeySource(raw_key=RAW_KEY)).add(creds)
    return path


def available(kind: str) -> bool:
    modules = {"kraken": "venues.kraken.adapter", "coinbase": "venues.coinbase.adapter"}
    name = modules.get(kind)
    return name is None or importlib.util.find_spec(name) is not None


KINDS = [
    pytest.param(k, marks=pytest.mark.skipif(not available(k), reason=f"no {k} adapter"))
    for k in ("binance", "hyperliquid", "kraken", "coinbase")
]
SPOT = {"binance": "BTC-USDT", "kraken": "BTC-USD", "coinbase": "BTC-USD"}


@contextlib.contextmanager
def make_world(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any
) -> Iterator[World]:
    base = {"name": kind, "kind": kind, "credentials": "main", "timeout_s": 0.5}
    base |= {"backoff_base_s": 0.01, "backoff_cap_s": 0.05, "seed": 7, "tier": "pro", **settings}
    if kind == "hyperliquid":
        with FakeHyperliquid() as fake:
            master = Account.create()
            fake.add_user(master.address, "100000")
            answer, agent_key = Exchange(master, fake.base_url, timeout=5).approve_agent("gw")
            assert answer["status"] == "ok"
            creds = Credentials(
                venue="hyperliquid",
                account="main",
                secret=agent_key,
                account_address=master.address,
            )
            path = _store(tmp_path, monkeypatch, creds)
            cfg = {**base, "base_url": fake.base_url, "keystore": str(path)}
            cfg["_account"] = master.address
            yield World(
                kind, cfg, fake.faults, "BTC-USD-PERP", Decimal("59000"), Decimal("0.001"), fake
            )
        return
    with start_fake(kind) as handle:
        creds = Credentials(
            venue=kind, account="main", api_key=handle.api_key, secret=handle.secret
        )
        path = _store(tmp_path, monkeypatch, creds)
        cfg = {**base, "base_url": handle.base_url, "keystore": str(path)}
        price = Decimal("59000")
        yield World(kind, cfg, handle.faults, SPOT[kind], price, Decimal("0.001"), handle)


def approval(
    n: int,
    world: World,
    *,
    order_type: OrderType = OrderType.LIMIT,
    price: Decimal | None = None,
    reduce_only: bool = False,
) -> OrderIntentApproved:
    stream = decision_stream("test")
    env = EventMeta(ts_ns=n, source="test").envelope(stream, n)
    return OrderIntentApproved(
        **env,
        signal_event_id=None,
        strategy="test",
        client_order_id=derive_id("coid", world.kind, env["event_id"]).hex,
        instrument=world.instrument,
        side=Side.BUY,
        quantity=world.quantity,
        order_type=order_type,
        limit_price=(price or world.rest_price) if order_type is OrderType.LIMIT else None,
        reduce_only=reduce_only,
    )
