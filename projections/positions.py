"""Positions per venue and instrument, with average-cost P&L, folded from fills and bar closes.

The ``Book`` is the accounting core (also used per strategy by the trade log): a signed quantity
and the signed cost of what is open. Reducing a position realises ``proceeds - cost removed``;
crossing zero closes the whole position and opens the remainder at the fill price. Keeping the
cost (rather than a rounded average) makes ``realized + unrealized - fees`` equal the cash flows.

Marks are the last ``BarClosed`` close for the same venue and instrument; failing that, the last
close of the instrument on any venue; failing that, the position's last fill price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from domain.events import BarClosed, Event, OrderFilled
from domain.values import Side
from projections.base import FoldProjection, Handler, dec, dec_or_none

ZERO = Decimal(0)
BUY = Side.BUY


class Book:
    """An average-cost position: signed quantity, signed open cost, realised P&L and fees."""

    __slots__ = ("cost", "fees", "fills", "last_price", "quantity", "realized", "volume")

    def __init__(self) -> None:
        self.quantity = ZERO
        self.cost = ZERO
        self.realized = ZERO
        self.fees = ZERO
        self.volume = ZERO
        self.fills = 0
        self.last_price: Decimal | None = None

    def fill(self, signed_qty: Decimal, price: Decimal, fee: Decimal) -> tuple[Decimal, Decimal]:
        """Apply one execution; returns ``(realized P&L of it, quantity it closed)``."""
        self.fees += fee
        self.volume += abs(signed_qty) * price
        self.fills += 1
        self.last_price = price
        qty = self.quantity
        if not qty or (qty > 0) == (signed_qty > 0):
            self.quantity = qty + signed_qty
            self.cost += signed_qty * price
            return ZERO, ZERO
        held = abs(qty)
        size = abs(signed_qty)
        if size < held:
            removed = self.cost * size / held
            pnl = -signed_qty * price - removed
            self.quantity = qty + signed_qty
            self.cost -= removed
            self.realized += pnl
            return pnl, size
        # closes everything; the remainder (if any) opens the other way at this price
        closing = -qty
        pnl = -closing * price - self.cost
        remainder = signed_qty - closing
        self.quantity = remainder
        self.cost = remainder * price
        self.realized += pnl
        return pnl, held

    @property
    def average_price(self) -> Decimal | None:
        return self.cost / self.quantity if self.quantity else None

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if not self.quantity or mark is None:
            return ZERO
        return self.quantity * mark - self.cost


@dataclass(frozen=True, slots=True)
class PositionView:
    venue: str
    instrument: str
    quantity: Decimal
    average_price: Decimal | None
    realized_pnl: Decimal
    fees: Decimal
    mark: Decimal | None
    unrealized_pnl: Decimal
    notional: Decimal

    @property
    def net_pnl(self) -> Decimal:
        return self.realized_pnl - self.fees + self.unrealized_pnl


class PositionsProjection(FoldProjection):
    """Positions per ``(venue, instrument)``; a fill id repeated for the same order counts once."""

    name: ClassVar[str] = "positions"
    topics: ClassVar[frozenset[str]] = frozenset({"OrderFilled", "BarClosed"})

    def __init__(self) -> None:
        self.books: dict[tuple[str, str], Book] = {}
        self.marks: dict[tuple[str, str], Decimal] = {}
        self.instrument_marks: dict[str, Decimal] = {}
        self._seen: set[tuple[str, str]] = set()
        self.duplicate_fills = 0
        super().__init__()

    def handlers(self) -> dict[type[Event], Handler]:
        return {OrderFilled: self.on_order_filled, BarClosed: self.on_bar_closed}

    def on_order_filled(self, event: OrderFilled) -> None:
        fill_key = (event.client_order_id, event.fill_id)
        if fill_key in self._seen:
            self.duplicate_fills += 1
            return
        self._seen.add(fill_key)
        key = (event.venue, event.instrument)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = Book()
        qty = event.quantity if event.side is BUY else -event.quantity
        book.fill(qty, event.price, event.fee)

    def on_bar_closed(self, event: BarClosed) -> None:
        self.marks[(event.venue, event.instrument)] = event.close
        self.instrument_marks[event.instrument] = event.close

    # reading ------------------------------------------------------------------------------------

    def mark(self, venue: str, instrument: str) -> Decimal | None:
        mark = self.marks.get((venue, instrument))
        if mark is None:
            mark = self.instrument_marks.get(instrument)
        if mark is None:
            book = self.books.get((venue, instrument))
            mark = book.last_price if book is not None else None
        return mark

    def position(self, venue: str, instrument: str) -> PositionView:
        book = self.books.get((venue, instrument)) or Book()
        mark = self.mark(venue, instrument)
        return PositionView(
            venue=venue,
            instrument=instrument,
            quantity=book.quantity,
            average_price=book.average_price,
            realized_pnl=book.realized,
            fees=book.fees,
            mark=mark,
            unrealized_pnl=book.unrealized(mark),
            notional=book.quantity * mark if mark is not None else book.cost,
        )

    def positions(self) -> list[PositionView]:
        return [self.position(v, i) for v, i in sorted(self.books)]

    def totals(self) -> dict[str, Decimal]:
        realized = fees = unrealized = gross = net = ZERO
        for view in self.positions():
            realized += view.realized_pnl
            fees += view.fees
            unrealized += view.unrealized_pnl
            gross += abs(view.notional)
            net += view.notional
        return {
            "realized_pnl": realized,
            "fees": fees,
            "unrealized_pnl": unrealized,
            "net_pnl": realized - fees + unrealized,
            "gross_exposure": gross,
            "net_exposure": net,
        }

    def state(self) -> dict[str, Any]:
        positions: dict[str, Any] = {}
        for view in self.positions():
            book = self.books[(view.venue, view.instrument)]
            positions[f"{view.venue}:{view.instrument}"] = {
                "venue": view.venue,
                "instrument": view.instrument,
                "quantity": dec(view.quantity),
                "average_price": dec_or_none(view.average_price),
                "realized_pnl": dec(view.realized_pnl),
                "fees": dec(view.fees),
                "mark": dec_or_none(view.mark),
                "unrealized_pnl": dec(view.unrealized_pnl),
                "net_pnl": dec(view.net_pnl),
                "notional": dec(view.notional),
                "fills": book.fills,
                "volume": dec(book.volume),
            }
        totals = {k: dec(v) for k, v in self.totals().items()}
        totals["duplicate_fills"] = self.duplicate_fills
        return {"positions": positions, "totals": totals}
