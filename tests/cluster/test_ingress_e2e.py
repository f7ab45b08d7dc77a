"""End to end on a real local Ray cluster: a TradingView alert POSTed to the running system is
acknowledged once durable, decided by the risk manager, filled on the paper venue at the next
bar, and the position projection shows it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
import ray

from cluster.config import IngressConfig, TapelineConfig
from cluster.runtime import start_system, stop_system, wait_caught_up
from domain.events import (
    BarClosed,
    Event,
    OrderAccepted,
    OrderFilled,
    OrderIntentApproved,
    OrderSubmitted,
    SignalReceived,
)
from store import open_tape

pytestmark = pytest.mark.ray

SECRET = "e2e-tv-Secret-5c1d"


def wait_for(url: str, found: Callable[[list[Event]], Any], timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        with open_tape(url) as tape:
            result = found([r.event for r in tape.iter_all()])
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def last_close(events: list[Event], instrument: str) -> Decimal:
    bars = [e for e in events if isinstance(e, BarClosed) and e.instrument == instrument]
    return bars[-1].close


def test_tradingview_alert_is_filled_and_positioned(
    ray_cluster: object, small_config: TapelineConfig
) -> None:
    cfg = small_config.model_copy(
        update={
            "strategies": [],
            "ingress": IngressConfig(
                port=0,
                settings={"sources": {"tv": {"secret": SECRET, "rate_limit": None}}},
            ),
        }
    )
    url = cfg.tape.url
    system = start_system(cfg)
    try:
        address = ray.get(system.ingress.address.remote(), timeout=30)
        ray.get(system.market_data.run.remote(max_steps=2), timeout=60)
        price = wait_for(url, lambda events: last_close(events, "BTC-USDT"))
        alert = {
            "secret": SECRET,
            "ticker": "BINANCE:BTCUSDT",
            "exchange": "BINANCE",
            "action": "buy",
            "contracts": "0.01",
            "position_size": "0.01",
            "market_position": "long",
            "prev_market_position": "flat",
            "order_id": "Long",
            "price": str(price),
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        body = orjson.dumps(alert)
        with httpx.Client(base_url=address, timeout=10) as http:
            answer = http.post(
                "/webhook/tv", content=body, headers={"content-type": "application/json"}
            )
            again = http.post(
                "/webhook/tv", content=body, headers={"content-type": "application/json"}
            )
        assert answer.status_code == 200, answer.text
        assert again.status_code == 409
        signal_id = answer.json()["signal_id"]

        def accepted(events: list[Event]) -> str | None:
            """The order the signal led to, once the venue acknowledged it (OrderAccepted
            carries no correlation id: it is found through its OrderSubmitted)."""
            submitted = {
                e.client_order_id
                for e in events
                if isinstance(e, OrderSubmitted) and e.correlation_id == signal_id
            }
            for e in events:
                if isinstance(e, OrderAccepted) and e.client_order_id in submitted:
                    return e.client_order_id
            return None

        coid = wait_for(url, accepted)
        assert coid, "the paper venue never acknowledged the order"
        ray.get(system.market_data.run.remote(max_steps=1), timeout=60)  # the next bar fills it
        filled = wait_for(
            url,
            lambda events: [
                e for e in events if isinstance(e, OrderFilled) and e.client_order_id == coid
            ],
        )
        assert filled, "the order was not filled on the next bar"
        wait_caught_up(system)
        live = ray.get(system.projector.state.remote())
        stats = ray.get(system.ingress.stats.remote())
    finally:
        stop_system(system)

    position = live["positions"]["positions"]["paper:BTC-USDT"]
    assert Decimal(position["quantity"]) == Decimal("0.01")
    assert stats["accepted"] == 1 and stats["refused"] == 1

    with open_tape(url) as tape:
        events = [r.event for r in tape.iter_all()]
        raw = b"".join(row[4] for row in tape.raw_rows(0, 100_000))
    assert SECRET.encode() not in raw  # not in the signal, nor in the recorded actor parameters
    signals = [e for e in events if isinstance(e, SignalReceived)]
    assert [str(e.event_id) for e in signals] == [signal_id]
    (approval,) = [e for e in events if isinstance(e, OrderIntentApproved)]
    assert approval.signal_event_id == signals[0].event_id
    (order,) = [e for e in events if isinstance(e, OrderSubmitted)]
    assert order.client_order_id == coid and order.correlation_id == signal_id
    assert sum(f.quantity for f in filled) == Decimal("0.01")
