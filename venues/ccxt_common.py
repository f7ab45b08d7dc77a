"""Shared glue for the ccxt-based spot adapters (Binance, Kraken, Coinbase).

One base class does what the three venues have in common: canonical <-> ccxt symbols, ccxt
orders/trades -> ``VenueOrder``/``VenueFill``, lot/tick checks before sending (ccxt would
silently truncate an amount), and the mapping of ccxt's exceptions onto ``venues.base`` errors:
a definite refusal is ``OrderRefused``; a timeout, 5xx or dropped connection on a write is
``OutcomeUnknown``; 429/418 is ``RateLimited``; a transient failure on a read is
``VenueUnavailable``. Error messages are built from parsed venue codes, never from ccxt's text
(which may carry URLs and signed query strings), and exception chains are cut.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import aiohttp
import ccxt.async_support as ccxt

from domain.values import Frozen, OrderType, Side, TimeInForce, to_decimal
from venues.base import (
    InstrumentSpec,
    OrderRefused,
    OrderRequest,
    OutcomeUnknown,
    RateLimited,
    VenueError,
    VenueFill,
    VenueOrder,
    VenueOrderStatus,
    VenuePosition,
    VenueUnavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_CANONICAL = re.compile(r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$")
_STATUS = {
    "open": VenueOrderStatus.OPEN,
    "closed": VenueOrderStatus.FILLED,
    "canceled": VenueOrderStatus.CANCELED,
    "cancelled": VenueOrderStatus.CANCELED,
    "expired": VenueOrderStatus.EXPIRED,
    "rejected": VenueOrderStatus.REJECTED,
}


class CredentialsRejected(VenueError):
    """The venue refused the key or signature on a read (wrong key, secret or clock)."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class PermissionsTooBroad(VenueError):
    """The key can withdraw or transfer funds: refused unless explicitly overridden."""

    def __init__(self, venue: str, findings: Sequence[str]) -> None:
        super().__init__(f"{venue} key is not least-privilege: {', '.join(findings)}")
        self.venue = venue
        self.findings = list(findings)


class PermissionReport(Frozen):
    venue: str
    can_trade: bool | None  # None: the venue offers no way to ask
    can_withdraw: bool
    can_transfer: bool
    findings: list[str] = []


class HttpReply(NamedTuple):
    """The venue's raw reply to the failing request (captured per asyncio task)."""

    status: int
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


_LAST_REPLY: ContextVar[HttpReply | None] = ContextVar("ccxt_last_reply", default=None)


def capturing(cls: type[ccxt.Exchange]) -> type[ccxt.Exchange]:
    """Subclass a ccxt exchange so each reply's status, headers and body are kept for the
    adapter's error mapping (ccxt's exception text drops the venue code and Retry-After)."""

    def handle_errors(
        self: Any,
        code: Any,
        reason: Any,
        url: Any,
        method: Any,
        headers: Any,
        body: Any,
        *rest: Any,
    ) -> Any:
        reply = HttpReply(int(code or 0), dict(headers or {}), body or "")
        _LAST_REPLY.set(reply)
        self.tapeline_last_reply = reply  # ccxt loads markets in a task of its own
        return cls.handle_errors(self, code, reason, url, method, headers, body, *rest)

    return type(cls.__name__, (cls,), {"handle_errors": handle_errors})


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


class CcxtSpotAdapter:
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

    def refusal(self, exc: Exception, reply: HttpReply | None) -> tuple[str, str | None]:
        """(reason, venue error code) parsed from the venue's reply to the failing request."""
        return f"{self.venue} refused ({type(exc).__name__})", None

    def retry_after(self, exc: Exception, reply: HttpReply | None) -> float | None:
        value = reply.header("Retry-After") if reply else None
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

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

    def credential_codes(self) -> set[str]:
        """Venue error codes that mean a bad key or signature (when ccxt does not map them)."""
        return set()

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
        except _NotFound:
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
        market = self._ex.markets[symbol]
        lot, tick = dec(market["precision"].get("amount")), dec(market["precision"].get("price"))
        if lot and request.quantity % lot != 0:
            raise OrderRefused(f"quantity is not a multiple of the lot size {lot}", "lot_size")
        if tick and request.limit_price is not None and request.limit_price % tick != 0:
            raise OrderRefused(f"price is not a multiple of the tick size {tick}", "tick_size")

    async def _call(self, op: str, write: bool, fn: Callable[[], Awaitable[T]]) -> T:
        _LAST_REPLY.set(None)
        self._ex.tapeline_last_reply = None
        try:
            return await fn()
        except VenueError:
            raise
        except Exception as exc:
            reply = _LAST_REPLY.get() or self._ex.tapeline_last_reply
            raise self._translate(op, write, exc, reply) from None

    def _translate(
        self, op: str, write: bool, exc: Exception, reply: HttpReply | None
    ) -> Exception:
        if isinstance(exc, ccxt.OrderNotFound):
            if op == "order_by_client_id":
                return _NotFound()
            reason, code = self.refusal(exc, reply)
            return OrderRefused(reason, code or "order_not_found")
        if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
            return RateLimited(f"{self.venue} {op}: rate limited", self.retry_after(exc, reply))
        if isinstance(exc, ccxt.InvalidNonce | ccxt.AuthenticationError):
            reason, code = self.refusal(exc, reply)
            if write:  # the venue checked the credentials and did not take the request
                return OrderRefused(reason, code)
            return CredentialsRejected(f"{self.venue} {op}: {reason}", code)
        if isinstance(exc, ccxt.NetworkError):
            return self._transient(op, write, type(exc).__name__)
        if isinstance(exc, ccxt.ExchangeError):
            if isinstance(exc.__cause__, aiohttp.ClientError):
                return self._transient(op, write, type(exc.__cause__).__name__)
            reason, code = self.refusal(exc, reply)
            if not write and code in self.credential_codes():
                return CredentialsRejected(f"{self.venue} {op}: {reason}", code)
            if write:
                return OrderRefused(reason, code)
            return VenueError(f"{self.venue} {op} failed: {reason}")
        # anything else (a reply we could not parse): the request may have landed
        return self._transient(op, write, type(exc).__name__)

    def _transient(self, op: str, write: bool, what: str) -> VenueError:
        if write:
            return OutcomeUnknown(f"{self.venue} {op}: outcome unknown ({what})")
        return VenueUnavailable(f"{self.venue} {op}: unavailable ({what})")


class _NotFound(Exception):
    """Internal: the venue does not know the order."""


def make_exchange(cls: type[ccxt.Exchange], config: dict[str, Any]) -> ccxt.Exchange:
    """A capturing ccxt exchange with our defaults: no ccxt-side throttling (the gateway owns
    rate limits)."""
    return capturing(cls)({"enableRateLimit": False, **config})
