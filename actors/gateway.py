"""Venue gateway actor: one per venue account; the only place orders leave the system.

For each approved intent it first records ``OrderSubmitted`` as version 1 of the order's own
stream (``order.<client_order_id>``), and only then calls the venue. A second submission of the
same intent (a retry, a restarted risk manager, a restarted gateway) collides on that version and
never becomes a second order. On (re)start it folds every order of its venue from the tape and
hands the open ones back to the adapter, so nothing it was tracking is lost.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import ray

from actors.tape_access import StreamWriter
from domain.bars import Bar
from domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderIntentApproved,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    order_stream,
)
from domain.orders import Order, OrderStateError
from store import ConcurrencyConflict, open_tape
from venues.base import (
    OrderRefused,
    OrderRequest,
    OutcomeUnknown,
    VenueFill,
    VenueOrderStatus,
)
from venues.registry import build_adapter

log = logging.getLogger("tapeline.gateway")

ORDER_TOPICS = (
    "OrderSubmitted",
    "OrderAccepted",
    "OrderRejected",
    "OrderFilled",
    "OrderCanceled",
    "OrderExpired",
    "OrderStatusUnknown",
)


def request_for(order: Order) -> OrderRequest:
    return OrderRequest(
        client_order_id=order.client_order_id,
        instrument=order.instrument,
        side=order.side,
        quantity=order.quantity,
        order_type=order.order_type,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        reduce_only=order.reduce_only,
        post_only=order.post_only,
        time_in_force=order.time_in_force,
    )


@ray.remote(max_restarts=-1, max_task_retries=-1)
class GatewayActor:
    def __init__(self, venue_cfg: dict[str, Any], tape_url: str) -> None:
        self.venue = str(venue_cfg["name"])
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, f"gateway.{self.venue}")
        self.adapter = build_adapter(venue_cfg)
        self.orders: dict[str, Order] = {}
        self.last_bar_ts: dict[str, int] = {}
        self.anomalies: list[str] = []
        self._rebuild()

    # rebuilding from the tape ------------------------------------------------------------------

    def _apply(self, event: Event) -> None:
        coid = getattr(event, "client_order_id", None)
        if coid is None:
            return
        order = self.orders.get(coid)
        if order is None:
            if not isinstance(event, OrderSubmitted) or event.venue != self.venue:
                return
            order = Order(client_order_id=coid)
        try:
            self.orders[coid] = order.apply(event)
        except OrderStateError as exc:
            self.anomalies.append(str(exc))
        if isinstance(event, OrderFilled):
            prev = self.last_bar_ts.get(event.instrument, -1)
            self.last_bar_ts[event.instrument] = max(prev, event.fill_ts_ns)

    def _rebuild(self) -> None:
        for rec in self.tape.iter_all(topics=ORDER_TOPICS):
            self._apply(rec.event)
        restore = getattr(self.adapter, "restore", None)
        if restore is not None:
            restore(
                [
                    (request_for(o), o.filled_quantity, len(o.fill_ids))
                    for o in self.orders.values()
                    if o.status.is_open
                ]
            )

    # orders --------------------------------------------------------------------------------------

    def _next(self, order: Order, cls: type[Event], cause: Event | None, **fields: Any) -> Event:
        stream = order_stream(order.client_order_id)
        meta = self.writer.meta(cause)
        return cls(**meta.envelope(stream, order.version + 1), **fields)

    def _record(self, events: list[Event]) -> None:
        if events:
            self.writer.append(events)
            for event in events:
                self._apply(event)

    async def submit(self, intent: OrderIntentApproved) -> str:
        """Place the order an approval authorises, at most once. Returns the order's status."""
        coid = intent.client_order_id
        existing = self.orders.get(coid)
        if existing is not None:
            return existing.status.value
        stream = order_stream(coid)
        submitted = OrderSubmitted(
            **self.writer.meta(intent).envelope(stream, 1),
            client_order_id=coid,
            intent_event_id=intent.event_id,
            strategy=intent.strategy,
            venue=self.venue,
            instrument=intent.instrument,
            side=intent.side,
            quantity=intent.quantity,
            order_type=intent.order_type,
            limit_price=intent.limit_price,
            stop_price=intent.stop_price,
            time_in_force=intent.time_in_force,
            reduce_only=intent.reduce_only,
            post_only=intent.post_only,
        )
        try:
            self._record([submitted])  # durable before the venue hears of it
        except ConcurrencyConflict:
            for event in self.tape.read_stream(stream):
                self._apply(event)
            return self.orders[coid].status.value if coid in self.orders else "unknown"
        order = self.orders[coid]
        try:
            placed = await self.adapter.place(request_for(order))
        except OrderRefused as exc:
            self._record(
                [
                    self._next(
                        order, OrderRejected, submitted, client_order_id=coid, reason=exc.reason
                    )
                ]
            )
        except OutcomeUnknown as exc:
            self._record(
                [
                    self._next(
                        order, OrderStatusUnknown, submitted, client_order_id=coid, reason=str(exc)
                    )
                ]
            )
        else:
            self._record(
                [
                    self._next(
                        order,
                        OrderAccepted,
                        submitted,
                        client_order_id=coid,
                        venue_order_id=placed.venue_order_id,
                    )
                ]
            )
        return self.orders[coid].status.value

    def _fill_event(self, fill: VenueFill, order: Order | None) -> Event | None:
        if order is None:
            self.anomalies.append(f"fill {fill.fill_id} for an order we do not know")
            return None
        if fill.fill_id in order.fill_ids:
            return None
        return self._next(
            order,
            OrderFilled,
            None,
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
        the tape would disagree, so the actor exits and Ray restarts it from the tape.
        """
        on_bar = getattr(self.adapter, "on_bar", None)
        if on_bar is None:
            return 0
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
                order = staged.get(closed.client_order_id) or self.orders.get(
                    closed.client_order_id
                )
                if order is None or not order.status.is_open:
                    continue
                cls = OrderExpired if closed.status is VenueOrderStatus.EXPIRED else OrderCanceled
                event = self._next(
                    order, cls, None, client_order_id=order.client_order_id, reason="time in force"
                )
                staged[order.client_order_id] = order.apply(event)
                events.append(event)
            try:
                self._record(events)
            except Exception:
                log.exception("could not record fills; restarting from the tape")
                os._exit(1)
            n += len(events)
            self.last_bar_ts[bar.instrument] = bar.open_ts_ns
        return n

    async def cancel(self, client_order_id: str, reason: str = "requested") -> str:
        """Cancel an open order at the venue, then record ``OrderCanceled``; returns its status."""
        order = self.orders.get(client_order_id)
        if order is None or not order.status.is_open:
            return order.status.value if order is not None else "unknown"
        found = await self.adapter.cancel(client_order_id, order.instrument)
        if found is None or found.status is VenueOrderStatus.CANCELED:
            event = self._next(
                order, OrderCanceled, None, client_order_id=client_order_id, reason=reason
            )
            self._record([event])
        return self.orders[client_order_id].status.value

    async def open_orders(self) -> list[dict[str, Any]]:
        return [
            {
                "client_order_id": o.client_order_id,
                "instrument": o.instrument,
                "side": o.side.value,
                "quantity": str(o.quantity),
                "filled": str(o.filled_quantity),
                "status": o.status.value,
            }
            for o in self.orders.values()
            if o.status.is_open
        ]

    async def stats(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for o in self.orders.values():
            by_status[o.status.value] = by_status.get(o.status.value, 0) + 1
        return {"venue": self.venue, "orders": by_status, "anomalies": len(self.anomalies)}

    async def pid(self) -> int:
        return os.getpid()
