"""Shared glue for the ccxt-based spot adapters (Binance, Kraken, Coinbase).

One base class does what the three venues have in common: canonical <-> ccxt symbols, ccxt
orders/trades -> ``VenueOrder``/``VenueFill`` and lot/tick checks before sending (ccxt would
silently truncate an amount). How ccxt's failures become ``venues.base`` errors is in
``venues.ccxt_errors`` (re-exported here).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt

from domain.values import OrderType, Side, TimeInForce, to_decimal
from venues.base import (
    InstrumentSpec,
    OrderRefused,
    OrderRequest,
    VenueError,
    VenueFill,
    VenueOrder,
    VenueOrderStatus,
    VenuePosition,
)
from venues.ccxt_errors import (
    CcxtCalls,
    CredentialsRejected,
    HttpReply,
    NotFound,
    PermissionReport,
    PermissionsTooBroad,
    capturing,
    make_exchange,
)

__all__ = [
    "CcxtSpotAdapter",
    "CredentialsRejected",
    "HttpReply",
    "PermissionReport",
    "PermissionsTooBroad",
    "canonical_to_ccxt",
    "capturing",
    "ccxt_to_canonical",
    "dec",
    "make_exchange",
]

log = logging.getLogger(__name__)
_CANONICAL = re.compile(r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$")
_STATUS = {
    "open": VenueOrderStatus.OPEN,
    "closed": VenueOrderStatus.FILLED,
    "canceled": VenueOrderStatus.CANCELED,
    "cancelled": VenueOrderStatus.CANCELED,
    "expired": VenueOrderStatus.EXPIRED,
    "rejected": VenueOrderStatus.REJECTED,
}


def dec(value: Any) -> Decimal | None:
    """ccxt floats -> Decimal, rounded to 12 places to drop binary noise (0.1+0.2)."""
    if value is None:
        return None
    d = to_decimal(value)
    return d.quantize(Decimal("1e-12")).normalize() if d == d else None


def canonical_to_ccxt(instrument: str) -> str:
    base, quote = instrument.split("-")[:2]
    return f"{base}/{quote}"


def ccxt_to_canonical(symbol: str) -> str:
    return symbol.split(":")[0].replace("/", "-")


class CcxtSpotAdapter(CcxtCalls):
    """Base of the ccxt spot adapters; subclasses build the exchange and venue specifics."""

    venue: str = "ccxt"

    def __init__(
        self,
        exchange: ccxt.Exchange,
        *,
        allow_withdrawal_keys: bool = False,
        watch: Sequence[str] | None = None,
    ) -> None:
        self._ex = exchange
        self._allow_withdrawal_keys = allow_withdrawal_keys
        self._watch = list(watch) if watch else None
        self._markets_loaded = False
        self._increments: dict[str, tuple[Decimal | None, Decimal | None]] = {}
        self._increments_of: object = None  # the markets dict the cache was built from

    def __repr__(self) -> str:
        return f"{type(self).__name__}(venue={self.venue!r}, base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        return ""

    # -- venue specifics (overridden) --------------------------------------------------------

    def client_id_params(self, client_order_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if request.post_only:
            params["postOnly"] = True
        if request.order_type is OrderType.LIMIT and request.time_in_force is not TimeInForce.GTC:
            params["timeInForce"] = request.time_in_force.value.upper()
        return params

    async def fetch_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any]:
        """The raw ccxt order with this client id; raise ccxt.OrderNotFound if unknown."""
        raise NotImplementedError

    async def cancel_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any] | None:
        """Cancel; the raw ccxt order if the venue's reply carries it."""
        raise NotImplementedError

    def client_id_of(self, order: dict[str, Any]) -> str:
        return str(order.get("clientOrderId") or "")

    async def verify_permissions(self) -> PermissionReport:
        """Least privilege: raise ``PermissionsTooBroad`` for a key that can move funds out."""
        raise NotImplementedError

    # -- protocol ----------------------------------------------------------------------------

    async def place(self, request: OrderRequest) -> VenueOrder:
        try:
            symbol = await self._symbol(request.instrument)
        except CredentialsRejected as refused:  # nothing was sent: a definite refusal
            raise OrderRefused(refused.reason, refused.code) from None
        self._check_increments(symbol, request)
        params = {**self.order_params(request), **self.client_id_params(request.client_order_id)}
        price = float(request.limit_price) if request.limit_price is not None else None
        log.info(
            "placing order",
            extra={
                "venue": self.venue,
                "client_order_id": request.client_order_id,
                "instrument": request.instrument,
            },
        )
        raw = await self._call(
            "place",
            True,
            lambda: self._ex.create_order(
                symbol,
                request.order_type.value,
                request.side.value,
                float(request.quantity),
                price,
                params,
            ),
        )
        return await self.placed(raw, request)

    async def placed(self, raw: dict[str, Any], request: OrderRequest) -> VenueOrder:
        """The order as the venue's reply describes it. Venues whose reply carries only the id
        (Kraken, Coinbase) are asked for the order's state; if that read fails the order is
        reported as accepted, since the placement itself did succeed."""
        if raw.get("status") is None and raw.get("id"):
            symbol = canonical_to_ccxt(request.instrument)
            try:
                raw = await self._call(
                    "place", False, lambda: self._ex.fetch_order(str(raw["id"]), symbol)
                )
            except VenueError:
                raw = {**raw, "status": "open", "amount": float(request.quantity),
                       "filled": 0.0, "side": request.side.value}  # fmt: skip
        order = self.to_order(raw, request.instrument)
        return order.model_copy(update={"client_order_id": request.client_order_id})

    async def cancel(self, client_order_id: str, instrument: str) -> VenueOrder | None:
        """Cancel by client id; the order as it now stands, or None if the venue never had it."""
        symbol = await self._symbol(instrument)
        try:
            raw = await self._call(
                "cancel", True, lambda: self.cancel_by_client_id(client_order_id, symbol)
            )
        except OrderRefused as refused:
            if refused.code not in self.unknown_order_codes():
                raise
            raw = None  # unknown or already closed: the lookup below tells which
        if raw and raw.get("status") == "canceled" and raw.get("amount") is not None:
            order = self.to_order(raw, instrument)
            return order.model_copy(update={"client_order_id": client_order_id})
        return await self.order_by_client_id(client_order_id, instrument)

    def unknown_order_codes(self) -> set[str | None]:
        return {"order_not_found"}

    async def order_by_client_id(self, client_order_id: str, instrument: str) -> VenueOrder | None:
        symbol = await self._symbol(instrument)
        try:
            raw = await self._call(
                "order_by_client_id",
                False,
                lambda: self.fetch_by_client_id(client_order_id, symbol),
            )
        except NotFound:
            return None
        order = self.to_order(raw, instrument)
        if not order.client_order_id:
            order = order.model_copy(update={"client_order_id": client_order_id})
        return order

    async def open_orders(self, instrument: str | None = None) -> list[VenueOrder]:
        await self._load()
        symbol = await self._symbol(instrument) if instrument else None
        raw = await self._call("open_orders", False, lambda: self._ex.fetch_open_orders(symbol))
        return [self.to_order(o) for o in raw]

    async def fills_since(self, since_ns: int, instrument: str | None = None) -> list[VenueFill]:
        since_ms = since_ns // 1_000_000
        symbols = [await self._symbol(instrument)] if instrument else await self._fill_symbols()
        seen: dict[str, VenueFill] = {}
        for symbol in symbols:
            raw = await self._call(
                "fills_since", False, lambda s=symbol: self._ex.fetch_my_trades(s, since_ms)
            )
            for trade in raw:
                fill = self.to_fill(trade)
                if fill.ts_ns >= since_ns:
                    seen.setdefault(fill.fill_id, fill)
        return sorted(seen.values(), key=lambda f: (f.ts_ns, f.fill_id))

    async def _fill_symbols(self) -> list[str | None]:
        if self._watch:
            return [await self._symbol(i) for i in self._watch]
        return [None]

    async def balances(self) -> dict[str, Decimal]:
        await self._load()
        raw = await self._call("balances", False, lambda: self._ex.fetch_balance())
        totals = raw.get("total") or {}
        return {k: d for k, v in totals.items() if (d := dec(v)) is not None and d != 0}

    async def positions(self) -> list[VenuePosition]:
        return []  # spot accounts hold balances, not positions

    async def instruments(self) -> list[InstrumentSpec]:
        await self._load()
        specs: list[InstrumentSpec] = []
        for market in self._ex.markets.values():
            if not market.get("spot"):
                continue
            canonical = ccxt_to_canonical(market["symbol"])
            precision = market["precision"]
            lot, tick = dec(precision.get("amount")), dec(precision.get("price"))
            if not _CANONICAL.match(canonical) or not lot or not tick:
                continue
            limits = market.get("limits") or {}
            specs.append(
                InstrumentSpec(
                    instrument=canonical,
                    venue_symbol=self.venue_symbol(market),
                    lot_size=lot,
                    tick_size=tick,
                    min_quantity=dec((limits.get("amount") or {}).get("min")) or Decimal(0),
                    min_notional=dec((limits.get("cost") or {}).get("min")) or Decimal(0),
                )
            )
        return specs

    def venue_symbol(self, market: dict[str, Any]) -> str:
        return str(market["symbol"])

    async def close(self) -> None:
        await self._ex.close()

    async def __aenter__(self) -> CcxtSpotAdapter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- conversions -------------------------------------------------------------------------

    def to_order(self, raw: dict[str, Any], instrument: str | None = None) -> VenueOrder:
        filled = dec(raw.get("filled")) or Decimal(0)
        amount = dec(raw.get("amount")) or filled
        status = _STATUS.get(str(raw.get("status")), VenueOrderStatus.OPEN)
        return VenueOrder(
            client_order_id=self.client_id_of(raw),
            venue_order_id=str(raw.get("id")),
            instrument=instrument or ccxt_to_canonical(raw["symbol"]),
            side=Side(raw["side"]),
            quantity=amount,
            filled_quantity=filled,
            average_price=dec(raw.get("average")) if filled else None,
            status=status,
        )

    def to_fill(self, raw: dict[str, Any]) -> VenueFill:
        fee = raw.get("fee") or {}
        return VenueFill(
            fill_id=str(raw["id"]),
            client_order_id=self.fill_client_id(raw),
            venue_order_id=str(raw.get("order")),
            instrument=ccxt_to_canonical(raw["symbol"]),
            side=Side(raw["side"]),
            quantity=dec(raw["amount"]) or Decimal(0),
            price=dec(raw["price"]) or Decimal(0),
            fee=dec(fee.get("cost")) or Decimal(0),
            fee_currency=fee.get("currency"),
            liquidity=raw.get("takerOrMaker") or "taker",
            ts_ns=int(raw.get("timestamp") or 0) * 1_000_000,
        )

    def fill_client_id(self, raw: dict[str, Any]) -> str | None:
        return None

    # -- plumbing ----------------------------------------------------------------------------

    async def _load(self) -> None:
        if not self._markets_loaded:
            await self._call("load_markets", False, lambda: self._ex.load_markets())
            self._markets_loaded = True

    async def _symbol(self, instrument: str) -> str:
        await self._load()
        symbol = canonical_to_ccxt(instrument)
        if symbol not in self._ex.markets:
            raise OrderRefused(f"{self.venue} does not list {instrument}", code="unknown_symbol")
        return symbol

    def _check_increments(self, symbol: str, request: OrderRequest) -> None:
        lot, tick = self._lot_and_tick(symbol)
        if lot and request.quantity % lot != 0:
            raise OrderRefused(f"quantity is not a multiple of the lot size {lot}", "lot_size")
        if tick and request.limit_price is not None and request.limit_price % tick != 0:
            raise OrderRefused(f"price is not a multiple of the tick size {tick}", "tick_size")

    def _lot_and_tick(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        """A market's lot and tick as Decimals, kept until ccxt loads its markets again."""
        markets = self._ex.markets
        if self._increments_of is not markets:
            self._increments, self._increments_of = {}, markets
        found = self._increments.get(symbol)
        if found is None:
            precision = markets[symbol]["precision"]
            found = dec(precision.get("amount")), dec(precision.get("price"))
            self._increments[symbol] = found
        return found
