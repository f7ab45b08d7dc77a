"""What a venue said, in the domain's own terms: the inputs of reconciliation.

The gateway converts its adapter's answers into these (the domain never imports the venue
layer). A ``VenueSnapshot`` is one reconciliation's worth of answers.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from domain.values import Frozen, InstrumentId, Side


class ReportedStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class OrderReport(Frozen):
    client_order_id: str
    venue_order_id: str
    instrument: InstrumentId
    side: Side
    quantity: Decimal
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    status: ReportedStatus = ReportedStatus.OPEN


class FillReport(Frozen):
    fill_id: str
    client_order_id: str | None
    venue_order_id: str
    instrument: InstrumentId
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_currency: str | None = None
    liquidity: str = "taker"
    ts_ns: int = 0


class PositionReport(Frozen):
    instrument: InstrumentId
    quantity: Decimal


class VenueSnapshot(Frozen):
    """The venue's answers: open orders, lookups of the orders open on the tape (None: the venue
    does not know that client id), fills since ``fills_since_ns``, positions (None for spot)."""

    open_orders: list[OrderReport] = Field(default_factory=list)
    lookups: dict[str, OrderReport | None] = Field(default_factory=dict)
    fills: list[FillReport] = Field(default_factory=list)
    fills_since_ns: int = 0
    positions: list[PositionReport] | None = None
    balances: dict[str, Decimal] = Field(default_factory=dict)
