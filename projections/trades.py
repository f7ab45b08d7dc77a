"""The round-trip trade log, per strategy, venue and instrument.

A trade opens when the strategy's position there leaves flat and closes when it returns to flat;
a fill that crosses zero closes one trade and opens the next at the same fill, its fee split in
proportion to the quantity on each side. P&L is the average-cost ``Book``'s, so the trade log and
the positions projection agree on every number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from domain.events import Event, OrderFilled
from domain.values import Side
from projections.base import FoldProjection, Handler, dec, dec_or_none
from projections.positions import ZERO, Book

Key = tuple[str, str, str]


class Trade:
    """One round trip (closed) or the one in progress (open)."""

    __slots__ = (
        "entry_notional",
        "entry_qty",
        "entry_ts_ns",
        "exit_notional",
        "exit_qty",
        "exit_ts_ns",
        "fees",
        "fills",
        "gross_pnl",
        "instrument",
        "max_quantity",
        "side",
        "strategy",
        "venue",
    )

    def __init__(self, key: Key, side: str, entry_ts_ns: int) -> None:
        self.strategy, self.venue, self.instrument = key
        self.side = side
        self.entry_ts_ns = entry_ts_ns
        self.exit_ts_ns: int | None = None
        self.entry_qty = ZERO
        self.entry_notional = ZERO
        self.exit_qty = ZERO
        self.exit_notional = ZERO
        self.max_quantity = ZERO
        self.gross_pnl = ZERO
        self.fees = ZERO
        self.fills = 0

    @property
    def is_open(self) -> bool:
        return self.exit_ts_ns is None

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees

    @property
    def entry_price(self) -> Decimal | None:
        return self.entry_notional / self.entry_qty if self.entry_qty else None

    @property
    def exit_price(self) -> Decimal | None:
        return self.exit_notional / self.exit_qty if self.exit_qty else None

    def state(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "venue": self.venue,
            "instrument": self.instrument,
            "side": self.side,
            "entry_ts_ns": self.entry_ts_ns,
            "exit_ts_ns": self.exit_ts_ns,
            "quantity": dec(self.max_quantity),
            "entry_price": dec_or_none(self.entry_price),
            "exit_price": dec_or_none(self.exit_price),
            "gross_pnl": dec(self.gross_pnl),
            "fees": dec(self.fees),
            "net_pnl": dec(self.net_pnl),
            "fills": self.fills,
        }


class TradesProjection(FoldProjection):
    """Closed round trips in the order they closed, plus the trades still open."""

    name: ClassVar[str] = "trades"
    topics: ClassVar[frozenset[str]] = frozenset({"OrderFilled"})

    def __init__(self) -> None:
        self.books: dict[Key, Book] = {}
        self.open: dict[Key, Trade] = {}
        self.closed: list[Trade] = []
        self._seen: set[tuple[str, str]] = set()
        super().__init__()

    def handlers(self) -> dict[type[Event], Handler]:
        return {OrderFilled: self.on_order_filled}

    def on_order_filled(self, event: OrderFilled) -> None:
        fill_key = (event.client_order_id, event.fill_id)
        if fill_key in self._seen:
            return
        self._seen.add(fill_key)
        key = (event.strategy, event.venue, event.instrument)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = Book()
        size = event.quantity
        price = event.price
        fee = event.fee
        held = abs(book.quantity)
        pnl, closed = book.fill(size if event.side is Side.BUY else -size, price, fee)
        opened = size - closed
        fee_open = fee
        if closed:
            trade = self.open[key]
            fee_close = fee if not opened else fee * closed / size
            fee_open = fee - fee_close
            trade.exit_qty += closed
            trade.exit_notional += closed * price
            trade.gross_pnl += pnl
            trade.fees += fee_close
            trade.fills += 1
            if closed == held:
                trade.exit_ts_ns = event.fill_ts_ns
                del self.open[key]
                self.closed.append(trade)
        if opened:
            trade = self.open.get(key)
            if trade is None:
                side = "long" if book.quantity > 0 else "short"
                trade = self.open[key] = Trade(key, side, event.fill_ts_ns)
            trade.entry_qty += opened
            trade.entry_notional += opened * price
            trade.fees += fee_open
            trade.fills += 1
            quantity = abs(book.quantity)
            if quantity > trade.max_quantity:
                trade.max_quantity = quantity

    # reading ------------------------------------------------------------------------------------

    def trades(self) -> list[Trade]:
        return list(self.closed)

    def summary(self) -> dict[str, Any]:
        wins = sum(1 for t in self.closed if t.net_pnl > 0)
        return {
            "count": len(self.closed),
            "open": len(self.open),
            "wins": wins,
            "losses": sum(1 for t in self.closed if t.net_pnl < 0),
            "gross_pnl": dec(sum((t.gross_pnl for t in self.closed), ZERO)),
            "fees": dec(sum((t.fees for t in self.closed), ZERO)),
            "net_pnl": dec(sum((t.net_pnl for t in self.closed), ZERO)),
        }

    def state(self) -> dict[str, Any]:
        return {
            "trades": [t.state() for t in self.closed],
            "open": {"/".join(k): t.state() for k, t in sorted(self.open.items())},
            "summary": self.summary(),
        }
