"""The canonical signal: one shape for TradingView alerts, Python strategies and ML models.

A signal says what the source wants (intent, instrument, optional size and order preferences);
the risk layer decides whether and how much. Parsers of the various wire formats produce this.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from domain.values import Frozen, InstrumentId, OrderType, Price, TimeInForce, VenueId


class Intent(StrEnum):
    ENTER_LONG = "enter_long"
    ENTER_SHORT = "enter_short"
    EXIT = "exit"
    REVERSE = "reverse"
    TARGET_POSITION = "target_position"


class SizeKind(StrEnum):
    QUANTITY = "quantity"
    NOTIONAL = "notional"
    PERCENT_EQUITY = "percent_equity"
    RISK = "risk"
    """Left to the risk layer's sizing policy."""


class Size(Frozen):
    kind: SizeKind
    value: Decimal | None = Field(
        default=None,
        description="quantity in base units, notional in quote, or percent (0-100); none for risk",
    )

    @model_validator(mode="after")
    def _check(self) -> Size:
        if self.kind is SizeKind.RISK:
            if self.value is not None:
                raise ValueError("size kind 'risk' takes no value")
            return self
        if self.value is None or not self.value.is_finite():
            raise ValueError(f"size kind {self.kind.value!r} needs a finite value")
        if self.kind is SizeKind.PERCENT_EQUITY and not (0 < self.value <= 100):
            raise ValueError("percent_equity must be in (0, 100]")
        if self.kind is not SizeKind.QUANTITY and self.value <= 0:
            raise ValueError(f"{self.kind.value} must be greater than zero")
        return self


class OrderPreference(Frozen):
    type: OrderType = OrderType.MARKET
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False

    @model_validator(mode="after")
    def _check(self) -> OrderPreference:
        needs_limit = self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        if needs_limit and self.limit_price is None:
            raise ValueError(f"order type {self.type.value} needs limit_price")
        if needs_stop and self.stop_price is None:
            raise ValueError(f"order type {self.type.value} needs stop_price")
        if self.post_only and self.type is not OrderType.LIMIT:
            raise ValueError("post_only applies to limit orders only")
        return self


class Signal(Frozen):
    """What a source wants done. ``target_position`` makes repeated alerts harmless."""

    source: str = Field(min_length=1, max_length=100)
    instrument: InstrumentId
    intent: Intent
    size: Size = Size(kind=SizeKind.RISK)
    target: Decimal | None = Field(
        default=None, description="signed target position (base units) for target_position"
    )
    order: OrderPreference = OrderPreference()
    stop_loss: Price | None = None
    take_profit: Price | None = None
    venue: VenueId | None = Field(default=None, description="preferred venue; router decides")
    alert_id: str | None = Field(default=None, max_length=200)
    ts_ns: int = Field(ge=0, description="when the source produced the signal (UTC ns)")
    price_hint: Price | None = Field(default=None, description="source's reference price")
    tags: tuple[str, ...] = ()
    exit_side: Literal["long", "short"] | None = Field(
        default=None, description="for intent exit: close only a position on this side"
    )

    @model_validator(mode="after")
    def _check(self) -> Signal:
        if self.exit_side is not None and self.intent is not Intent.EXIT:
            raise ValueError("exit_side is only for intent exit")
        if self.intent is Intent.TARGET_POSITION:
            if self.target is None or not self.target.is_finite():
                raise ValueError("intent target_position needs a finite target")
        elif self.target is not None:
            raise ValueError("target is only for intent target_position")
        return self
