"""The risk decision: one signal, the view and the config in; one approval or rejection out.

``decide`` is pure. The caller appends the returned event at ``stream``/``version``; an approval's
client order id is derived from the approval's own event id, so a retried append can never make
a second order.

Intents, with ``expected`` the position once every pending order fills:

- ``enter_long`` / ``enter_short``: buy / sell the sized amount (from flat or adding). Entering
  against an opposite position closes it first, like ``reverse`` (TradingView's semantics).
- ``exit``: close the filled position, net of sells (buys) already pending; ``reduce_only``.
- ``reverse``: close the expected position and open the sized amount the other way; refused
  with rule ``no_position`` when flat.
- ``target_position``: order ``target - expected``. Nothing to do is a rejection with rule
  ``no_change`` (the tape shows the signal was seen and why nothing was ordered).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from domain.events import EventMeta, OrderIntentApproved, OrderIntentRejected, SignalReceived
from domain.risk.config import InstrumentLimits, RiskConfig, TradingState
from domain.risk.fastbuild import client_order_id, construct
from domain.risk.fastbuild import envelope as build_envelope
from domain.risk.rules import Breach, Proposal, Rule, rules_for
from domain.risk.rules import decimal_str as _str
from domain.risk.sizing import entry_quantity, round_price, round_to_step
from domain.risk.view import ZERO, Position, RiskView
from domain.signal import Intent, Signal
from domain.values import OrderType, Side


class _Instrument:
    """One instrument's venue steps and effective limits under one config."""

    __slots__ = ("limits", "lot", "lot_pow10", "min_notional", "min_quantity", "tick")

    def __init__(self, config: RiskConfig, instrument: str) -> None:
        spec = config.spec_for(instrument)
        self.limits = config.limits_for(instrument)
        self.lot = spec.lot_size
        self.lot_pow10 = spec.lot_size.as_tuple().digits == (1,)
        self.min_quantity = spec.min_quantity
        self.min_notional = spec.min_notional
        self.tick = spec.tick_size

    def round_quantity(self, raw: Decimal) -> Decimal:
        if self.lot_pow10:  # quantize is exact for a power of ten, and much faster
            return raw.quantize(self.lot, rounding=ROUND_DOWN)
        return round_to_step(raw, self.lot, ROUND_DOWN)


class _Compiled:
    """What ``decide`` derives from one config object, computed once."""

    __slots__ = ("config", "instruments", "rules")

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self.rules = rules_for(config)
        self.instruments: dict[str, _Instrument] = {}

    def instrument(self, instrument: str) -> _Instrument:
        plan = self.instruments.get(instrument)
        if plan is None:
            plan = self.instruments[instrument] = _Instrument(self.config, instrument)
        return plan

    def limits_for(self, instrument: str) -> InstrumentLimits:
        return self.instrument(instrument).limits


_COMPILED: dict[int, _Compiled] = {}


def _compiled(config: RiskConfig) -> _Compiled:
    hit = _COMPILED.get(id(config))
    if hit is not None and hit.config is config:
        return hit
    if len(_COMPILED) > 32:
        _COMPILED.clear()
    hit = _COMPILED[id(config)] = _Compiled(config)
    return hit


def compiled_rules(config: RiskConfig) -> tuple[Rule, ...]:
    """The rule objects checked for ``config``, built once per config object."""
    return _compiled(config).rules


def _reference_price(signal: Signal, pos: Position | None) -> Decimal | None:
    order = signal.order
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return order.limit_price
    if order.type is OrderType.STOP_MARKET:
        return order.stop_price
    if signal.price_hint is not None:
        return signal.price_hint
    return pos.mark if pos is not None else None


def _order_for_intent(
    signal: Signal, pos: Position, price: Decimal, view: RiskView, config: RiskConfig
) -> tuple[Side, Decimal, bool] | Breach:
    """Side, unrounded quantity and reduce-only flag for the signal's intent."""
    intent = signal.intent
    expected = pos.expected
    if intent is Intent.EXIT:
        if pos.quantity > 0 and pos.quantity - pos.pending_sell > 0:
            return Side.SELL, pos.quantity - pos.pending_sell, True
        if pos.quantity < 0 and -pos.quantity - pos.pending_buy > 0:
            return Side.BUY, -pos.quantity - pos.pending_buy, True
        return Breach("no_change", "0", _str(pos.quantity), "no position left to exit")
    if intent is Intent.TARGET_POSITION:
        assert signal.target is not None
        diff = signal.target - expected
        if diff == 0:
            return Breach("no_change", _str(signal.target), _str(expected), "already at target")
        return (Side.BUY if diff > 0 else Side.SELL), abs(diff), False
    if intent is Intent.ENTER_LONG:
        side = Side.BUY
    elif intent is Intent.ENTER_SHORT:
        side = Side.SELL
    else:  # reverse
        if expected == 0:
            return Breach("no_position", "!= 0", "0", "nothing to reverse")
        side = Side.SELL if expected > 0 else Side.BUY
    sized = entry_quantity(signal, price=price, view=view, config=config)
    if isinstance(sized, Breach):
        return sized
    against = expected < 0 if side is Side.BUY else expected > 0
    return side, sized + (abs(expected) if against else ZERO), signal.order.reduce_only


def _reject(
    envelope: dict[str, Any], signal_event: SignalReceived, breach: Breach
) -> OrderIntentRejected:
    signal = signal_event.signal
    return OrderIntentRejected(
        **envelope,
        signal_event_id=signal_event.event_id,
        strategy=signal.source,
        instrument=signal.instrument,
        rule=breach.rule,
        limit=breach.limit,
        observed=breach.observed,
        reason=breach.reason,
    )


_HALTED = TradingState.HALTED
_KILL_SWITCH = Breach("trading_state", "halted", "order", "trading is halted (kill switch)")
_APPROVAL_SCHEMA = OrderIntentApproved.SCHEMA_VERSION
_NO_PRICES = (None, None, None, None)


def decide(
    signal_event: SignalReceived,
    view: RiskView,
    config: RiskConfig,
    meta: EventMeta,
    stream: str,
    version: int,
) -> OrderIntentApproved | OrderIntentRejected:
    """Size the signal and check every rule; the first breach rejects it."""
    signal = signal_event.signal
    envelope = build_envelope(meta, stream, version)
    if view.state is _HALTED:  # the kill switch answers before anything else
        return _reject(envelope, signal_event, _KILL_SWITCH)
    instrument = signal.instrument
    known = view.positions.get(instrument)
    pos = known if known is not None else Position(instrument)
    price = _reference_price(signal, known)
    if price is None:
        return _reject(
            envelope,
            signal_event,
            Breach("reference_price", "a price", "none", "no price hint, limit or mark to size"),
        )
    planned = _order_for_intent(signal, pos, price, view, config)
    if isinstance(planned, Breach):
        return _reject(envelope, signal_event, planned)
    side, raw_quantity, reduce_only = planned

    compiled = _compiled(config)
    plan = compiled.instrument(instrument)
    quantity = plan.round_quantity(raw_quantity)
    if quantity <= 0 or quantity < plan.min_quantity:
        return _reject(
            envelope,
            signal_event,
            Breach(
                "min_quantity",
                _str(max(plan.min_quantity, plan.lot)),
                _str(raw_quantity),
                "size below the venue's minimum quantity after rounding to the lot size",
            ),
        )
    if plan.min_notional and quantity * price < plan.min_notional:
        return _reject(
            envelope,
            signal_event,
            Breach(
                "min_notional",
                _str(plan.min_notional),
                _str(quantity * price),
                "order notional below the venue's minimum",
            ),
        )

    proposal = Proposal(
        view, config, plan.limits, instrument, side, quantity, price, reduce_only, meta.ts_ns
    )
    reducing = proposal.reducing
    for rule in compiled.rules:
        if reducing and not rule.applies_to_reducing:
            continue
        breach = rule.check(proposal)
        if breach is not None:
            return _reject(envelope, signal_event, breach)

    order = signal.order
    limit_price = stop_price = stop_loss = take_profit = None
    prices = (order.limit_price, order.stop_price, signal.stop_loss, signal.take_profit)
    if prices != _NO_PRICES:
        tick = plan.tick
        limit_price = round_price(order.limit_price, tick, side) if order.limit_price else None
        stop_price = round_price(order.stop_price, tick, None) if order.stop_price else None
        stop_loss = round_price(signal.stop_loss, tick, None) if signal.stop_loss else None
        take_profit = round_price(signal.take_profit, tick, None) if signal.take_profit else None
        for name, rounded, given in (
            ("limit price", limit_price, order.limit_price),
            ("stop price", stop_price, order.stop_price),
            ("stop loss", stop_loss, signal.stop_loss),
            ("take profit", take_profit, signal.take_profit),
        ):
            if rounded is not None and rounded <= 0:
                return _reject(
                    envelope,
                    signal_event,
                    Breach("tick_size", _str(tick), _str(given or ZERO), f"{name} below one tick"),
                )
    # Every value is validated input or checked above, so the approval skips re-validation.
    # The fields are listed in declaration order (the tape's JSON follows it).
    return construct(
        OrderIntentApproved,
        {
            **envelope,
            "schema_version": _APPROVAL_SCHEMA,
            "signal_event_id": signal_event.event_id,
            "strategy": signal.source,
            "client_order_id": client_order_id(envelope["event_id"]),
            "instrument": instrument,
            "side": side,
            "quantity": quantity,
            "order_type": order.type,
            "limit_price": limit_price,
            "stop_price": stop_price,
            "time_in_force": order.time_in_force,
            "reduce_only": reduce_only,
            "post_only": order.post_only,
            "venue": signal.venue,
            "reference_price": price,
            "stop_loss": stop_loss,
            "take_profit": take_profit,
            "bracket": None,  # the risk manager, which knows the venues, records the mode
        },
    )
