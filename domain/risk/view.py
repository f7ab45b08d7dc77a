"""The risk manager's state, a fold over tape events: positions, pending orders, P&L, state.

``RiskView.apply`` mutates in place (fast enough for the decision hot path) and returns the view,
so ``functools.reduce(lambda v, e: v.apply(e), events, RiskView())`` rebuilds it on restart;
``copy()`` gives an independent view, ``trial()`` a cheap one to decide a batch on.
Pending orders count toward every position and exposure bound: an approved order widens the
worst case until it fills, is canceled, rejected or expires, so two fast signals cannot jointly
breach a limit.

Positions are per instrument, across venues. The mark of an instrument is the last bar close;
until a bar arrives, the price of the first approval or fill stands in. Daily P&L needs no
configuration here: the view records the P&L at every UTC hour boundary an event crosses, so
``daily_pnl`` works for whichever reset hour the config names (a day with no events yet is 0).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal

from domain.events import (
    BarClosed,
    Event,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderIntentApproved,
    OrderRejected,
    OrderSubmitted,
    RiskLimitBreached,
)
from domain.events.risk import RiskConfigApplied, TradingStateChanged
from domain.risk.config import RiskConfig, TradingState
from domain.values import Side

ZERO = Decimal(0)
NS_PER_S = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_S
BAR_HISTORY = 201
"""Bars kept per instrument for ATR (``atr_period`` is at most 200)."""


def trading_day(ts_ns: int, reset_hour_utc: int) -> int:
    """The index of the risk day containing ``ts_ns``; days start at ``reset_hour_utc``."""
    return (ts_ns // NS_PER_S - reset_hour_utc * 3600) // 86400


@dataclass(slots=True)
class PendingOrder:
    client_order_id: str
    instrument: str
    side: Side
    remaining: Decimal
    reduce_only: bool = False


@dataclass(slots=True)
class Position:
    """One instrument: the filled position plus the bounds its pending orders allow."""

    instrument: str
    quantity: Decimal = ZERO
    avg_price: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    pending_buy: Decimal = ZERO
    pending_sell: Decimal = ZERO
    mark: Decimal | None = None
    # derived, kept current by RiskView._refresh
    gross: Decimal = ZERO
    """max(|hi|, |lo|) * mark: worst-case absolute exposure."""
    hi_notional: Decimal = ZERO
    lo_notional: Decimal = ZERO
    unrealized: Decimal = ZERO

    @property
    def hi(self) -> Decimal:
        """Position if every pending buy fills and no sell does."""
        return self.quantity + self.pending_buy

    @property
    def lo(self) -> Decimal:
        return self.quantity - self.pending_sell

    @property
    def expected(self) -> Decimal:
        """Position once every pending order fills."""
        return self.quantity + self.pending_buy - self.pending_sell


@dataclass(slots=True)
class RiskView:
    positions: dict[str, Position] = field(default_factory=dict)
    pending: dict[str, PendingOrder] = field(default_factory=dict)
    realized: Decimal = ZERO
    """Realized P&L net of fees, all instruments."""
    unrealized: Decimal = ZERO
    gross_exposure: Decimal = ZERO
    net_hi: Decimal = ZERO
    """Net exposure if every pending buy fills (signed, quote)."""
    net_lo: Decimal = ZERO
    state: TradingState = TradingState.ACTIVE
    config: RiskConfig | None = None
    approvals_ts: deque[int] = field(default_factory=deque)
    fill_keys: set[tuple[str, str]] = field(default_factory=set)
    hour_bases: dict[int, tuple[int, Decimal]] = field(default_factory=dict)
    """UTC hour of day -> (hour index of its latest boundary, realized + unrealized P&L then)."""
    last_hour: int | None = None
    breached_ts_ns: int | None = None
    """When the daily loss limit was last breached."""
    bars: dict[str, deque[tuple[Decimal, Decimal, Decimal]]] = field(default_factory=dict)
    last_ts_ns: int = 0
    in_trial: bool = field(default=False, compare=False, repr=False)
    """Set on the view ``trial()`` yields (it never drops old approval times)."""

    # ---- reading -------------------------------------------------------------------------

    @property
    def pnl(self) -> Decimal:
        return self.realized + self.unrealized

    def equity(self, config: RiskConfig) -> Decimal:
        return config.starting_equity + self.realized + self.unrealized

    def daily_pnl(self, ts_ns: int, reset_hour_utc: int) -> Decimal:
        """Realized + unrealized P&L since the day containing ``ts_ns`` began."""
        hour = ts_ns // NS_PER_HOUR
        day_start = hour - (hour - reset_hour_utc) % 24
        base = self.hour_bases.get(reset_hour_utc)
        if base is None or base[0] < day_start:
            return ZERO
        return self.realized + self.unrealized - base[1]

    def position(self, instrument: str) -> Position:
        pos = self.positions.get(instrument)
        return pos if pos is not None else Position(instrument)

    def orders_since(self, ts_ns: int) -> int:
        """Approvals recorded at or after ``ts_ns``."""
        n = 0
        for t in reversed(self.approvals_ts):
            if t < ts_ns:
                break
            n += 1
        return n

    def open_client_order_ids(self) -> list[str]:
        return sorted(self.pending)

    def copy(self) -> RiskView:
        return RiskView(
            positions={
                k: Position(
                    p.instrument,
                    p.quantity,
                    p.avg_price,
                    p.realized,
                    p.fees,
                    p.pending_buy,
                    p.pending_sell,
                    p.mark,
                    p.gross,
                    p.hi_notional,
                    p.lo_notional,
                    p.unrealized,
                )
                for k, p in self.positions.items()
            },
            pending={
                k: PendingOrder(o.client_order_id, o.instrument, o.side, o.remaining, o.reduce_only)
                for k, o in self.pending.items()
            },
            realized=self.realized,
            unrealized=self.unrealized,
            gross_exposure=self.gross_exposure,
            net_hi=self.net_hi,
            net_lo=self.net_lo,
            state=self.state,
            config=self.config,
            approvals_ts=deque(self.approvals_ts),
            fill_keys=set(self.fill_keys),
            hour_bases=dict(self.hour_bases),
            last_hour=self.last_hour,
            breached_ts_ns=self.breached_ts_ns,
            bars={k: deque(v, maxlen=BAR_HISTORY) for k, v in self.bars.items()},
            last_ts_ns=self.last_ts_ns,
        )

    @contextmanager
    def trial(self) -> Iterator[RiskView]:
        """A view to fold decisions (approvals, rejections) into while deciding a batch; this
        view is as it was when the block ends. Cheap however long the history: positions and
        totals are copied, while the pending orders and the approval times are this view's own
        containers, grown in place and cut back at the end (folding a decision only adds to
        them; the trial skips dropping approvals past the rate window, which ``orders_since``
        never counts). The fill keys and bar history are shared, untouched. Fold nothing but
        decisions into the trial, and nothing into this view until the block ends."""
        pending, approvals = len(self.pending), len(self.approvals_ts)
        trial = replace(  # every other field shared, or an immutable value
            self,
            positions={k: replace(p) for k, p in self.positions.items()},
            hour_bases=dict(self.hour_bases),
            in_trial=True,
        )
        try:
            yield trial
        finally:
            for _ in range(len(self.pending) - pending):
                self.pending.popitem()  # the latest insertions, which were the trial's
            for _ in range(len(self.approvals_ts) - approvals):
                self.approvals_ts.pop()

    # ---- folding -------------------------------------------------------------------------

    def apply(self, event: Event) -> RiskView:
        """Fold one event into the view (in place). Unknown events are ignored."""
        ts = event.ts_ns
        if ts > self.last_ts_ns:
            self.last_ts_ns = ts
        hour = ts // NS_PER_HOUR
        if self.last_hour is None or hour > self.last_hour:
            self._roll_hours(hour)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        return self

    def _roll_hours(self, hour: int) -> None:
        """Record the P&L at every hour boundary crossed, so any reset hour finds its base."""
        pnl = self.realized + self.unrealized
        first = hour - 23 if self.last_hour is None else max(self.last_hour + 1, hour - 23)
        for index in range(first, hour + 1):
            self.hour_bases[index % 24] = (index, pnl)
        self.last_hour = hour

    def _pos(self, instrument: str) -> Position:
        pos = self.positions.get(instrument)
        if pos is None:
            pos = self.positions[instrument] = Position(instrument)
        return pos

    def _refresh(self, pos: Position) -> None:
        """Recompute one position's derived values and move the account totals with them."""
        mark = pos.mark if pos.mark is not None else ZERO
        hi = (pos.quantity + pos.pending_buy) * mark
        lo = (pos.quantity - pos.pending_sell) * mark
        gross = max(abs(hi), abs(lo))
        upnl = pos.quantity * (mark - pos.avg_price) if pos.quantity else ZERO
        self.gross_exposure += gross - pos.gross
        self.net_hi += hi - pos.hi_notional
        self.net_lo += lo - pos.lo_notional
        self.unrealized += upnl - pos.unrealized
        pos.gross, pos.hi_notional, pos.lo_notional, pos.unrealized = gross, hi, lo, upnl

    def _add_pending(self, order: PendingOrder, price: Decimal | None) -> None:
        if order.client_order_id in self.pending:
            return
        self.pending[order.client_order_id] = order
        pos = self._pos(order.instrument)
        if pos.mark is None and price is not None:
            pos.mark = price
        if order.side is Side.BUY:
            pos.pending_buy += order.remaining
        else:
            pos.pending_sell += order.remaining
        self._refresh(pos)

    def _reduce_pending(self, client_order_id: str, quantity: Decimal | None) -> None:
        """Release ``quantity`` (all when None) of an order's pending amount."""
        order = self.pending.get(client_order_id)
        if order is None:
            return
        release = order.remaining if quantity is None else min(quantity, order.remaining)
        order.remaining -= release
        if order.remaining <= 0:
            del self.pending[client_order_id]
        pos = self._pos(order.instrument)
        if order.side is Side.BUY:
            pos.pending_buy -= release
        else:
            pos.pending_sell -= release
        self._refresh(pos)

    def on_order_intent_approved(self, event: OrderIntentApproved) -> None:
        self.approvals_ts.append(event.ts_ns)
        horizon = event.ts_ns - 60 * NS_PER_S
        while not self.in_trial and self.approvals_ts and self.approvals_ts[0] < horizon:
            self.approvals_ts.popleft()
        price = event.reference_price or event.limit_price or event.stop_price
        self._add_pending(
            PendingOrder(
                event.client_order_id,
                event.instrument,
                event.side,
                event.quantity,
                event.reduce_only,
            ),
            price,
        )

    def on_order_submitted(self, event: OrderSubmitted) -> None:
        """An order this view never approved (placed elsewhere) still counts as pending."""
        if event.client_order_id in self.pending:
            return
        self._add_pending(
            PendingOrder(
                event.client_order_id,
                event.instrument,
                event.side,
                event.quantity,
                event.reduce_only,
            ),
            event.limit_price or event.stop_price,
        )

    def on_order_filled(self, event: OrderFilled) -> None:
        key = (event.client_order_id, event.fill_id)
        if key in self.fill_keys:
            return
        self.fill_keys.add(key)
        self._reduce_pending(event.client_order_id, event.quantity)
        pos = self._pos(event.instrument)
        if pos.mark is None:
            pos.mark = event.price
        signed = event.quantity if event.side is Side.BUY else -event.quantity
        old = pos.quantity
        new = old + signed
        realized = -event.fee
        if old == 0 or (old > 0) == (signed > 0):
            pos.avg_price = (old * pos.avg_price + signed * event.price) / new
        else:
            closed = min(abs(signed), abs(old))
            direction = 1 if old > 0 else -1
            realized += closed * (event.price - pos.avg_price) * direction
            if new == 0:
                pos.avg_price = ZERO
            elif (new > 0) != (old > 0):
                pos.avg_price = event.price
        pos.quantity = new
        pos.realized += realized
        pos.fees += event.fee
        self.realized += realized
        self._refresh(pos)

    def on_order_closed(self, event: OrderCanceled | OrderRejected | OrderExpired) -> None:
        self._reduce_pending(event.client_order_id, None)

    def on_bar_closed(self, event: BarClosed) -> None:
        pos = self._pos(event.instrument)
        pos.mark = event.close
        bars = self.bars.get(event.instrument)
        if bars is None:
            bars = self.bars[event.instrument] = deque(maxlen=BAR_HISTORY)
        bars.append((event.high, event.low, event.close))
        self._refresh(pos)

    def on_trading_state_changed(self, event: TradingStateChanged) -> None:
        self.state = event.state

    def on_risk_limit_breached(self, event: RiskLimitBreached) -> None:
        if event.rule == "daily_loss":
            self.breached_ts_ns = event.ts_ns

    def on_risk_config_applied(self, event: RiskConfigApplied) -> None:
        self.config = event.config


_HANDLERS = {
    OrderIntentApproved: RiskView.on_order_intent_approved,
    OrderSubmitted: RiskView.on_order_submitted,
    OrderFilled: RiskView.on_order_filled,
    OrderCanceled: RiskView.on_order_closed,
    OrderRejected: RiskView.on_order_closed,
    OrderExpired: RiskView.on_order_closed,
    BarClosed: RiskView.on_bar_closed,
    TradingStateChanged: RiskView.on_trading_state_changed,
    RiskLimitBreached: RiskView.on_risk_limit_breached,
    RiskConfigApplied: RiskView.on_risk_config_applied,
}


def fold(events: list[Event] | tuple[Event, ...], view: RiskView | None = None) -> RiskView:
    """Rebuild a view by folding events in tape order."""
    view = RiskView() if view is None else view
    for event in events:
        view.apply(event)
    return view
