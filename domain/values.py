"""Canonical value types shared by every layer: instruments, venues, sides, order kinds.

Money and quantities are ``Decimal`` here (exact venue precision); analytics convert to float64
at the edge. Everything is immutable and validated on construction.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

_as_str = PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")

InstrumentId = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}(-PERP)?$",
        description="canonical BASE-QUOTE in upper case, e.g. 'BTC-USDT'; perps 'BTC-USD-PERP'",
    ),
]
"""Canonical instrument, ``BASE-QUOTE`` (``BTC-USDT``); perpetuals ``BASE-QUOTE-PERP``."""
VenueId = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="venue account name, e.g. 'paper'")
]
Money = Annotated[Decimal, Field(allow_inf_nan=False), _as_str]
Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), _as_str]
Quantity = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), _as_str]
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), _as_str]
SignedQuantity = Money
"""A signed position quantity: positive long, negative short."""


def base_quote(instrument: str) -> tuple[str, str]:
    parts = instrument.split("-")
    return parts[0], parts[1]


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class Frozen(BaseModel):
    """Base for immutable, strictly validated value objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def to_decimal(value: Any) -> Decimal:
    """Exact conversion for floats coming from data files (via ``repr``, never binary)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)
