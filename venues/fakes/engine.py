"""A small in-memory exchange the fake venues share.

Each fake venue translates its own wire protocol into calls on one ``Engine``: instruments with
lot/tick/min-notional filters, balances, orders keyed by venue order id and by client order id,
market and limit orders filled against a settable mark price, and the list of fills. The engine is
thread-safe because the fake HTTP server runs in its own thread while tests poke it directly.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


class EngineError(Exception):
    """A request the engine refuses; ``kind`` lets each fake pick its venue's own error."""

    def __init__(self, kind: str, message: str, order: Order | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.order = order


@dataclass
class Instrument:
    symbol: str
    base: str
    quote: str
    lot_size: Decimal
    tick_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    mark: Decimal
    max_qty: Decimal = Decimal(9000)


@dataclass
class Fill:
    trade_id: int
    order_id: str
    client_order_id: str | None
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    ts_ns: int


@dataclass
class Order:
    order_id: str
    client_order_id: str | None
    symbol: str
    side: str  # "buy" | "sell"
    type: str  # "market" | "limit"
    quantity: Decimal
    price: Decimal | None
    time_in_force: str
    status: str = "open"  # open | filled | canceled | expired | rejected
    filled: Decimal = ZERO
    quote_filled: Decimal = ZERO
    created_ns: int = 0
    updated_ns: int = 0
    userref: int | None = None
    reserved: Decimal = ZERO
    fills: list[Fill] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def average_price(self) -> Decimal | None:
        return self.quote_filled / self.filled if self.filled else None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


class Engine:
    """Orders, fills and balances of one account on one fake venue."""

    def __init__(
        self,
        instruments: list[Instrument],
        balances: dict[str, Decimal],
        *,
        fee_rate: Decimal = Decimal("0.001"),
        unique_client_ids: str = "open",
        order_id_factory: Callable[[int], str] = str,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if unique_client_ids not in ("open", "all"):
            raise ValueError("unique_client_ids must be 'open' or 'all'")
        self.lock = threading.RLock()
        self.instruments = {i.symbol: i for i in instruments}
        self.balances = {k: Balance(free=v) for k, v in balances.items()}
        self.fee_rate = fee_rate
        self.unique_client_ids = unique_client_ids
        self._order_id = order_id_factory
        self._clock = clock_ns
        self._seq = itertools.count(1)
        self._trade_seq = itertools.count(1)
        self.orders: dict[str, Order] = {}
        self.by_client_id: dict[str, Order] = {}
        self.fills: list[Fill] = []

    # -- market ------------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise EngineError("unknown_symbol", f"unknown symbol {symbol}") from None

    def set_mark(self, symbol: str, price: Decimal) -> None:
        """Move the mark; resting limit orders that it crosses fill at their limit (maker)."""
        with self.lock:
            inst = self.instrument(symbol)
            inst.mark = Decimal(price)
            for order in list(self.orders.values()):
                if order.symbol == symbol and order.is_open and self._crosses(order, inst.mark):
                    assert order.price is not None
                    self._fill(order, order.remaining, order.price, is_maker=True)

    # -- orders ------------------------------------------------------------------------------

    def place(
        self,
        symbol: str,
        side: str,
        order_type: str,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        client_order_id: str | None = None,
        time_in_force: str = "GTC",
        post_only: bool = False,
        fill_ratio: Decimal | None = None,
        userref: int | None = None,
    ) -> Order:
        """Validate, accept and match one order; ``fill_ratio`` < 1 forces a partial fill."""
        with self.lock:
            inst = self.instrument(symbol)
            self._check_duplicate(client_order_id)
            self._check_filters(inst, order_type, quantity, price)
            now = self._clock()
            order = Order(
                order_id=self._order_id(next(self._seq)),
                client_order_id=client_order_id,
                symbol=symbol,
                side=side,
                type=order_type,
                quantity=quantity,
                price=price,
                time_in_force=time_in_force.upper(),
                created_ns=now,
                updated_ns=now,
                userref=userref,
            )
            crosses = order_type == "market" or self._crosses(order, inst.mark)
            if post_only and crosses:
                raise EngineError("post_only", "post-only order would immediately match")
            self._reserve(inst, order)
            self.orders[order.order_id] = order
            if client_order_id is not None:
                self.by_client_id[client_order_id] = order
            if crosses:
                qty = quantity
                if fill_ratio is not None:
                    qty = _round_down(quantity * fill_ratio, inst.lot_size)
                if qty > 0:
                    self._fill(order, qty, inst.mark, is_maker=False)
            if order.is_open and (order_type == "market" or order.time_in_force in ("IOC", "FOK")):
                self._close(order, "expired")
            return order

    def get(self, order_id: str) -> Order:
        with self.lock:
            try:
                return self.orders[order_id]
            except KeyError:
                raise EngineError("unknown_order", "order does not exist") from None

    def get_by_client_id(self, client_order_id: str) -> Order:
        with self.lock:
            try:
                return self.by_client_id[client_order_id]
            except KeyError:
                raise EngineError("unknown_order", "order does not exist") from None

    def cancel(self, order_id: str) -> Order:
        with self.lock:
            order = self.get(order_id)
            if not order.is_open:
                raise EngineError("not_open", "order is not open", order)
            self._close(order, "canceled")
            return order

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        with self.lock:
            return [o for o in self.orders.values() if o.is_open and symbol in (None, o.symbol)]

    def all_orders(self, symbol: str | None = None) -> list[Order]:
        with self.lock:
            return [o for o in self.orders.values() if symbol in (None, o.symbol)]

    def trades(self, symbol: str | None = None, since_ns: int = 0) -> list[Fill]:
        with self.lock:
            return [f for f in self.fills if symbol in (None, f.symbol) and f.ts_ns >= since_ns]

    def balance_of(self, asset: str) -> Balance:
        with self.lock:
            return self.balances.setdefault(asset, Balance())

    # -- internals ---------------------------------------------------------------------------

    def _check_duplicate(self, client_order_id: str | None) -> None:
        if client_order_id is None:
            return
        existing = self.by_client_id.get(client_order_id)
        if existing is None:
            return
        if self.unique_client_ids == "all" or existing.is_open:
            raise EngineError("duplicate", "duplicate client order id", existing)

    def _check_filters(
        self, inst: Instrument, order_type: str, quantity: Decimal, price: Decimal | None
    ) -> None:
        if order_type not in ("market", "limit"):
            raise EngineError("bad_type", f"unsupported order type {order_type}")
        if quantity <= 0 or quantity < inst.min_qty or quantity > inst.max_qty:
            raise EngineError("lot_size", "quantity outside LOT_SIZE")
        if quantity % inst.lot_size != 0:
            raise EngineError("lot_size", "quantity not a multiple of the step size")
        if order_type == "limit":
            if price is None or price <= 0:
                raise EngineError("price", "limit order needs a positive price")
            if price % inst.tick_size != 0:
                raise EngineError("price", "price not a multiple of the tick size")
        ref = price if order_type == "limit" and price is not None else inst.mark
        if quantity * ref < inst.min_notional:
            raise EngineError("min_notional", "notional below the minimum")

    def _crosses(self, order: Order, mark: Decimal) -> bool:
        if order.price is None:
            return True
        return mark <= order.price if order.side == "buy" else mark >= order.price

    def _reserve(self, inst: Instrument, order: Order) -> None:
        if order.side == "buy":
            ref = order.price if order.type == "limit" and order.price else inst.mark
            asset, amount = inst.quote, order.quantity * ref
        else:
            asset, amount = inst.base, order.quantity
        bal = self.balances.setdefault(asset, Balance())
        if bal.free < amount:
            raise EngineError("insufficient", "insufficient balance")
        bal.free -= amount
        bal.locked += amount
        order.reserved = amount

    def _release(self, order: Order) -> None:
        inst = self.instruments[order.symbol]
        asset = inst.quote if order.side == "buy" else inst.base
        bal = self.balances.setdefault(asset, Balance())
        bal.locked -= order.reserved
        bal.free += order.reserved
        order.reserved = ZERO

    def _fill(self, order: Order, qty: Decimal, price: Decimal, *, is_maker: bool) -> None:
        inst = self.instruments[order.symbol]
        notional = qty * price
        base, quote = (
            self.balances.setdefault(inst.base, Balance()),
            self.balances.setdefault(inst.quote, Balance()),
        )
        fee = (notional * self.fee_rate).quantize(inst.tick_size * Decimal("0.0001"))
        if order.side == "buy":
            ref = order.price if order.type == "limit" and order.price else inst.mark
            used = min(qty * ref, order.reserved)
            quote.locked -= used
            quote.free += used - notional - fee
            base.free += qty
        else:
            used = qty
            base.locked -= qty
            quote.free += notional - fee
        order.reserved -= used
        now = self._clock()
        fill = Fill(
            trade_id=next(self._trade_seq),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=qty,
            price=price,
            fee=fee,
            fee_asset=inst.quote,
            is_maker=is_maker,
            ts_ns=now,
        )
        self.fills.append(fill)
        order.fills.append(fill)
        order.filled += qty
        order.quote_filled += notional
        order.updated_ns = now
        if order.remaining <= 0:
            self._close(order, "filled")

    def _close(self, order: Order, status: str) -> None:
        order.status = status
        order.updated_ns = self._clock()
        self._release(order)


def _round_down(value: Decimal, step: Decimal) -> Decimal:
    return (value // step) * step
