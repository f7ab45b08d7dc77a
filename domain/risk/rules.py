"""Pre-trade rules: each a named object with its limit, checked against one proposed order.

A rule returns ``None`` when the order passes, or a ``Breach`` saying which limit and what value
was observed (as strings, straight onto the tape). Rules whose ``applies_to_reducing`` is false are
skipped for orders that can only reduce exposure, so a stressed account can always get smaller.
``rules_for(config)`` builds the active rule list once per configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from domain.risk.config import InstrumentLimits, RiskConfig, TradingState
from domain.risk.view import NS_PER_S, Position, RiskView
from domain.values import Side

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Breach:
    rule: str
    limit: str
    observed: str
    reason: str


def decimal_str(value: Decimal) -> str:
    """A decimal for the tape: plain notation, no trailing zeros."""
    return format(value.normalize(), "f") if value else "0"


_s = decimal_str


class Proposal:
    """One sized order about to be checked, with the bounds it would leave behind."""

    __slots__ = (
        "config",
        "instrument",
        "limits",
        "mark",
        "new_gross",
        "new_hi",
        "new_lo",
        "notional",
        "pos",
        "price",
        "quantity",
        "reduce_only",
        "reducing",
        "side",
        "ts_ns",
        "view",
    )

    def __init__(
        self,
        view: RiskView,
        config: RiskConfig,
        limits: InstrumentLimits,
        instrument: str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        reduce_only: bool,
        ts_ns: int,
    ) -> None:
        self.view = view
        self.config = config
        self.limits = limits
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.reduce_only = reduce_only
        self.ts_ns = ts_ns
        pos = view.positions.get(instrument) or Position(instrument)
        self.pos = pos
        self.mark = pos.mark if pos.mark is not None else price
        self.notional = quantity * price
        if side is Side.BUY:
            self.new_hi, self.new_lo = pos.quantity + pos.pending_buy + quantity, pos.lo
            worst_only_shrinks = self.new_hi <= 0
            closes = pos.quantity < 0 and quantity <= -pos.quantity
        else:
            self.new_hi, self.new_lo = pos.hi, pos.quantity - pos.pending_sell - quantity
            worst_only_shrinks = self.new_lo >= 0
            closes = pos.quantity > 0 and quantity <= pos.quantity
        self.reducing = worst_only_shrinks or (reduce_only and closes)
        self.new_gross = max(abs(self.new_hi), abs(self.new_lo)) * self.mark

    @property
    def worst_position(self) -> Decimal:
        return max(abs(self.new_hi), abs(self.new_lo))


class Rule:
    name: ClassVar[str]
    applies_to_reducing: ClassVar[bool] = False

    def check(self, p: Proposal) -> Breach | None:  # pragma: no cover - interface
        raise NotImplementedError


class TradingStateRule(Rule):
    name = "trading_state"
    applies_to_reducing = True

    def check(self, p: Proposal) -> Breach | None:
        state = p.view.state
        if state is TradingState.HALTED:
            return Breach(self.name, state.value, "order", "trading is halted (kill switch)")
        if state is TradingState.REDUCING and not p.reducing:
            return Breach(
                self.name, state.value, "increases exposure", "only reducing orders may pass"
            )
        return None


@dataclass(frozen=True, slots=True)
class AllowlistRule(Rule):
    allowed: frozenset[str]
    name: ClassVar[str] = "instrument_allowlist"

    def check(self, p: Proposal) -> Breach | None:
        if p.instrument in self.allowed:
            return None
        return Breach(
            self.name, ",".join(sorted(self.allowed)), p.instrument, "instrument not allowed"
        )


@dataclass(frozen=True, slots=True)
class PriceBandRule(Rule):
    """Fat finger: the order's price must lie within ``pct`` percent of the mark."""

    pct: Decimal
    name: ClassVar[str] = "price_band"
    applies_to_reducing: ClassVar[bool] = True

    def check(self, p: Proposal) -> Breach | None:
        mark = p.pos.mark
        if mark is None:
            return None
        distance = abs(p.price - mark) * HUNDRED
        if distance <= self.pct * mark:
            return None
        deviation = distance / mark
        return Breach(
            self.name,
            _s(self.pct),
            _s(deviation.quantize(Decimal("0.0001"))),
            f"price {_s(p.price)} is too far from the mark {_s(mark)} (percent)",
        )


class MaxOrderNotionalRule(Rule):
    name = "max_order_notional"

    def check(self, p: Proposal) -> Breach | None:
        limit = p.limits.max_order_notional
        if limit is None or p.notional <= limit:
            return None
        return Breach(self.name, _s(limit), _s(p.notional), "order notional above the limit")


class MaxPositionRule(Rule):
    """Worst-case position (filled plus pending on one side) in base units and in notional."""

    name = "max_position"

    def check(self, p: Proposal) -> Breach | None:
        worst = p.worst_position
        qty_limit = p.limits.max_position_quantity
        if qty_limit is not None and worst > qty_limit:
            return Breach(
                self.name, _s(qty_limit), _s(worst), "position (with pending) above the limit"
            )
        notional_limit = p.limits.max_position_notional
        if notional_limit is not None and p.new_gross > notional_limit:
            return Breach(
                "max_position_notional",
                _s(notional_limit),
                _s(p.new_gross),
                "position notional (with pending) above the limit",
            )
        return None


@dataclass(frozen=True, slots=True)
class MaxGrossExposureRule(Rule):
    limit: Decimal
    name: ClassVar[str] = "max_gross_exposure"

    def check(self, p: Proposal) -> Breach | None:
        gross = p.view.gross_exposure - p.pos.gross + p.new_gross
        if gross <= self.limit:
            return None
        return Breach(self.name, _s(self.limit), _s(gross), "gross exposure above the limit")


@dataclass(frozen=True, slots=True)
class MaxNetExposureRule(Rule):
    limit: Decimal
    name: ClassVar[str] = "max_net_exposure"

    def check(self, p: Proposal) -> Breach | None:
        v, pos, m = p.view, p.pos, p.mark
        net = max(
            abs(v.net_hi - pos.hi_notional + p.new_hi * m),
            abs(v.net_lo - pos.lo_notional + p.new_lo * m),
        )
        if net <= self.limit:
            return None
        return Breach(self.name, _s(self.limit), _s(net), "net exposure above the limit")


@dataclass(frozen=True, slots=True)
class MaxLeverageRule(Rule):
    limit: Decimal
    name: ClassVar[str] = "max_leverage"

    def check(self, p: Proposal) -> Breach | None:
        gross = p.view.gross_exposure - p.pos.gross + p.new_gross
        equity = p.view.equity(p.config)
        if equity <= 0:
            return Breach(self.name, _s(self.limit), "inf", "no equity left")
        if gross <= self.limit * equity:
            return None
        leverage = gross / equity
        return Breach(
            self.name,
            _s(self.limit),
            _s(leverage.quantize(Decimal("0.0001"))),
            "gross exposure over equity above the limit",
        )


@dataclass(frozen=True, slots=True)
class MaxOpenOrdersRule(Rule):
    limit: int
    name: ClassVar[str] = "max_open_orders"
    applies_to_reducing: ClassVar[bool] = True

    def check(self, p: Proposal) -> Breach | None:
        count = len(p.view.pending) + 1
        if count <= self.limit:
            return None
        return Breach(self.name, str(self.limit), str(count), "too many open orders")


@dataclass(frozen=True, slots=True)
class OrderRateRule(Rule):
    """At most ``limit`` approvals in any window of ``window_s`` seconds, this one included."""

    limit: int
    window_s: int
    name: ClassVar[str] = "order_rate"
    applies_to_reducing: ClassVar[bool] = True

    def check(self, p: Proposal) -> Breach | None:
        count = p.view.orders_since(p.ts_ns - self.window_s * NS_PER_S + 1) + 1
        if count <= self.limit:
            return None
        return Breach(
            f"order_rate_{self.window_s}s",
            str(self.limit),
            str(count),
            f"too many orders in {self.window_s}s",
        )


@dataclass(frozen=True, slots=True)
class DailyLossRule(Rule):
    limit: Decimal
    reset_hour_utc: int
    name: ClassVar[str] = "daily_loss"

    def check(self, p: Proposal) -> Breach | None:
        pnl = p.view.daily_pnl(p.ts_ns, self.reset_hour_utc)
        if -pnl < self.limit:
            return None
        return Breach(self.name, _s(self.limit), _s(-pnl), "daily loss limit reached")


def rules_for(config: RiskConfig) -> tuple[Rule, ...]:
    """The active rules for ``config``, cheapest and most decisive first."""
    lim = config.limits
    rules: list[Rule] = [TradingStateRule()]
    if lim.allowed_instruments is not None:
        rules.append(AllowlistRule(lim.allowed_instruments))
    if lim.max_orders_per_second is not None:
        rules.append(OrderRateRule(lim.max_orders_per_second, 1))
    if lim.max_orders_per_minute is not None:
        rules.append(OrderRateRule(lim.max_orders_per_minute, 60))
    if lim.max_open_orders is not None:
        rules.append(MaxOpenOrdersRule(lim.max_open_orders))
    if lim.price_band_pct is not None:
        rules.append(PriceBandRule(lim.price_band_pct))
    if lim.daily_loss_limit is not None:
        rules.append(DailyLossRule(lim.daily_loss_limit, lim.daily_reset_hour_utc))
    rules.append(MaxOrderNotionalRule())
    rules.append(MaxPositionRule())
    if lim.max_gross_exposure is not None:
        rules.append(MaxGrossExposureRule(lim.max_gross_exposure))
    if lim.max_net_exposure is not None:
        rules.append(MaxNetExposureRule(lim.max_net_exposure))
    if lim.max_leverage is not None:
        rules.append(MaxLeverageRule(lim.max_leverage))
    return tuple(rules)
