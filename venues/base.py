"""The one protocol every venue adapter speaks, and the errors it may raise.

A gateway actor drives an adapter; the adapter hides the venue's wire format, symbols and client
id field. Errors say whether the outcome of a write is *known* (the venue refused it) or
*unknown* (timeout, 5xx, dropped connection): an unknown outcome is never retried blindly, the
gateway looks the order up by client id first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from pydantic import Field

from domain.execution.reports import FillReport, OrderReport, ReportedStatus
from domain.values import (
    Frozen,
    InstrumentId,
    OrderType,
    Side,
    TimeInForce,
)

# A venue's answers are the domain's reports (reconciliation reads them): one definition.
VenueOrderStatus = ReportedStatus
VenueOrder = OrderReport
VenueFill = FillReport


class OrderRequest(Frozen):
    client_order_id: str
    instrument: InstrumentId
    side: Side
    quantity: Decimal = Field(gt=0)
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False


class InstrumentSpec(Frozen):
    instrument: InstrumentId
    venue_symbol: str
    lot_size: Decimal = Field(gt=0)
    tick_size: Decimal = Field(gt=0)
    min_quantity: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)


class VenuePosition(Frozen):
    instrument: InstrumentId
    quantity: Decimal
    entry_price: Decimal | None = None


class VenueError(Exception):
    """Base of adapter errors. Messages never contain credentials."""


class OrderRefused(VenueError):
    """The venue definitely did not take the order (bad params, insufficient funds, ...)."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class OutcomeUnknown(VenueError):
    """A write whose outcome we could not see: look the order up before anything else."""


class RateLimited(VenueError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class VenueUnavailable(VenueError):
    """A read failed for transient reasons (5xx, timeout, connection); safe to retry."""


@runtime_checkable
class VenueAdapter(Protocol):
    """Everything a gateway needs from one venue account."""

    venue: str

    async def place(self, request: OrderRequest) -> VenueOrder: ...

    async def cancel(self, client_order_id: str, instrument: str) -> VenueOrder | None: ...

    async def order_by_client_id(
        self, client_order_id: str, instrument: str
    ) -> VenueOrder | None: ...

    async def open_orders(self, instrument: str | None = None) -> list[VenueOrder]: ...

    async def fills_since(
        self, since_ns: int, instrument: str | None = None
    ) -> list[VenueFill]: ...

    async def balances(self) -> dict[str, Decimal]: ...

    async def positions(self) -> list[VenuePosition]: ...

    async def instruments(self) -> list[InstrumentSpec]: ...

    async def close(self) -> None: ...
