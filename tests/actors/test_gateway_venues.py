"""The gateway logic through every venue adapter and its local fake: orders placed once,
fills and closes reconciled onto the tape, the tape agreeing with the venue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from actors.gateway import Gateway
from domain.events import OrderFilled, OrderSubmitted
from domain.values import OrderType
from store import open_tape

from .conftest import KINDS, approval, make_world

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kind", KINDS)
async def test_orders_are_placed_once_and_fills_reach_the_tape(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch) as world:
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        intents = [approval(n, world) for n in range(1, 4)]
        statuses = [await gateway.submit(i) for i in intents]
        assert statuses == ["accepted"] * 3
        assert [await gateway.submit(i) for i in intents] == ["accepted"] * 3
        assert len(world.orders()) == 3

        world.fill_resting()
        await gateway.reconcile()
        assert {o.status.value for o in gateway.orders.values()} == {"filled"}
        events = [r.event for r in tape.iter_all()]
        fills = Counter(e.client_order_id for e in events if isinstance(e, OrderFilled))
        assert set(fills) == {i.client_order_id for i in intents}
        assert await gateway.reconcile() == 0  # nothing left to correct
        await gateway.close()
        tape.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_market_order_fill_is_reconciled(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world(kind, tmp_path, monkeypatch) as world:
        tape = open_tape(f"sqlite:///{tmp_path}/t.sqlite")
        gateway = Gateway(world.cfg, tape)
        await gateway.start()
        intent = approval(1, world, order_type=OrderType.MARKET)
        assert await gateway.submit(intent) in ("accepted", "filled")
        await gateway.sync()
        assert gateway.orders[intent.client_order_id].status.value == "filled"
        submitted = [r.event for r in tape.iter_all() if isinstance(r.event, OrderSubmitted)]
        assert len(submitted) == 1 and len(world.orders()) == 1
        await gateway.close()
        tape.close()
