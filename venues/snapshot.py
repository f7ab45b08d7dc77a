"""Asks a venue everything reconciliation needs, through the guard, as domain reports.

Open orders first; fills since a point (per instrument where the venue needs a symbol); then a
lookup by client id of each order the tape has open that the venue's list did not show and its
fills do not close (it may have been cancelled, or never arrived); balances; positions for
derivatives venues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from domain.execution.reports import (
    FillReport,
    OrderReport,
    PositionReport,
    ReportedStatus,
    VenueSnapshot,
)
from domain.orders import Order
from venues.base import VenueAdapter, VenueFill, VenueOrder
from venues.guard import GuardedVenue
from venues.ratelimit import Priority

FILLS_NEED_SYMBOL = frozenset({"binance"})
DERIVATIVES = frozenset({"hyperliquid"})


def order_report(order: VenueOrder) -> OrderReport:
    return OrderReport(
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        instrument=order.instrument,
        side=order.side,
        quantity=order.quantity,
        filled_quantity=order.filled_quantity,
        average_price=order.average_price,
        status=ReportedStatus(order.status.value),
    )


def fill_report(fill: VenueFill) -> FillReport:
    return FillReport.model_validate(fill.model_dump())


async def take_snapshot(
    kind: str,
    adapter: VenueAdapter,
    guard: GuardedVenue,
    orders: Mapping[str, Order],
    *,
    fills_since_ns: int,
    watch: Iterable[str] = (),
) -> VenueSnapshot:
    listed = await guard.read("open_orders", lambda: adapter.open_orders(None))
    open_reports = [order_report(o) for o in listed]
    seen_ids = {r.client_order_id for r in open_reports} | {r.venue_order_id for r in open_reports}
    fills: list[FillReport] = []
    if kind in FILLS_NEED_SYMBOL:
        instruments = sorted(
            {o.instrument for o in orders.values()}
            | {r.instrument for r in open_reports}
            | set(watch)
        )
        for instrument in instruments:
            got = await guard.read(
                "fills",
                lambda i=instrument: adapter.fills_since(fills_since_ns, i),
                instrument=instrument,
            )
            fills.extend(fill_report(f) for f in got)
    else:
        got = await guard.read("fills", lambda: adapter.fills_since(fills_since_ns, None))
        fills.extend(fill_report(f) for f in got)
    filled: dict[str, Decimal] = {}
    for fill in {f.fill_id: f for f in fills}.values():  # a fill listed twice counts once
        key = fill.client_order_id or fill.venue_order_id
        filled[key] = filled.get(key, Decimal(0)) + fill.quantity
    lookups: dict[str, OrderReport | None] = {}
    for coid, order in orders.items():
        if not order.status.is_open or coid in seen_ids or order.venue_order_id in seen_ids:
            continue
        done = filled.get(coid, Decimal(0)) + filled.get(order.venue_order_id or "", Decimal(0))
        if order.venue_order_id and done >= order.quantity:
            continue  # its fills close it: no need to ask
        found = await guard.read(
            "lookup",
            lambda c=coid, i=order.instrument: adapter.order_by_client_id(c, i),
            priority=Priority.LOOKUP,
            instrument=order.instrument,
        )
        lookups[coid] = order_report(found) if found is not None else None
    balances: dict[str, Decimal] = await guard.read("balances", adapter.balances)
    positions = None
    if kind in DERIVATIVES:
        held = await guard.read("positions", adapter.positions)
        positions = [PositionReport(instrument=p.instrument, quantity=p.quantity) for p in held]
    return VenueSnapshot(
        open_orders=open_reports,
        lookups=lookups,
        fills=fills,
        fills_since_ns=fills_since_ns,
        positions=positions,
        balances=balances,
    )
