"""Reconciliation: compare what a venue says with the tape and return the events that make the
tape agree with the venue again.

Run at a gateway's start and after every reconnect or circuit recovery. Orders are matched by
client order id, then by venue order id (a fill or an order report may carry only the latter).

- An order the tape has as submitted that the venue holds becomes accepted (or rejected).
- A fill the tape lacks becomes ``OrderFilled`` (repeats and out-of-order deliveries are folded
  once, by fill id); a filled quantity the venue reports without its fills is recorded as one
  reconciled fill at the venue's average price.
- An order the venue closed becomes ``OrderCanceled`` / ``OrderExpired``.
- An order the tape has as submitted that the venue does not know is to be sent again (same
  client id) while fresh, or abandoned (``OrderRejected``) when too old.
- An order the venue holds, or filled, that the tape never had is recorded: ``OrderDiscovered``
  on the venue stream, then its own stream from ``OrderSubmitted`` (strategy ``external``).
- A position that still differs afterwards becomes ``PositionDiscrepancy`` (once per change).
- A spot balance that moved, since the previous reconciliation, by other than the fills recorded
  now imply becomes ``BalanceDiscrepancy`` (``domain.execution.balances``). For a live gateway
  every fill reaches the tape through reconciliation, so these are the fills in between.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.events import (
    Event,
    EventMeta,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    order_stream,
)
from domain.events.venue import (
    BalanceDiscrepancy,
    OrderDiscovered,
    PositionDiscrepancy,
    ReconciliationCompleted,
    venue_stream,
)
from domain.execution.balances import (
    BalanceBaseline,
    BalanceDifference,
    BalanceTolerance,
    FillMove,
    compare_balances,
    implied_changes,
)
from domain.execution.reports import FillReport, OrderReport, ReportedStatus, VenueSnapshot
from domain.orders import Order, OrderStateError, OrderStatus
from domain.values import OrderType, base_quote

EXTERNAL_STRATEGY = "external"
ZERO = Decimal(0)


@dataclass
class Reconciliation:
    events: list[Event] = field(default_factory=list)
    resend: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    corrections: int = 0
    moves: list[FillMove] = field(default_factory=list)
    balance_differences: list[BalanceDifference] = field(default_factory=list)


def fee_in_quote(fill: FillReport) -> Decimal:
    """Venue fees may be charged in the base asset (a Binance buy); the tape keeps quote.

    A fee in a third asset (BNB on Binance) has no price here: it counts 0 in quote, and the
    fill keeps it as charged (``fee_asset``, ``fee_charged``) for reports and the balance check,
    rather than booking BNB as if it were quote currency."""
    base, quote = base_quote(fill.instrument)
    perpetual = fill.instrument.endswith("-PERP")  # fees in the settlement currency (USDC)
    if fill.fee_currency is None or fill.fee_currency == quote or perpetual:
        return fill.fee
    if fill.fee_currency == base:
        return fill.fee * fill.price
    return Decimal(0)


class _Run:
    def __init__(
        self,
        orders: Mapping[str, Order],
        venue: str,
        meta: EventMeta,
        venue_version: int,
    ) -> None:
        self.staged: dict[str, Order] = dict(orders)
        self.by_venue_id = {o.venue_order_id: c for c, o in orders.items() if o.venue_order_id}
        self.venue = venue
        self.meta = meta
        self.venue_version = venue_version
        self.out = Reconciliation()

    def emit(self, coid: str, cls: type[Event], **fields: Any) -> bool:
        order = self.staged[coid]
        event = cls(
            **self.meta.envelope(order_stream(coid), order.version + 1),
            client_order_id=coid,
            **fields,
        )
        try:
            self.staged[coid] = order.apply(event)
        except OrderStateError as exc:
            self.out.anomalies.append(str(exc))
            return False
        if isinstance(event, OrderAccepted):
            self.by_venue_id[event.venue_order_id] = coid
        self.out.events.append(event)
        self.out.corrections += 1
        return True

    def emit_venue(self, cls: type[Event], **fields: Any) -> Event:
        self.venue_version += 1
        event = cls(**self.meta.envelope(venue_stream(self.venue), self.venue_version), **fields)
        self.out.events.append(event)
        return event

    def match(self, client_order_id: str | None, venue_order_id: str) -> str | None:
        if client_order_id and client_order_id in self.staged:
            return client_order_id
        return self.by_venue_id.get(venue_order_id)

    def accept(self, coid: str, report: OrderReport) -> None:
        if self.staged[coid].status is not OrderStatus.SUBMITTED:
            return
        if report.status is ReportedStatus.REJECTED:
            self.emit(coid, OrderRejected, reason="rejected by the venue")
        else:
            self.emit(coid, OrderAccepted, venue_order_id=report.venue_order_id)

    def fill(self, coid: str, fill: FillReport) -> None:
        order = self.staged[coid]
        if fill.fill_id in order.fill_ids:
            return
        if order.status is OrderStatus.SUBMITTED:
            self.emit(coid, OrderAccepted, venue_order_id=fill.venue_order_id)
            order = self.staged[coid]
        if order.filled_quantity + fill.quantity > order.quantity:
            self.out.anomalies.append(f"fill {fill.fill_id} would overfill order {coid}")
            return
        recorded = self.emit(
            coid,
            OrderFilled,
            fill_id=fill.fill_id,
            strategy=order.strategy,
            venue=self.venue,
            instrument=order.instrument,
            side=order.side,
            quantity=fill.quantity,
            price=fill.price,
            fee=fee_in_quote(fill),
            liquidity=fill.liquidity if fill.liquidity in ("maker", "taker") else "taker",
            fill_ts_ns=max(0, fill.ts_ns),
            fee_asset=fill.fee_currency,
            fee_charged=fill.fee if fill.fee_currency is not None else None,
        )
        if recorded:
            self.out.moves.append(
                FillMove(
                    instrument=order.instrument,
                    side=order.side,
                    quantity=fill.quantity,
                    price=fill.price,
                    fee=fill.fee,
                    fee_asset=fill.fee_currency,
                )
            )

    def settle(self, coid: str, report: OrderReport) -> None:
        """Bring quantity and status in line with the venue's report of the order."""
        order = self.staged[coid]
        missing = min(report.filled_quantity, order.quantity) - order.filled_quantity
        if missing > 0 and report.average_price:
            notional = report.average_price * report.filled_quantity - order.notional_filled
            price = notional / missing if notional > 0 else report.average_price
            self.fill(
                coid,
                FillReport(
                    fill_id=f"reconciled:{report.venue_order_id}:{report.filled_quantity}",
                    client_order_id=coid,
                    venue_order_id=report.venue_order_id,
                    instrument=order.instrument,
                    side=order.side,
                    quantity=missing,
                    price=price,
                    ts_ns=self.meta.ts_ns,
                ),
            )
        elif missing > 0:
            self.out.anomalies.append(f"order {coid}: venue reports fills without a price")
        order = self.staged[coid]
        if not order.status.is_open or report.status is ReportedStatus.OPEN:
            return
        if report.status is ReportedStatus.EXPIRED:
            self.emit(coid, OrderExpired, reason="expired at the venue")
        elif report.status is ReportedStatus.CANCELED:
            self.emit(coid, OrderCanceled, reason="canceled at the venue")
        else:  # filled (for less than we asked) or rejected after acceptance
            self.emit(coid, OrderCanceled, reason=f"{report.status.value} at the venue")

    def discover(
        self, venue_order_id: str, report: OrderReport | None, fills: list[FillReport]
    ) -> None:
        first = report or fills[0]
        coid = (report.client_order_id if report else None) or first.client_order_id
        if not coid or coid in self.staged:
            coid = f"{self.venue}-{venue_order_id}"
        if coid in self.staged:
            self.out.anomalies.append(f"cannot record venue order {venue_order_id}: id in use")
            return
        filled = sum((f.quantity for f in fills), ZERO)
        quantity = max(report.quantity if report else filled, filled)
        status = report.status.value if report else ReportedStatus.FILLED.value
        open_now = report is not None and report.status is ReportedStatus.OPEN
        found = self.emit_venue(
            OrderDiscovered,
            venue=self.venue,
            client_order_id=coid,
            venue_order_id=venue_order_id,
            instrument=first.instrument,
            side=first.side,
            quantity=quantity,
            filled_quantity=report.filled_quantity if report else filled,
            status=status,
        )
        submitted = OrderSubmitted(
            **self.meta.caused_by(found).envelope(order_stream(coid), 1),
            client_order_id=coid,
            intent_event_id=found.event_id,
            strategy=EXTERNAL_STRATEGY,
            venue=self.venue,
            instrument=first.instrument,
            side=first.side,
            quantity=quantity,
            order_type=OrderType.LIMIT if open_now else OrderType.MARKET,
        )
        self.staged[coid] = Order(client_order_id=coid).apply(submitted)
        self.out.events.append(submitted)
        self.emit(coid, OrderAccepted, venue_order_id=venue_order_id)
        for fill in fills:
            self.fill(coid, fill)
        if report is not None:
            self.settle(coid, report)
        elif self.staged[coid].status.is_open:
            self.emit(coid, OrderCanceled, reason="closed at the venue")


def tape_positions(orders: Mapping[str, Order]) -> dict[str, Decimal]:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders.values():
        if order.filled_quantity:
            net[order.instrument] += order.side.sign * order.filled_quantity
    return dict(net)


def reconcile(
    orders: Mapping[str, Order],
    snapshot: VenueSnapshot,
    *,
    venue: str,
    meta: EventMeta,
    venue_version: int,
    submitted_ns: Mapping[str, int],
    resend_window_ns: int,
    trigger: str,
    known_discrepancies: Mapping[str, tuple[Decimal, Decimal]] | None = None,
    baseline: BalanceBaseline | None = None,
    tolerance: BalanceTolerance | None = None,
) -> Reconciliation:
    """The events (in order) that make the tape agree with ``snapshot``, the client ids to send
    again, and anything that could not be reconciled. ``orders`` are this venue's orders as the
    tape has them; ``venue_version`` is the head of the venue stream. ``baseline``: the spot
    balances the previous reconciliation recorded (None: nothing to compare with)."""
    run = _Run(orders, venue, meta, venue_version)
    reported: dict[str, OrderReport] = {}
    unknown: dict[str, OrderReport] = {}
    for report in snapshot.open_orders:
        coid = run.match(report.client_order_id, report.venue_order_id)
        if coid is None:
            unknown[report.venue_order_id] = report
        else:
            reported[coid] = report
    for coid, found in snapshot.lookups.items():
        if found is not None and coid in run.staged:
            reported.setdefault(coid, found)
    for coid, report in reported.items():
        run.accept(coid, report)
    for venue_order_id, report in list(unknown.items()):  # known now by its venue order id
        coid = run.match(None, venue_order_id)
        if coid is not None:
            reported.setdefault(coid, report)
            del unknown[venue_order_id]

    stray: dict[str, list[FillReport]] = defaultdict(list)
    seen: set[str] = set()
    for fill in sorted(snapshot.fills, key=lambda f: (f.ts_ns, f.fill_id)):
        if fill.fill_id in seen:
            continue
        seen.add(fill.fill_id)
        coid = run.match(fill.client_order_id, fill.venue_order_id)
        if coid is None:
            stray[fill.venue_order_id].append(fill)
        else:
            run.fill(coid, fill)

    for coid, report in reported.items():
        run.settle(coid, report)
    for coid, order in orders.items():
        if coid in reported or not order.status.is_open:
            continue
        if coid not in snapshot.lookups or run.staged[coid].status is not order.status:
            continue  # not asked about, or already settled by its fills
        if order.status is OrderStatus.SUBMITTED:
            if meta.ts_ns - submitted_ns.get(coid, meta.ts_ns) <= resend_window_ns:
                run.out.resend.append(coid)
            else:
                run.emit(coid, OrderRejected, reason="never reached the venue; too old to send")
        else:
            run.emit(coid, OrderCanceled, reason="unknown at the venue")

    for venue_order_id in sorted(set(unknown) | set(stray)):
        run.discover(venue_order_id, unknown.get(venue_order_id), stray.get(venue_order_id, []))

    if snapshot.positions is not None:
        _positions(run, snapshot, known_discrepancies or {})
    elif baseline is not None:
        _balances(run, snapshot, baseline, tolerance or BalanceTolerance())
    run.emit_venue(
        ReconciliationCompleted,
        venue=venue,
        trigger=trigger,
        orders_checked=len(reported) + len(unknown),
        corrections=run.out.corrections,
        fills_since_ns=max(0, snapshot.fills_since_ns),
        balances=dict(snapshot.balances),
    )
    return run.out


def _positions(
    run: _Run, snapshot: VenueSnapshot, known: Mapping[str, tuple[Decimal, Decimal]]
) -> None:
    tape = tape_positions(run.staged)
    venue = {p.instrument: p.quantity for p in snapshot.positions or []}
    for instrument in sorted(set(tape) | set(venue) | set(known)):
        pair = (tape.get(instrument, ZERO), venue.get(instrument, ZERO))
        last = known.get(instrument)
        if (pair[0] == pair[1] and last is None) or (last is not None and last == pair):
            continue
        run.emit_venue(
            PositionDiscrepancy,
            venue=run.venue,
            instrument=instrument,
            tape_quantity=pair[0],
            venue_quantity=pair[1],
        )
        run.out.corrections += 1


def _balances(
    run: _Run, snapshot: VenueSnapshot, baseline: BalanceBaseline, tolerance: BalanceTolerance
) -> None:
    changes = implied_changes(run.out.moves)
    differences = compare_balances(baseline.balances, snapshot.balances, changes, tolerance)
    for diff in differences:
        run.emit_venue(
            BalanceDiscrepancy,
            venue=run.venue,
            asset=diff.asset,
            previous=diff.previous,
            expected=diff.expected,
            observed=diff.observed,
            difference=diff.difference,
            since_ns=baseline.ts_ns,
            until_ns=run.meta.ts_ns,
        )
        run.out.corrections += 1
    run.out.balance_differences = differences
