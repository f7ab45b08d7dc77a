"""The equity curve, sampled at each bar's close in market time, and its drawdown.

Equity is starting cash + realised P&L - fees + unrealised P&L, taken from an internal
``PositionsProjection`` so the curve and the positions agree. One point per distinct close time:
when several instruments close together the last value wins, and a bar that closes earlier than
the newest point (a late bar) updates that newest point. Points are kept as two plain lists
(``ts_ns`` ints, ``equity`` floats) for columnar use; ``state`` summarises them with a hash.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from domain.events import BarClosed, Event, OrderFilled
from projections.base import FoldProjection, Handler, dec, digest_of
from projections.positions import PositionsProjection

NS = 1_000_000_000


class EquityProjection(FoldProjection):
    name: ClassVar[str] = "equity"
    topics: ClassVar[frozenset[str]] = frozenset({"OrderFilled", "BarClosed"})

    def __init__(self, starting_cash: Decimal | int | str = 100_000) -> None:
        self.starting_cash = Decimal(starting_cash)
        self.positions = PositionsProjection()
        self.ts_ns: list[int] = []
        self.equity: list[float] = []
        # peak and max drawdown over every point but the newest one, which may still change
        self._peak_before = float("-inf")
        self._mdd_before = 0.0
        self._mdd_abs_before = 0.0
        self._settled: Decimal | None = None  # cash + realised - fees; None after a fill
        super().__init__()

    def handlers(self) -> dict[type[Event], Handler]:
        return {OrderFilled: self.on_order_filled, BarClosed: self.on_bar_closed}

    def on_order_filled(self, event: OrderFilled) -> None:
        self.positions.on_order_filled(event)
        self._settled = None

    def current_equity(self) -> Decimal:
        positions = self.positions
        settled = self._settled
        if settled is None:
            settled = self.starting_cash
            for book in positions.books.values():
                settled += book.realized - book.fees
            self._settled = settled
        total = settled
        marks = positions.marks
        instrument_marks = positions.instrument_marks
        for key, book in positions.books.items():
            quantity = book.quantity
            if quantity:
                mark = marks.get(key) or instrument_marks.get(key[1]) or book.last_price
                total += quantity * mark - book.cost
        return total

    def on_bar_closed(self, event: BarClosed) -> None:
        self.positions.on_bar_closed(event)
        ts = event.open_ts_ns + event.interval_s * NS
        value = float(self.current_equity())
        points = self.ts_ns
        if points and ts <= points[-1]:
            self.equity[-1] = value
            return
        if points:
            last = self.equity[-1]
            peak = self._peak_before = max(self._peak_before, last)
            self._mdd_abs_before = max(self._mdd_abs_before, peak - last)
            if peak > 0:
                self._mdd_before = max(self._mdd_before, (peak - last) / peak)
        points.append(ts)
        self.equity.append(value)

    # reading ------------------------------------------------------------------------------------

    def curve(self) -> tuple[list[int], list[float]]:
        return self.ts_ns, self.equity

    def drawdown(self) -> tuple[float, float]:
        """``(max drawdown as a fraction of the peak, max drawdown in quote units)`` so far."""
        if not self.equity:
            return 0.0, 0.0
        last = self.equity[-1]
        peak = max(self._peak_before, last)
        mdd_abs = max(self._mdd_abs_before, peak - last)
        mdd = self._mdd_before
        if peak > 0:
            mdd = max(mdd, (peak - last) / peak)
        return mdd, mdd_abs

    def state(self) -> dict[str, Any]:
        mdd, mdd_abs = self.drawdown()
        return {
            "starting_cash": dec(self.starting_cash),
            "equity": dec(self.current_equity()),
            "points": len(self.ts_ns),
            "first_ts_ns": self.ts_ns[0] if self.ts_ns else None,
            "last_ts_ns": self.ts_ns[-1] if self.ts_ns else None,
            "last_point": self.equity[-1] if self.equity else None,
            "peak": max(self.equity) if self.equity else None,
            "max_drawdown": mdd,
            "max_drawdown_abs": mdd_abs,
            "curve_sha256": digest_of([self.ts_ns, self.equity]),
        }
