"""The paper venue's side of the gateway: resting orders fill against each new bar.

A mixin of ``actors.gateway.Gateway``. A bar's fills are recorded in one transaction; if that
fails, the in-process venue and the tape would disagree, so the process exits and Ray restarts
the gateway from the tape.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from domain.bars import Bar
from domain.events import Event, OrderCanceled, OrderExpired, OrderFilled, order_stream
from domain.orders import Order
from venues.base import VenueFill, VenueOrderStatus

log = logging.getLogger("tapeline.gateway")


class PaperBars:
    """``on_bars``: fills of in-process venues, driven by market data."""

    venue: str
    adapter: Any
    writer: Any
    orders: dict[str, Order]
    last_bar_ts: dict[str, int]
    anomalies: list[str]
    submitted: dict[str, Any]
    book_lock: asyncio.Lock

    def _fill_event(self, fill: VenueFill, order: Order | None) -> Event | None:
        if order is None:
            self.anomalies.append(f"fill {fill.fill_id} for an order we do not know")
            return None
        if fill.fill_id in order.fill_ids:
            return None
        meta = self.writer.meta(self.submitted.get(order.client_order_id))
        return OrderFilled(
            **meta.envelope(order_stream(order.client_order_id), order.version + 1),
            client_order_id=order.client_order_id,
            fill_id=fill.fill_id,
            strategy=order.strategy,
            venue=self.venue,
            instrument=order.instrument,
            side=order.side,
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            liquidity=fill.liquidity,
            fill_ts_ns=fill.ts_ns,
        )

    async def on_bars(self, bars: list[Bar]) -> int:
        """Paper venues fill resting orders against each new bar; others ignore bars.

        A bar's fills are recorded in one transaction. If that fails, the in-process venue and
        the tape would disagree, so the process exits and Ray restarts it from the tape.
        """
        on_bar = getattr(self.adapter, "on_bar", None)
        if on_bar is None:
            return 0
        async with self.book_lock:  # after the acknowledgements of a batch being placed
            return self._fill_bars(on_bar, bars)

    def _fill_bars(self, on_bar: Any, bars: list[Bar]) -> int:
        n = 0
        for bar in bars:
            if bar.open_ts_ns <= self.last_bar_ts.get(bar.instrument, -1):
                continue  # already processed before a restart
            staged: dict[str, Order] = {}
            events: list[Event] = []
            for fill in on_bar(bar):
                coid = fill.client_order_id or ""
                order = staged.get(coid) or self.orders.get(coid)
                event = self._fill_event(fill, order)
                if event is not None and order is not None:
                    staged[coid] = order.apply(event)
                    events.append(event)
            for closed in getattr(self.adapter, "take_closed", list)():
                cid = closed.client_order_id
                order = staged.get(cid) or self.orders.get(cid)
                if order is None or not order.status.is_open:
                    continue
                cls = OrderExpired if closed.status is VenueOrderStatus.EXPIRED else OrderCanceled
                stream = order_stream(cid)
                event = cls(
                    **self.writer.meta(self.submitted.get(cid)).envelope(stream, order.version + 1),
                    client_order_id=cid,
                    reason="time in force",
                )
                staged[cid] = order.apply(event)
                events.append(event)
            try:
                self.writer.append(events)
            except Exception:
                log.exception("could not record fills; restarting from the tape")
                os._exit(1)
            for event in events:
                self._apply(event)
            n += len(events)
            self.last_bar_ts[bar.instrument] = bar.open_ts_ns
        return n
