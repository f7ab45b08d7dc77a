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

from domain.events import EventMeta, OrderIntentApproved, OrderIntentRejected, SignalReceived
from domain.risk.config import InstrumentLimits, RiskConfig, TradingState
from domain.risk.fastbuild import client_order_id, trusted
from domain.risk.fastbuild import envelope as build_envelope
from domain.risk.rules import Breach, Proposal, Rule, rules_for
from domain.risk.rules import decimal_str as _str
from domain.risk.sizing import entry_quantity, round_price, round_to_step
from domain.risk.view import ZERO, Position, RiskView
from domain.signal import Intent, Signal
from domain.values import OrderType, Side


class _Compiled:
    """What ``decide`` derives from one config object, computed once."""

    __slots__ = ("config", "limits", "rules")

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self.rules = rules_for(config)
        self.limits: dict[str, InstrumentLimits] = {}

    def limits_for(self, instrument: str) -> InstrumentLimits:
        limits = self.limits.get(instrument)
        if limits is None:
            limits = self.limits[instrument] = self.config.limits_for(instrument)
        return limits


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

    def reject(breach: Breach) -> OrderIntentRejected:
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

    if view.state is TradingState.HALTED:  # the kill switch answers before anything else
        return reject(Breach("trading_state", "halted", "order", "trading is halted (kill switch)"))
    instrument = signal.instrument
    known = view.positions.get(instrument)
    pos = known if known is not None else Position(instrument)
    price = _reference_price(signal, known)
    if price is None:
        return reject(
            Breach("reference_price", "a price", "none", "no price hint, limit or mark to size")
        )
    planned = _order_for_intent(signal, pos, price, view, config)
    if isinstance(planned, Breach):
        return reject(planned)
    side, raw_quantity, reduce_only = planned

    compiled = _compiled(config)
    spec = config.spec_for(instrument)
    quantity = round_to_step(raw_quantity, spec.lot_size, ROUND_DOWN)
    if quantity <= 0 or quantity < spec.min_quantity:
        return reject(
            Breach(
                "min_quantity",
                _str(max(spec.min_quantity, spec.lot_size)),
                _str(raw_quantity),
                "size below the venue's minimum quantity after rounding to the lot size",
            )
        )
    if quantity * price < spec.min_notional:
        return reject(
            Breach(
                "min_notional",
                _str(spec.min_notional),
                _str(quantity * price),
                "order notional below the venue's minimum",
            )
        )

    proposal = Proposal(
        view=view,
        config=config,
        limits=compiled.limits_for(instrument),
        instrument=instrument,
        side=side,
        quantity=quantity,
        price=price,
        reduce_only=reduce_only,
        ts_ns=meta.ts_ns,
    )
    reducing = proposal.reducing
    for rule in compiled.rules:
        if reducing and not rule.applies_to_reducing:
            continue
        breach = rule.check(proposal)
        if breach is not None:
            return reject(breach)

    order = signal.order
    tick = spec.tick_size
    limit_price = round_price(order.limit_price, tick, side) if order.limit_price else None
    stop_price = round_price(order.stop_price, tick, None) if order.stop_price else None
    stop_loss = round_price(signal.stop_loss, tick, None) if signal.stop_loss else None
    take_profit = round_price(signal.take_profit, tick, None) if signal.take_profit else None
    if not (limit_price is stop_price is stop_loss is take_profit is None):
        for name, rounded, given in (
            ("limit price", limit_price, order.limit_price),
            ("stop price", stop_price, order.stop_price),
            ("stop loss", stop_loss, signal.stop_loss),
            ("take profit", take_profit, signal.take_profit),
        ):
            if rounded is not None and rounded <= 0:
                return reject(
                    Breach("tick_size", _str(tick), _str(given or ZERO), f"{name} below one tick")
                )
    # Every value is validated input or checked above, so the approval skips re-validation.
    fields = {
        **envelope,
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
    }
    return trusted(OrderIntentApproved, fields)
