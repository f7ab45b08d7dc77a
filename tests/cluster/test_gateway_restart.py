"""Kill the gateway in the middle of a burst of orders: it comes back with its open orders
rebuilt from the tape, and resubmitting every approval creates no second order."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from decimal import Decimal

import pytest
import ray

from actors.gateway import GatewayActor
from domain.bars import Bar
from domain.events import EventMeta, OrderIntentApproved, OrderSubmitted, decision_stream, derive_id
from domain.values import OrderType, Side
from store import open_tape

pytestmark = pytest.mark.ray

N = 40


def approvals() -> list[OrderIntentApproved]:
    out = []
    stream = decision_stream("test")
    for v in range(1, N + 1):
        env = EventMeta(ts_ns=v, source="test").envelope(stream, v)
        out.append(
            OrderIntentApproved(
                **env,
                signal_event_id=None,
                strategy="burst",
                client_order_id=derive_id("coid", env["event_id"]).hex,
                instrument="BTC-USDT",
                side=Side.BUY,
                quantity=Decimal("0.01"),
                order_type=OrderType.LIMIT,
                limit_price=Decimal(30000 + v),  # rests: the market is far above
            )
        )
    return out


def bar(ts: int, low: str) -> Bar:
    return Bar(
        "paper",
        "BTC-USDT",
        ts,
        60,
        Decimal(40000),
        Decimal(40100),
        Decimal(low),
        Decimal(40050),
        Decimal(1000),
    )


def test_gateway_killed_mid_burst_rebuilds_and_never_doubles(ray_cluster: object, tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/tape.sqlite"
    intents = approvals()
    with open_tape(url) as tape:
        tape.append(intents)
    gateway = GatewayActor.options(
        name="gateway.paper", namespace="restart-test", max_restarts=-1
    ).remote({"name": "paper"}, url)
    ray.get(gateway.on_bars.remote([bar(0, "39900")]))
    pid = ray.get(gateway.pid.remote())

    in_flight = [gateway.submit.remote(i) for i in intents]
    time.sleep(0.01)  # a few submits in: the rest are cut off
    ray.kill(gateway, no_restart=False)  # dies mid-burst; Ray restarts it
    for ref in in_flight:
        with contextlib.suppress(ray.exceptions.RayActorError):
            ray.get(ref, timeout=60)
    deadline = time.monotonic() + 60
    new_pid = pid
    while new_pid == pid:  # ray.kill is asynchronous: a call may still reach the old process
        with contextlib.suppress(ray.exceptions.RayActorError):
            new_pid = ray.get(gateway.pid.remote(), timeout=30)
        assert time.monotonic() < deadline, "the gateway was not restarted"
        time.sleep(0.05)

    # the risk manager's recovery resubmits every approval: none becomes a second order
    statuses = ray.get([gateway.submit.remote(i) for i in intents], timeout=60)
    assert set(statuses) <= {"accepted", "submitted"}
    open_orders = ray.get(gateway.open_orders.remote())
    assert len(open_orders) == N

    # the rebuilt paper venue holds each order once: a bar through every limit fills each once
    filled = ray.get(gateway.on_bars.remote([bar(60_000_000_000, "29000")]))
    assert filled == N
    assert ray.get(gateway.open_orders.remote()) == []
    ray.kill(gateway, no_restart=True)

    with open_tape(url) as tape:
        events = [r.event for r in tape.iter_all()]
    submitted = Counter(e.client_order_id for e in events if isinstance(e, OrderSubmitted))
    assert len(submitted) == N and set(submitted.values()) == {1}
    fills = Counter(e.client_order_id for e in events if type(e).__name__ == "OrderFilled")
    assert len(fills) == N and set(fills.values()) == {1}
