"""The risk manager's configuration: sizing policies, limits and instrument specs.

It lives in the configuration file, changes while the system runs (recorded on the tape as
``RiskConfigApplied``), and is frozen: the risk engine reads it, never mutates it. Every limit is
optional; ``None`` means the rule is off.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from domain.values import Frozen, InstrumentId, NonNegative, Quantity

Positive = Quantity
Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]


class SizingKind(StrEnum):
    FIXED_QUANTITY = "fixed_quantity"
    FIXED_NOTIONAL = "fixed_notional"
    PERCENT_EQUITY = "percent_equity"
    FIXED_FRACTIONAL = "fixed_fractional"
    """Risk ``percent`` of equity between the entry and the signal's stop loss."""
    ATR = "atr"
    """Risk ``percent`` of equity over a stop ``atr_multiple`` ATRs away."""


class SizingConfig(Frozen):
    """How much to trade when the signal leaves the size to the risk layer."""

    kind: SizingKind = SizingKind.FIXED_NOTIONAL
    quantity: Positive | None = Field(default=None, description="base units, fixed_quantity")
    notional: Positive | None = Field(default=None, description="quote currency, fixed_notional")
    percent: Percent | None = Field(
        default=None, description="percent of equity (to spend, or to risk for fractional/atr)"
    )
    atr_period: int = Field(default=14, ge=1, le=200)
    atr_multiple: Positive = Decimal("2")

    @model_validator(mode="after")
    def _check(self) -> SizingConfig:
        needs = {
            SizingKind.FIXED_QUANTITY: "quantity",
            SizingKind.FIXED_NOTIONAL: "notional",
            SizingKind.PERCENT_EQUITY: "percent",
            SizingKind.FIXED_FRACTIONAL: "percent",
            SizingKind.ATR: "percent",
        }[self.kind]
        if getattr(self, needs) is None:
            raise ValueError(f"sizing kind {self.kind.value} needs {needs}")
        return self


DEFAULT_SIZING = SizingConfig(kind=SizingKind.FIXED_NOTIONAL, notional=Decimal("1000"))


class InstrumentSpec(Frozen):
    """A venue's trading rules for one instrument (the defaults fit most crypto spot pairs)."""

    lot_size: Positive = Decimal("0.00000001")
    tick_size: Positive = Decimal("0.01")
    min_quantity: NonNegative = Decimal(0)
    min_notional: NonNegative = Decimal(0)


class InstrumentLimits(Frozen):
    """Per-instrument limits; ``None`` here falls back to the account-wide default."""

    max_position_quantity: Positive | None = Field(default=None, description="base units")
    max_position_notional: Positive | None = Field(default=None, description="quote currency")
    max_order_notional: Positive | None = None


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    """Only orders that reduce exposure pass."""
    HALTED = "halted"
    """Kill switch: nothing passes."""


class RiskLimits(InstrumentLimits):
    """Account-wide limits, and the defaults for every instrument."""

    allowed_instruments: frozenset[InstrumentId] | None = Field(
        default=None, description="allowlist; None allows every instrument"
    )
    max_gross_exposure: Positive | None = None
    max_net_exposure: Positive | None = None
    max_leverage: Positive | None = None
    max_open_orders: int | None = Field(default=None, ge=0)
    max_orders_per_second: int | None = Field(default=None, ge=0)
    max_orders_per_minute: int | None = Field(default=None, ge=0)
    price_band_pct: Percent | None = Field(
        default=None, description="max distance of the order price from the mark, in percent"
    )
    daily_loss_limit: Positive | None = Field(
        default=None, description="max loss (realized + unrealized) per UTC day, quote currency"
    )
    daily_reset_hour_utc: int = Field(default=0, ge=0, le=23)
    on_daily_loss: TradingState = Field(
        default=TradingState.HALTED, description="state entered when the daily loss is breached"
    )


class RiskConfig(Frozen):
    """Everything the risk engine needs besides the view of the account."""

    starting_equity: NonNegative = Field(
        default=Decimal("10000"), description="account equity before any realized P&L"
    )
    sizing: SizingConfig = DEFAULT_SIZING
    sizing_by_source: dict[str, SizingConfig] = Field(default_factory=dict)
    sizing_by_instrument: dict[InstrumentId, SizingConfig] = Field(default_factory=dict)
    limits: RiskLimits = RiskLimits()
    instrument_limits: dict[InstrumentId, InstrumentLimits] = Field(default_factory=dict)
    instruments: dict[InstrumentId, InstrumentSpec] = Field(default_factory=dict)
    default_instrument: InstrumentSpec = InstrumentSpec()

    def sizing_for(self, source: str, instrument: str) -> SizingConfig:
        """Source (strategy) overrides win over instrument overrides, then the default."""
        return (
            self.sizing_by_source.get(source)
            or self.sizing_by_instrument.get(instrument)
            or self.sizing
        )

    def spec_for(self, instrument: str) -> InstrumentSpec:
        return self.instruments.get(instrument, self.default_instrument)

    def limits_for(self, instrument: str) -> InstrumentLimits:
        """The effective per-instrument limits (override fields win, the rest from defaults)."""
        base = self.limits
        over = self.instrument_limits.get(instrument)
        if over is None:
            return InstrumentLimits(
                max_position_quantity=base.max_position_quantity,
                max_position_notional=base.max_position_notional,
                max_order_notional=base.max_order_notional,
            )
        return InstrumentLimits(
            max_position_quantity=_first(over.max_position_quantity, base.max_position_quantity),
            max_position_notional=_first(over.max_position_notional, base.max_position_notional),
            max_order_notional=_first(over.max_order_notional, base.max_order_notional),
        )


def _first(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return a if a is not None else b


__all__ = [
    "DEFAULT_SIZING",
    "InstrumentLimits",
    "InstrumentSpec",
    "RiskConfig",
    "RiskLimits",
    "SizingConfig",
    "SizingKind",
    "TradingState",
]
