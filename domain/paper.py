"""A pure paper matching engine: orders rest until the next bar and fill against it.

The same engine backs the paper venue in live runs, backtests and replays, so the fill rules are
exact, deterministic (no clock, no randomness) and documented here:

- An order waits for the NEXT bar of its instrument (``submit(..., ts_ns)`` also skips bars that
  open before ``ts_ns``). Orders of one bar are matched in submission order.
- Market: fills at the bar's open moved against the taker by ``slippage_bps`` (buy higher, sell
  lower), then CLAMPED to the bar's range ``[low, high]``: a fill never prints outside the bar.
  Taker fee.
- Limit buy (sell): fills when ``low <= limit`` (``high >= limit``), at ``open`` when the bar opens
  through the limit, else at the limit. On the order's first eligible bar an open through the
  limit means the order was marketable on arrival: it fills as a taker at the open plus slippage,
  capped at the limit (a post-only order is expired instead). Otherwise it rested: maker fee.
- Stop market: a buy (sell) triggers when ``high >= stop`` (``low <= stop``); it fills at
  ``max(open, stop)`` (``min``) plus slippage, clamped to the bar. Taker fee.
- Stop limit: triggers like a stop; on the trigger bar it fills as a taker at the trigger price
  if the limit allows it, otherwise it rests as a plain limit order from the next bar on.
- Volume: all orders on one bar together take at most ``max_volume_participation * volume``; the
  rest of an order stays open for later bars (GTC), is expired (IOC), or, for FOK, the order is
  expired unless it fills in full on its first executable bar.
- Reduce-only orders are capped by the engine's own net position (from its fills, or positions
  handed to ``restore``); with nothing to reduce they expire. After a ``restore`` without
  positions the engine does not know them and does not enforce reduce-only.
- Fees are in quote currency, ``price * quantity * rate``, positive = paid (a negative maker rate
  is a rebate). Fill ids are ``f"{client_order_id}-{n}"``, n counting the order's fills from 1;
  a restored order whose earlier fill count is not given uses ``f"{client_order_id}-t{bar open}"``
  instead, so ids never collide across restarts. A fill's ``ts_ns`` is the bar's open time.

``PaperOrderView`` and ``PaperFill`` have exactly the fields of ``venues.base.VenueOrder`` and
``VenueFill`` (the domain may not import the venue layer), so an adapter converts with
``VenueFill(**fill.model_dump())``. Engine-initiated closes (IOC/FOK/post-only/reduce-only) are
reported by ``take_updates()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pydantic import Field

from domain.bars import Bar
from domain.execution.reports import FillReport, OrderReport, ReportedStatus
from domain.values import Frozen, OrderType, Side, TimeInForce, base_quote

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)
_STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)


class OrderLike(Protocol):
    """What ``submit`` needs; ``venues.base.OrderRequest`` has these fields."""

    client_order_id: str
    instrument: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool


# What the paper venue reports is what every venue reports (the reconciliation inputs).
PaperOrderStatus = ReportedStatus
PaperOrderView = OrderReport
PaperFill = FillReport


class Submission(Frozen):
    accepted: bool
    order: PaperOrderView
    reason: str | None = None


class PaperConfig(Frozen):
    fee_rate_taker: Decimal = Field(default=Decimal("0.001"), allow_inf_nan=False)
    fee_rate_maker: Decimal = Field(default=Decimal("0.0002"), allow_inf_nan=False)
    slippage_bps: Decimal = Field(default=Decimal(5), ge=0, allow_inf_nan=False)
    max_volume_participation: Decimal | None = Field(default=Decimal("0.1"), gt=0, le=1)


@dataclass(slots=True)
class _Order:
    client_order_id: str
    instrument: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce
    post_only: bool
    reduce_only: bool
    not_before_ns: int = 0
    filled: Decimal = ZERO
    notional: Decimal | None = ZERO
    """Sum of price * quantity of the fills; None when a restore did not give the average."""
    fills: int | None = 0
    status: PaperOrderStatus = PaperOrderStatus.OPEN
    bars_seen: int = 0
    triggered: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    def view(self) -> PaperOrderView:
        return PaperOrderView(
            client_order_id=self.client_order_id,
            venue_order_id=f"paper:{self.client_order_id}",
            instrument=self.instrument,
            side=self.side,
            quantity=self.quantity,
            filled_quantity=self.filled,
            average_price=(
                self.notional / self.filled if self.filled and self.notional is not None else None
            ),
            status=self.status,
        )


def _order_from(request: OrderLike, **state: Any) -> _Order:
    return _Order(
        client_order_id=request.client_order_id,
        instrument=request.instrument,
        side=Side(request.side),
        quantity=request.quantity,
        order_type=OrderType(request.order_type),
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        tif=TimeInForce(request.time_in_force),
        post_only=request.post_only,
        reduce_only=request.reduce_only,
        **state,
    )


class PaperEngine:
    """Paper matching engine. Not thread-safe; one instance per paper venue account."""

    def __init__(
        self,
        fee_rate_taker: Decimal | str | int = Decimal("0.001"),
        fee_rate_maker: Decimal | str | int = Decimal("0.0002"),
        slippage_bps: Decimal | str | int = Decimal(5),
        max_volume_participation: Decimal | str | int | None = Decimal("0.1"),
    ) -> None:
        self.config = PaperConfig(
            fee_rate_taker=Decimal(fee_rate_taker),
            fee_rate_maker=Decimal(fee_rate_maker),
            slippage_bps=Decimal(slippage_bps),
            max_volume_participation=(
                None if max_volume_participation is None else Decimal(max_volume_participation)
            ),
        )
        self._slip = self.config.slippage_bps / BPS
        self._open: dict[str, _Order] = {}
        self._closed: dict[str, _Order] = {}
        self._updates: list[PaperOrderView] = []
        self._positions: dict[str, Decimal] = {}
        self._positions_known = True

    # orders ------------------------------------------------------------------------------------

    def submit(self, request: OrderLike, ts_ns: int = 0) -> Submission:
        """Accept or reject an order; an accepted one waits for the next bar at/after ``ts_ns``."""
        order = _order_from(request, not_before_ns=ts_ns)
        reason = self._refusal(order)
        if reason is not None:
            order.status = PaperOrderStatus.REJECTED
            return Submission(accepted=False, order=order.view(), reason=reason)
        self._open[order.client_order_id] = order
        return Submission(accepted=True, order=order.view())

    def _refusal(self, o: _Order) -> str | None:
        if o.client_order_id in self._open or o.client_order_id in self._closed:
            return "duplicate client_order_id"
        if not o.quantity.is_finite() or o.quantity <= 0:
            return "quantity must be positive"
        needs_limit = o.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = o.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        for label, price, needed in (
            ("limit_price", o.limit_price, needs_limit),
            ("stop_price", o.stop_price, needs_stop),
        ):
            if needed and (price is None or not price.is_finite() or price <= 0):
                return f"{o.order_type.value} order needs a positive {label}"
        if o.post_only and (o.order_type is not OrderType.LIMIT or o.tif is not TimeInForce.GTC):
            return "post_only needs a GTC limit order"
        return None

    def cancel(self, client_order_id: str) -> PaperOrderView | None:
        """Cancel an open order; a closed one is returned unchanged, an unknown one as None."""
        order = self._open.pop(client_order_id, None)
        if order is None:
            closed = self._closed.get(client_order_id)
            return closed.view() if closed else None
        order.status = PaperOrderStatus.CANCELED
        self._closed[client_order_id] = order
        return order.view()

    def order(self, client_order_id: str) -> PaperOrderView | None:
        found = self._open.get(client_order_id) or self._closed.get(client_order_id)
        return found.view() if found else None

    def open_orders(self, instrument: str | None = None) -> list[PaperOrderView]:
        orders = self._open.values()
        return [o.view() for o in orders if instrument is None or o.instrument == instrument]

    def take_updates(self) -> list[PaperOrderView]:
        """Orders the engine itself closed (expired) since the last call, oldest first."""
        out, self._updates = self._updates, []
        return out

    def positions(self) -> dict[str, Decimal]:
        return {k: v for k, v in self._positions.items() if v}

    def restore(
        self,
        orders: Iterable[tuple[Any, ...]],
        positions: Mapping[str, Decimal] | None = None,
    ) -> None:
        """Rebuild open orders after a restart.

        Each entry is ``(order, filled_qty[, fills_so_far[, average_price]])``; ``positions``
        are the net positions per instrument, if known. Restored orders count as already
        resting (eligible for the next bar, as makers).
        """
        self._open.clear()
        self._closed.clear()
        self._updates.clear()
        self._positions = dict(positions or {})
        self._positions_known = positions is not None
        for entry in orders:
            request, filled = entry[0], Decimal(entry[1])
            fills = entry[2] if len(entry) > 2 else (0 if filled == 0 else None)
            avg = entry[3] if len(entry) > 3 else None
            notional = ZERO if filled == 0 else (None if avg is None else Decimal(avg) * filled)
            order = _order_from(request, filled=filled, notional=notional, fills=fills, bars_seen=1)
            if filled >= order.quantity:
                continue
            self._open[order.client_order_id] = order

    # matching ----------------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> list[PaperFill]:
        """Match the open orders of ``bar.instrument`` against the bar; return the fills."""
        cap = self.config.max_volume_participation
        budget = None if cap is None else cap * bar.volume
        fills: list[PaperFill] = []
        for order in [o for o in self._open.values() if o.instrument == bar.instrument]:
            if bar.open_ts_ns < order.not_before_ns:
                continue
            first_bar = order.bars_seen == 0
            order.bars_seen += 1
            quote = self._match(order, bar, first_bar)
            if quote is None:
                waiting_stop = order.order_type in _STOPS and not order.triggered
                if order.tif is not TimeInForce.GTC and not waiting_stop:
                    self._expire(order)  # IOC/FOK had their one chance
                continue
            price, liquidity = quote
            qty = order.remaining
            if order.reduce_only and self._positions_known:
                pos = self._positions.get(order.instrument, ZERO)
                qty = min(qty, max(-pos if order.side is Side.BUY else pos, ZERO))
                if qty <= 0:
                    self._expire(order)
                    continue
            if budget is not None:
                qty = min(qty, budget)
            if order.tif is TimeInForce.FOK and qty < order.remaining:
                self._expire(order)
                continue
            if qty > 0:
                if budget is not None:
                    budget -= qty
                fills.append(self._fill(order, bar, qty, price, liquidity))
            if order.remaining <= 0:
                order.status = PaperOrderStatus.FILLED
                self._close(order)
            elif order.tif is not TimeInForce.GTC:
                self._expire(order)
        return fills

    def _match(self, o: _Order, bar: Bar, first_bar: bool) -> tuple[Decimal, str] | None:
        """The fill price and liquidity for this bar, or None when the order does not execute."""
        buy = o.side is Side.BUY
        if o.order_type is OrderType.MARKET:
            return self._taker(bar, bar.open, buy), "taker"
        if o.order_type in _STOPS and not o.triggered:
            stop = o.stop_price
            assert stop is not None
            if (bar.high < stop) if buy else (bar.low > stop):
                return None
            o.triggered = True
            trigger = max(bar.open, stop) if buy else min(bar.open, stop)
            if o.order_type is OrderType.STOP_MARKET:
                return self._taker(bar, trigger, buy), "taker"
            limit = o.limit_price
            assert limit is not None
            if (trigger <= limit) if buy else (trigger >= limit):
                return self._cap(self._taker(bar, trigger, buy), limit, buy), "taker"
            o.bars_seen = 1  # rests as a limit from the next bar on
            return None
        if o.order_type is OrderType.STOP_MARKET:
            return self._taker(bar, bar.open, buy), "taker"
        limit = o.limit_price
        assert limit is not None
        if (bar.low > limit) if buy else (bar.high < limit):
            return None
        through = (bar.open <= limit) if buy else (bar.open >= limit)
        if through and first_bar:
            if o.post_only:
                self._expire(o)
                return None
            return self._cap(self._taker(bar, bar.open, buy), limit, buy), "taker"
        return (bar.open if through else limit), "maker"

    def _taker(self, bar: Bar, price: Decimal, buy: bool) -> Decimal:
        if buy:
            return min(price * (ONE + self._slip), bar.high)
        return max(price * (ONE - self._slip), bar.low)

    @staticmethod
    def _cap(price: Decimal, limit: Decimal, buy: bool) -> Decimal:
        return min(price, limit) if buy else max(price, limit)

    def _fill(self, o: _Order, bar: Bar, qty: Decimal, price: Decimal, liq: str) -> PaperFill:
        rate = self.config.fee_rate_taker if liq == "taker" else self.config.fee_rate_maker
        if o.fills is None:
            fill_id = f"{o.client_order_id}-t{bar.open_ts_ns}"
        else:
            o.fills += 1
            fill_id = f"{o.client_order_id}-{o.fills}"
        o.filled += qty
        if o.notional is not None:
            o.notional += price * qty
        self._positions[o.instrument] = self._positions.get(o.instrument, ZERO) + (
            qty if o.side is Side.BUY else -qty
        )
        return PaperFill(
            fill_id=fill_id,
            client_order_id=o.client_order_id,
            venue_order_id=f"paper:{o.client_order_id}",
            instrument=o.instrument,
            side=o.side,
            quantity=qty,
            price=price,
            fee=price * qty * rate,
            fee_currency=base_quote(o.instrument)[1],
            liquidity=liq,
            ts_ns=bar.open_ts_ns,
        )

    def _expire(self, order: _Order) -> None:
        if order.status is PaperOrderStatus.OPEN:
            order.status = PaperOrderStatus.EXPIRED
            self._close(order)
            self._updates.append(order.view())

    def _close(self, order: _Order) -> None:
        self._open.pop(order.client_order_id, None)
        self._closed[order.client_order_id] = order
