"""Order flow of the venue gateway: submitting approvals (one by one or in batches), placing,
resolving unknown outcomes, cancelling.

A mixin of ``actors.gateway.Gateway``: it uses the gateway's orders, writer, guard and adapter.
Every order's ``OrderSubmitted`` is durable before the venue hears of it, and its client id comes
from the approval, so a second submission of the same intent never becomes a second order. When
the venue's answer is lost it records ``OrderStatusUnknown``, looks the order up by client id
and sends it again with the same id only when the venue definitely does not know it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderIntentApproved,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    order_stream,
)
from domain.execution.outcome import Resolution, after_lookup
from domain.orders import Order, OrderStatus
from domain.values import OrderType
from venues.base import (
    OrderRefused,
    OrderRequest,
    OutcomeUnknown,
    RateLimited,
    VenueError,
    VenueOrderStatus,
)
from venues.guard import CircuitOpenError
from venues.ratelimit import Priority
from venues.snapshot import order_report

log = logging.getLogger("tapeline.gateway")


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


class OrderFlow:
    """``submit``, ``submit_many`` and ``cancel``, with what they need to place and resolve."""

    venue: str
    live: bool
    adapter: Any
    writer: Any
    guard: Any
    orders: dict[str, Order]
    submitted: dict[str, OrderSubmitted]
    submitted_ns: dict[str, int]
    refused: list[str] | None
    needs_reconcile: str | None
    resend_window_ns: int
    place_attempts: int
    grace_ns: int
    book_lock: asyncio.Lock
    _inflight: dict[str, asyncio.Task[str]]
    _sent_ns: dict[str, int]
    _staged: list[Event] | None

    async def submit(self, intent: OrderIntentApproved) -> str:
        """Place the order an approval authorises, at most once. Returns the order's status."""
        coid = intent.client_order_id
        existing = self.orders.get(coid)
        if existing is not None:
            if self._unresolved(existing):
                return await self._tracked(coid, self._resolve)
            return existing.status.value
        submitted = self._submitted_event(intent)
        if not self._record([submitted]):  # durable before the venue hears of it
            return self.orders[coid].status.value if coid in self.orders else "unknown"
        if self.refused is not None:
            reason = "gateway refuses to trade: the key can withdraw or transfer"
            self._record([self._next(coid, OrderRejected, submitted, reason=reason)])
            return self.orders[coid].status.value
        return await self._tracked(coid, self._place)

    async def submit_many(self, intents: Sequence[OrderIntentApproved]) -> list[str]:
        """``submit`` for a batch of approvals; returns each one's order status, in order.

        The new orders' ``OrderSubmitted`` events are recorded in one transaction before the
        venue hears of any of them. A live venue then gets them concurrently; an in-process venue
        (paper) takes them one after another and their acknowledgements are recorded in one more
        transaction. Orders known already are handled as ``submit`` handles a repeat."""
        fresh: dict[str, OrderSubmitted] = {}
        again: dict[str, OrderIntentApproved] = {}
        for intent in intents:
            coid = intent.client_order_id
            if coid in self.orders:
                again.setdefault(coid, intent)
            elif coid not in fresh:
                fresh[coid] = self._submitted_event(intent)
        if fresh and not self._record(list(fresh.values())):
            # a concurrent writer recorded some of them: the rest go one at a time
            again.update({i.client_order_id: i for i in intents if i.client_order_id in fresh})
            fresh = {}
        failure: BaseException | None = None
        if fresh:
            failure = await self._send(list(fresh))
        for intent in again.values():
            await self.submit(intent)
        if failure is not None:
            raise failure
        return [self._status(i.client_order_id) for i in intents]

    async def _send(self, coids: list[str]) -> BaseException | None:
        """Send recorded orders to the venue; returns the first error a placement raised."""
        if self.refused is not None:
            reason = "gateway refuses to trade: the key can withdraw or transfer"
            self._record(
                [self._next(c, OrderRejected, self.submitted.get(c), reason=reason) for c in coids]
            )
            return None
        if self.live:
            done = await asyncio.gather(
                *(self._tracked(c, self._place) for c in coids), return_exceptions=True
            )
            return next((d for d in done if isinstance(d, BaseException)), None)
        async with self.book_lock:  # no fill or cancel slips in before the acknowledgements
            staged: list[Event] = []
            self._staged = staged
            try:
                for coid in coids:
                    await self._tracked(coid, self._place)
            finally:
                self._staged = None
                self._record(staged)
        return None

    def _status(self, coid: str) -> str:
        order = self.orders.get(coid)
        return order.status.value if order is not None else "unknown"

    def _submitted_event(self, intent: OrderIntentApproved) -> OrderSubmitted:
        """Version 1 of the order's stream: a second one for the same intent cannot be recorded."""
        coid = intent.client_order_id
        return OrderSubmitted(
            **self.writer.meta(intent).envelope(order_stream(coid), 1),
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

    def _unresolved(self, order: Order) -> bool:
        return self.live and order.status is OrderStatus.SUBMITTED and not order.venue_order_id

    async def _tracked(self, coid: str, step: Any) -> str:
        """One task per order at a time: a concurrent second call waits for the first."""
        task = self._inflight.get(coid)
        if task is None:
            task = asyncio.ensure_future(step(coid))
            self._inflight[coid] = task
            task.add_done_callback(lambda _: self._inflight.pop(coid, None))
        return await asyncio.shield(task)

    async def _place(self, coid: str, resends: int = 0) -> str:
        order = self.orders[coid]
        request = request_for(order)
        op = "place_market" if order.order_type is OrderType.MARKET else "place"
        priority = Priority.REDUCE if order.reduce_only else Priority.ENTRY
        for attempt in range(self.place_attempts):
            self._sent_ns[coid] = time.time_ns()
            try:
                placed = await self.guard.write(
                    op,
                    lambda: self.adapter.place(request),
                    priority=priority,
                    instrument=order.instrument,
                )
            except RateLimited as exc:  # definitely not placed: wait, then send again
                wait = exc.retry_after_s if exc.retry_after_s is not None else 1.0
                if attempt + 1 < self.place_attempts:
                    await asyncio.sleep(wait)
                continue
            except CircuitOpenError:
                return self._reject(coid, "venue circuit open: order not sent")
            except OrderRefused as exc:
                if resends and await self._venue_has(coid):  # a duplicate id: it is there
                    return self.orders[coid].status.value
                return self._reject(coid, exc.reason)
            except (OutcomeUnknown, VenueError) as exc:
                event = self._next(coid, OrderStatusUnknown, None, reason=str(exc)[:300])
                self._record([event])
                return await self._resolve(coid, resends)
            self._accepted(coid, placed.venue_order_id)
            if placed.status is not VenueOrderStatus.OPEN or placed.filled_quantity > 0:
                self.needs_reconcile = self.needs_reconcile or "order_done"
            return self.orders[coid].status.value
        return self._reject(coid, "rate limited by the venue: order not sent")

    def _reject(self, coid: str, reason: str) -> str:
        self._record([self._next(coid, OrderRejected, None, reason=reason[:300])])
        return self.orders[coid].status.value

    def _accepted(self, coid: str, venue_order_id: str) -> None:
        if self.orders[coid].status is OrderStatus.SUBMITTED:
            event = self._next(coid, OrderAccepted, None, venue_order_id=venue_order_id)
            if self._staged is not None:
                self._staged.append(event)  # recorded with the rest of its batch
            else:
                self._record([event])

    async def _lookup(self, coid: str) -> Any:
        """The venue's report of the order by client id (None: it does not know it)."""
        instrument = self.orders[coid].instrument
        return await self.guard.read(
            "lookup",
            lambda: self.adapter.order_by_client_id(coid, instrument),
            priority=Priority.LOOKUP,
            instrument=instrument,
        )

    async def _venue_has(self, coid: str) -> bool:
        try:
            found = await self._lookup(coid)
        except VenueError:
            return False
        if found is not None:
            self._accepted(coid, found.venue_order_id)
        return found is not None

    async def _resolve(self, coid: str, resends: int = 0) -> str:
        """After an unknown outcome: ask the venue (reads retried), resend only if it lacks it.

        The lookup waits until our last send can no longer be in flight (the request timeout),
        so a request the venue processes late is not mistaken for one it never received."""
        sent = self._sent_ns.get(coid, self.submitted_ns.get(coid, 0))
        wait_ns = sent + self.grace_ns - time.time_ns()
        if wait_ns > 0:
            await asyncio.sleep(wait_ns / 1e9)
        try:
            found = await self._lookup(coid)
        except VenueError:
            self.needs_reconcile = self.needs_reconcile or "unresolved"
            return self.orders[coid].status.value  # still unknown: reconciliation finishes it
        decision = after_lookup(
            order_report(found) if found is not None else None,
            submitted_ns=self.submitted_ns.get(coid, 0),
            now_ns=time.time_ns(),
            resend_window_ns=self.resend_window_ns,
        )
        if decision.resolution is Resolution.PLACED and decision.report is not None:
            self._accepted(coid, decision.report.venue_order_id)
            if decision.report.status.value != "open" or decision.report.filled_quantity:
                self.needs_reconcile = self.needs_reconcile or "order_done"
        elif decision.resolution is Resolution.RESEND and resends < 3:
            return await self._place(coid, resends + 1)
        elif decision.resolution is not Resolution.RESEND:
            return self._reject(coid, decision.reason)
        return self.orders[coid].status.value

    async def cancel(self, client_order_id: str, reason: str = "requested") -> str:
        """Cancel an open order at the venue (ahead of new entries), then record
        ``OrderCanceled``; returns its status. Fills before the cancel arrive by reconciliation."""
        async with self.book_lock:  # not while a batch's acknowledgements are being recorded
            return await self._cancel(client_order_id, reason)

    async def _cancel(self, client_order_id: str, reason: str) -> str:
        order = self.orders.get(client_order_id)
        if order is None or not order.status.is_open:
            return order.status.value if order is not None else "unknown"
        try:
            found = await self.guard.write(
                "cancel",
                lambda: self.adapter.cancel(client_order_id, order.instrument),
                priority=Priority.CANCEL,
                instrument=order.instrument,
            )
        except VenueError as exc:
            log.warning("gateway.cancel_failed", extra={"venue": self.venue, "error": str(exc)})
            self.needs_reconcile = self.needs_reconcile or "cancel"
            return self.orders[client_order_id].status.value
        if found is None or found.status is VenueOrderStatus.CANCELED:
            if self.orders[client_order_id].status.is_open:
                self._record([self._next(client_order_id, OrderCanceled, None, reason=reason)])
        elif self.live:
            with contextlib.suppress(VenueError):
                await self.reconcile("cancel")
        return self.orders[client_order_id].status.value
