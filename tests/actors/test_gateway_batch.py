"""Batches of approvals through the gateway (``submit_many``): every order recorded before the
venue hears of it, placed once, the same outcome as one ``submit`` at a time."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from actors.gateway import Gateway
from domain.bars import Bar
from domain.events import (
    EventMeta,
    OrderAccepted,
    OrderFilled,
    OrderIntentApproved,
    OrderSubmitted,
    decision_stream,
    derive_id,
)
from domain.values import OrderType, Side
from store import Tape, open_tape

from .conftest import KINDS, approval, make_world

pytestmark = pytest.mark.anyio

PAPER = {"name": "paper", "kind": "paper"}


def paper_approval(n: int, side: Side = Side.BUY) -> OrderIntentApproved:
    env = EventMeta(ts_ns=n, source="test").envelope(decision_stream("test"), n)
    return OrderIntentApproved(
        **env,
        signal_event_id=None,
        strategy="test",
        client_order_id=derive_id("coid", "paper", env["event_id"]).hex,
        instrument="BTC-USDT",
        side=side,
        quantity=Decimal("0.01"),
        order_type=OrderType.MARKET,
    )


def bar(n: int) -> Bar:
    price = Decimal("42000")
    return Bar(
        venue="paper",
        instrument="BTC-USDT",
        open_ts_ns=n * 60_000_000_000,
        interval_s=60,
        open=price,
        high=price + 10,
        low=price - 10,
        close=price,
        volume=Decimal("1000"),
    )


def kinds(tape: Tape) -> list[tuple[str, str]]:
    """(event type, client order id) in the tape's order."""
    return [
        (type(r.event).__name__, getattr(r.event, "client_order_id", ""))
        for r in tape.iter_all(topics=("OrderSubmitted", "OrderAccepted", "OrderFilled"))
    ]


async def test_a_paper_batch_is_recorded_before_it_is_placed_and_placed_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/t.sqlite"
    tape = open_tape(url)
    gateway = Gateway(PAPER, tape)
    intents = [paper_approval(n, Side.BUY if n % 2 else Side.SELL) for n in range(1, 6)]
    statuses = await gateway.submit_many([*intents, intents[0]])  # a repeat inside the batch
    assert statuses == ["accepted"] * 6

    seen = kinds(tape)
    coids = [i.client_order_id for i in intents]
    # every order of the batch durable before the first acknowledgement
    assert seen == [("OrderSubmitted", c) for c in coids] + [("OrderAccepted", c) for c in coids]

    assert await gateway.submit_many(intents) == ["accepted"] * 5
    assert await gateway.submit(intents[2]) == "accepted"
    assert kinds(tape) == seen  # repeats record and place nothing

    assert await gateway.on_bars([bar(1)]) == 5
    filled = Counter(e for e, _ in kinds(tape))
    assert filled == {"OrderSubmitted": 5, "OrderAccepted": 5, "OrderFilled": 5}
    await gateway.close()

    again = Gateway(PAPER, open_tape(url))  # a restart: the tape knows every order
    assert await again.submit_many(intents) == ["filled"] * 5
    assert Counter(e for e, _ in kinds(tape)) == filled
    tape.close()


async def test_known_and_new_orders_in_one_batch(tmp_path: Path) -> None:
    tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
    gateway = Gateway(PAPER, tape)
    first, second, third = (paper_approval(n) for n in range(1, 4))
    assert await gateway.submit(first) == "accepted"
    assert await gateway.submit_many([first, second, third]) == ["accepted"] * 3
    submitted = [e for e, _ in kinds(tape) if e == "OrderSubmitted"]
    assert len(submitted) == 3
    tape.close()


async def test_one_at_a_time_and_in_a_batch_leave_the_same_orders(tmp_path: Path) -> None:
    intents = [paper_approval(n) for n in range(1, 4)]
    results = []
    for name, batched in (("single", False), ("batch", True)):
        tape = open_tape(f"sqlite:///{tmp_path}/{name}.sqlite")
        gateway = Gateway(PAPER, tape)
        if batched:
            await gateway.submit_many(intents)
        else:
            for intent in intents:
                await gateway.submit(intent)
        await gateway.on_bars([bar(1)])
        events = [r.event for r in tape.iter_all()]
        results.append(
            sorted(
                (type(e).__name__, e.client_order_id, e.version)
                for e in events
                if isinstance(e, OrderSubmitted | OrderAccepted | OrderFilled)
            )
        )
        tape.close()
    assert results[0] == results[1]


@pytest.mark.parametrize("kind", KINDS[:2])
async def test_a_live_batch_is_placed_once(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch) as world:
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        intents = [approval(n, world) for n in range(1, 4)]
        assert await gateway.submit_many(intents) == ["accepted"] * 3
        assert await gateway.submit_many(intents) == ["accepted"] * 3
        assert len(world.orders()) == 3
        submitted = sorted(c for e, c in kinds(tape) if e == "OrderSubmitted")
        assert submitted == sorted(i.client_order_id for i in intents)
        await gateway.close()
        tape.close()
