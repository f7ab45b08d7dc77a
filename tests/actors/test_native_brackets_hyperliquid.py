"""A native bracket on Hyperliquid, without Ray: the real gateway and adapter against the local
fake venue, the risk manager, a tape on SQLite. The stop loss reaches the venue as a reduce-only
trigger order, the take profit as a resting reduce-only limit; the take profit's fill cancels the
trigger order at the venue. (The fake rests trigger orders but never fires them.)"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from actors.gateway import Gateway
from actors.risk_manager import RiskManager
from cluster.topology import ActorSpec, native_bracket_venues
from domain.events import OrderCanceled, OrderFilled, OrderIntentApproved
from store import open_tape
from tests.actors.risk_fakes import Desk
from venues.hyperliquid.symbols import cloid_for

from .conftest import make_world

pytestmark = pytest.mark.anyio

INSTRUMENT = "BTC-USD-PERP"


def venue_orders(world: Any) -> list[dict[str, Any]]:
    return list(world.venue.orders(world.cfg["_account"]))


async def test_a_native_stop_reaches_hyperliquid_as_a_trigger_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_world("hyperliquid", tmp_path, monkeypatch) as world:
        spec = ActorSpec(name="gateway.hyperliquid", kind="gateway", params=world.cfg)
        native = native_bracket_venues([spec])
        assert native == ["hyperliquid"]
        with open_tape(f"sqlite:///{tmp_path}/t.sqlite") as tape:
            gateway = Gateway(world.cfg, tape)
            await gateway.start()
            risk = RiskManager(
                "main",
                {},
                tape,
                ["hyperliquid"],
                "hyperliquid",
                lambda venue: gateway,
                native_bracket_venues=native,
            )
            desk = Desk(tape, INSTRUMENT)
            signal = desk.signal(
                price="60000",
                notional="60",
                venue="hyperliquid",
                stop_loss="57000",
                take_profit="63000",
            )
            assert await risk.on_signal(signal) == "approved"
            await gateway.sync()  # the market entry's fill reaches the tape
            await risk.step()  # ...and the bracket places its children

            entry, stop, take = desk.events(OrderIntentApproved)
            by_cloid = {o["cloid"]: o for o in venue_orders(world)}
            trigger = by_cloid[cloid_for(stop.client_order_id)]
            limit = by_cloid[cloid_for(take.client_order_id)]
            assert trigger["isTrigger"] and Decimal(trigger["triggerPx"]) == 57000
            assert trigger["reduceOnly"] and trigger["side"] == "A"
            assert Decimal(trigger["sz"]) == entry.quantity == Decimal("0.001")
            assert not limit["isTrigger"] and Decimal(limit["limitPx"]) == 63000
            assert limit["reduceOnly"] and trigger["status"] == limit["status"] == "open"

            world.venue.fill_resting(oid=limit["oid"])  # the take profit is hit
            await gateway.sync()
            await risk.step()
            by_cloid = {o["cloid"]: o for o in venue_orders(world)}
            assert by_cloid[trigger["cloid"]]["status"] == "canceled"
            assert [e.client_order_id for e in desk.events(OrderCanceled)] == [stop.client_order_id]
            fills = {e.client_order_id for e in desk.events(OrderFilled)}
            assert fills == {entry.client_order_id, take.client_order_id}
            assert risk.view.position(INSTRUMENT).quantity == 0
            assert await gateway.adapter.positions() == []
            await gateway.close()
