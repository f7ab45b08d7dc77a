"""Paper venue adapter: ``domain.paper.PaperEngine`` speaking ``venues.base.VenueAdapter``.

It lives inside its gateway's process, so it never loses a response; after a restart the
gateway hands it the open orders folded from the tape (``restore``). Orders wait for the next
bar: the adapter keeps the market clock (the close time of the last bar seen per instrument).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.bars import Bar
from domain.paper import PaperEngine
from venues.base import (
    InstrumentSpec,
    OrderRefused,
    OrderRequest,
    VenueFill,
    VenueOrder,
    VenuePosition,
)


class PaperVenue:
    def __init__(
        self,
        venue: str = "paper",
        fee_rate_taker: Decimal = Decimal("0.001"),
        fee_rate_maker: Decimal = Decimal("0.0005"),
        slippage_bps: Decimal = Decimal(2),
        max_volume_participation: Decimal | None = Decimal("0.1"),
    ) -> None:
        self.venue = venue
        self.engine = PaperEngine(
            fee_rate_taker, fee_rate_maker, slippage_bps, max_volume_participation
        )
        self.clock: dict[str, int] = {}
        self.fills: list[VenueFill] = []

    async def place(self, request: OrderRequest) -> VenueOrder:
        result = self.engine.submit(request, ts_ns=self.clock.get(request.instrument, 0))
        if not result.accepted:
            raise OrderRefused(result.reason or "refused by the paper venue", code="paper")
        return result.order

    async def cancel(self, client_order_id: str, instrument: str) -> VenueOrder | None:
        view = self.engine.cancel(client_order_id)
        return view

    async def order_by_client_id(self, client_order_id: str, instrument: str) -> VenueOrder | None:
        view = self.engine.order(client_order_id)
        return view

    async def open_orders(self, instrument: str | None = None) -> list[VenueOrder]:
        return self.engine.open_orders(instrument)

    async def fills_since(self, since_ns: int, instrument: str | None = None) -> list[VenueFill]:
        return [
            f
            for f in self.fills
            if f.ts_ns >= since_ns and (instrument is None or f.instrument == instrument)
        ]

    async def balances(self) -> dict[str, Decimal]:
        return {}

    async def positions(self) -> list[VenuePosition]:
        return [VenuePosition(instrument=i, quantity=q) for i, q in self.engine.positions().items()]

    async def instruments(self) -> list[InstrumentSpec]:
        return []

    async def close(self) -> None:
        return None

    # paper-only: driven by bars, rebuilt from the tape -------------------------------------------

    def on_bar(self, bar: Bar) -> list[VenueFill]:
        fills = self.engine.on_bar(bar)
        self.clock[bar.instrument] = bar.close_ts_ns
        self.fills.extend(fills)
        del self.fills[:-10_000]
        return fills

    def take_closed(self) -> list[VenueOrder]:
        """Orders the venue closed by itself (IOC/FOK remainders) since the last call."""
        return self.engine.take_updates()

    def restore(self, orders: list[tuple[OrderRequest, Decimal, int]]) -> None:
        self.engine.restore(orders)


def build(cfg: dict[str, Any]) -> PaperVenue:
    return PaperVenue(
        venue=cfg["name"],
        fee_rate_taker=Decimal(str(cfg.get("fee_rate_taker", "0.001"))),
        fee_rate_maker=Decimal(str(cfg.get("fee_rate_maker", "0.0005"))),
        slippage_bps=Decimal(str(cfg.get("slippage_bps", "2"))),
        max_volume_participation=Decimal(str(cfg.get("max_volume_participation", "0.1"))),
    )
