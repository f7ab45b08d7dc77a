"""Position sizing: how many base units a signal should trade, and rounding to venue steps.

Sizes come from the signal when it names one (quantity, notional, percent of equity), otherwise
from the configured policy for its source or instrument: fixed quantity, fixed notional, percent
of equity, fixed-fractional risk over the stop distance, or ATR volatility scaling (ATR from the
bars in the view). A size that cannot be computed is a ``Breach`` of rule ``sizing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from domain.risk.config import RiskConfig, SizingConfig, SizingKind
from domain.risk.rules import Breach
from domain.risk.view import ZERO, RiskView
from domain.signal import Signal, SizeKind
from domain.values import Side

HUNDRED = Decimal(100)


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_FLOOR) -> Decimal:
    """``value`` rounded to a multiple of ``step`` (floor by default: never trade more)."""
    if step.as_tuple().digits == (1,):  # a power of ten: quantize is exact and much faster
        return value.quantize(step, rounding=rounding)
    units = (value / step).to_integral_value(rounding=rounding)
    return units * step


def round_price(price: Decimal, tick: Decimal, side: Side | None) -> Decimal:
    """A limit price on the tick grid, rounded away from crossing: buys down, sells up."""
    if side is Side.BUY:
        return round_to_step(price, tick, ROUND_FLOOR)
    if side is Side.SELL:
        return round_to_step(price, tick, ROUND_CEILING)
    return round_to_step(price, tick, ROUND_HALF_EVEN)


def average_true_range(bars: Sequence[tuple[Decimal, Decimal, Decimal]], period: int) -> Decimal:
    """Mean of the last ``period`` true ranges; needs ``period + 1`` (high, low, close) bars."""
    if len(bars) < period + 1:
        raise ValueError(f"ATR({period}) needs {period + 1} bars, have {len(bars)}")
    recent = list(bars)[-(period + 1) :]
    total = ZERO
    prev_close = recent[0][2]
    for high, low, close in recent[1:]:
        total += max(high - low, abs(high - prev_close), abs(low - prev_close))
        prev_close = close
    return total / period


def _refuse(reason: str, limit: str = "", observed: str = "") -> Breach:
    return Breach("sizing", limit, observed, reason)


def policy_quantity(
    policy: SizingConfig,
    *,
    signal: Signal,
    price: Decimal,
    view: RiskView,
    config: RiskConfig,
) -> Decimal | Breach:
    """Unrounded base quantity from a configured sizing policy."""
    kind = policy.kind
    if kind is SizingKind.FIXED_NOTIONAL:
        assert policy.notional is not None
        return policy.notional / price
    if kind is SizingKind.FIXED_QUANTITY:
        assert policy.quantity is not None
        return policy.quantity
    assert policy.percent is not None
    equity = view.equity(config)
    if equity <= 0:
        return _refuse("no equity to size against", "0", str(equity))
    if kind is SizingKind.PERCENT_EQUITY:
        return equity * policy.percent / HUNDRED / price
    risk_amount = equity * policy.percent / HUNDRED
    if kind is SizingKind.FIXED_FRACTIONAL:
        if signal.stop_loss is None:
            return _refuse("fixed_fractional sizing needs the signal's stop_loss")
        distance = abs(price - signal.stop_loss)
        if distance == 0:
            return _refuse("stop_loss equals the entry price", "> 0", "0")
        return risk_amount / distance
    bars = view.bars.get(signal.instrument, ())
    try:
        atr = average_true_range(bars, policy.atr_period)
    except ValueError:
        return _refuse(
            f"atr sizing needs {policy.atr_period + 1} bars",
            str(policy.atr_period + 1),
            str(len(bars)),
        )
    if atr == 0:
        return _refuse("ATR is zero", "> 0", "0")
    return risk_amount / (atr * policy.atr_multiple)


def entry_quantity(
    signal: Signal, *, price: Decimal, view: RiskView, config: RiskConfig
) -> Decimal | Breach:
    """Unrounded base quantity for opening or adding, from the signal or the policy."""
    size = signal.size
    kind = size.kind
    if kind is SizeKind.RISK:
        policy = config.sizing_for(signal.source, signal.instrument)
        return policy_quantity(policy, signal=signal, price=price, view=view, config=config)
    value = size.value
    assert value is not None
    if kind is SizeKind.QUANTITY:
        if value <= 0:
            return _refuse("signal quantity must be positive", "> 0", str(value))
        return value
    if kind is SizeKind.NOTIONAL:
        return value / price
    equity = view.equity(config)
    if equity <= 0:
        return _refuse("no equity to size against", "0", str(equity))
    return equity * value / HUNDRED / price
