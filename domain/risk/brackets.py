"""Brackets (entry + stop-loss + take-profit, one cancels the other), native or emulated.

Pure: ``BracketBook.apply(event)`` folds tape events and returns what to do next.

- Native (the venue holds the children): every parent fill replaces the children with a
  stop-market and a limit take-profit for the whole open quantity; a child fill shrinks (or, once
  flat, cancels) its sibling.
- Emulated (the system watches prices): nothing rests at the venue; a bar whose range touches the
  stop or the take-profit fires one reduce-only market exit for the open quantity. When one bar
  touches both, the stop wins (the conservative assumption).

Children's client order ids derive from the parent's, the role and a generation counter, so a
replay or a retry names the same orders. The caller turns ``PlaceChild``/``TriggerExit`` into
reduce-only approvals (``child_approval``) and ``CancelChild`` into cancel commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from domain.events import (
    BarClosed,
    Event,
    EventMeta,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderIntentApproved,
    OrderRejected,
    derive_id,
)
from domain.values import OrderType, Side

ZERO = Decimal(0)


class ChildRole(StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


@dataclass(frozen=True, slots=True)
class PlaceChild:
    client_order_id: str
    parent_client_order_id: str
    role: ChildRole
    instrument: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    price: Decimal
    """Stop price for the stop-loss, limit price for the take-profit."""


@dataclass(frozen=True, slots=True)
class CancelChild:
    client_order_id: str
    parent_client_order_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class TriggerExit:
    """An emulated stop or take-profit fired: send a reduce-only market order now."""

    client_order_id: str
    parent_client_order_id: str
    role: ChildRole
    instrument: str
    side: Side
    quantity: Decimal
    trigger_price: Decimal


BracketAction = PlaceChild | CancelChild | TriggerExit


@dataclass(frozen=True, slots=True)
class Bracket:
    parent_client_order_id: str
    instrument: str
    entry_side: Side
    stop_loss: Decimal | None
    take_profit: Decimal | None
    emulated: bool
    entry_filled: Decimal = ZERO
    exit_filled: Decimal = ZERO
    children: tuple[tuple[ChildRole, str], ...] = ()
    """Working native children (role, client order id)."""
    generation: int = 0
    exit_sent: Decimal = ZERO
    """Quantity already sent in emulated exits."""
    triggered: ChildRole | None = None
    closed: bool = False

    @property
    def open_quantity(self) -> Decimal:
        return self.entry_filled - self.exit_filled

    def child_id(self, role: ChildRole, generation: int) -> str:
        return derive_id("bracket", self.parent_client_order_id, role.value, generation).hex

    def _cancel_children(self, reason: str) -> list[BracketAction]:
        return [CancelChild(c, self.parent_client_order_id, reason) for _, c in self.children]

    def _place_children(self, quantity: Decimal) -> tuple[Bracket, list[BracketAction]]:
        generation = self.generation + 1
        exit_side = self.entry_side.opposite
        actions: list[BracketAction] = []
        children: list[tuple[ChildRole, str]] = []
        for role, price, kind in (
            (ChildRole.STOP_LOSS, self.stop_loss, OrderType.STOP_MARKET),
            (ChildRole.TAKE_PROFIT, self.take_profit, OrderType.LIMIT),
        ):
            if price is None:
                continue
            coid = self.child_id(role, generation)
            children.append((role, coid))
            actions.append(
                PlaceChild(
                    coid,
                    self.parent_client_order_id,
                    role,
                    self.instrument,
                    exit_side,
                    quantity,
                    kind,
                    price,
                )
            )
        return replace(self, children=tuple(children), generation=generation), actions

    def on_parent_fill(self, quantity: Decimal) -> tuple[Bracket, list[BracketAction]]:
        b = replace(self, entry_filled=self.entry_filled + quantity)
        if b.emulated:
            if b.triggered is not None:  # the exit already fired: the new quantity leaves at once
                return b._trigger(b.triggered)
            return b, []
        cancels = b._cancel_children("bracket resized")
        b, places = b._place_children(b.open_quantity)
        return b, [*cancels, *places]

    def on_parent_closed(self) -> tuple[Bracket, list[BracketAction]]:
        """The entry order ended (canceled, expired, rejected) before filling completely."""
        if self.entry_filled == 0:
            return replace(self, closed=True), []
        return self, []

    def on_child_fill(
        self, client_order_id: str, quantity: Decimal
    ) -> tuple[Bracket, list[BracketAction]]:
        b = replace(self, exit_filled=self.exit_filled + quantity)
        if b.open_quantity <= 0:
            others = [c for c in b.children if c[1] != client_order_id]
            actions: list[BracketAction] = [
                CancelChild(c, b.parent_client_order_id, "one cancels the other") for _, c in others
            ]
            return replace(b, children=(), closed=True), actions
        if b.emulated:
            return b, []
        # partial exit: the filled child keeps working; its sibling shrinks to the open quantity
        filled = [c for c in b.children if c[1] == client_order_id]
        siblings = [c for c in b.children if c[1] != client_order_id]
        actions = [CancelChild(c, b.parent_client_order_id, "bracket resized") for _, c in siblings]
        generation = b.generation + 1
        new_children = list(filled)
        for role, _ in siblings:
            coid = b.child_id(role, generation)
            new_children.append((role, coid))
            price = b.stop_loss if role is ChildRole.STOP_LOSS else b.take_profit
            assert price is not None
            kind = OrderType.STOP_MARKET if role is ChildRole.STOP_LOSS else OrderType.LIMIT
            actions.append(
                PlaceChild(
                    coid,
                    b.parent_client_order_id,
                    role,
                    b.instrument,
                    b.entry_side.opposite,
                    b.open_quantity,
                    kind,
                    price,
                )
            )
        return replace(b, children=tuple(new_children), generation=generation), actions

    def on_price(self, high: Decimal, low: Decimal) -> tuple[Bracket, list[BracketAction]]:
        """Emulated brackets: fire when the bar's range touches a level (the stop first)."""
        if not self.emulated or self.triggered is not None or self.closed:
            return self, []
        long = self.entry_side is Side.BUY
        sl, tp = self.stop_loss, self.take_profit
        if sl is not None and (low <= sl if long else high >= sl):
            return self._trigger(ChildRole.STOP_LOSS)
        if tp is not None and (high >= tp if long else low <= tp):
            return self._trigger(ChildRole.TAKE_PROFIT)
        return self, []

    def _trigger(self, role: ChildRole) -> tuple[Bracket, list[BracketAction]]:
        quantity = self.entry_filled - self.exit_sent
        if quantity <= 0:
            return self, []
        price = self.stop_loss if role is ChildRole.STOP_LOSS else self.take_profit
        assert price is not None
        generation = self.generation + 1
        coid = self.child_id(role, generation)
        action = TriggerExit(
            coid,
            self.parent_client_order_id,
            role,
            self.instrument,
            self.entry_side.opposite,
            quantity,
            price,
        )
        b = replace(
            self,
            triggered=role,
            generation=generation,
            children=(*self.children, (role, coid)),
            exit_sent=self.exit_sent + quantity,
        )
        return b, [action]


def open_bracket(approval: OrderIntentApproved, *, emulated: bool) -> Bracket | None:
    """A bracket for an entry approval carrying a stop-loss or take-profit; None otherwise."""
    if approval.reduce_only or (approval.stop_loss is None and approval.take_profit is None):
        return None
    return Bracket(
        parent_client_order_id=approval.client_order_id,
        instrument=approval.instrument,
        entry_side=approval.side,
        stop_loss=approval.stop_loss,
        take_profit=approval.take_profit,
        emulated=emulated,
    )


@dataclass(slots=True)
class BracketBook:
    """All brackets, folded from the tape. ``native_venues`` hold children at the venue."""

    native_venues: frozenset[str] = frozenset()
    default_venue: str | None = None
    """Where an approval that names no venue goes (``domain.routing.choose_venue``)."""
    brackets: dict[str, Bracket] = field(default_factory=dict)
    child_of: dict[str, str] = field(default_factory=dict)
    seen_fills: set[tuple[str, str]] = field(default_factory=set)

    def apply(self, event: Event) -> list[BracketAction]:
        """Fold one event; return the actions it calls for (empty for most events)."""
        match event:
            case OrderIntentApproved():
                mode = event.bracket or self.mode_for(event)  # older approvals carry none
                bracket = open_bracket(event, emulated=mode != "native")
                if bracket is not None:
                    self.brackets[event.client_order_id] = bracket
                return []
            case OrderFilled():
                key = (event.client_order_id, event.fill_id)
                if key in self.seen_fills:
                    return []
                self.seen_fills.add(key)
                coid = event.client_order_id
                if coid in self.brackets:
                    return self._update(coid, self.brackets[coid].on_parent_fill(event.quantity))
                parent = self.child_of.get(coid)
                if parent is not None:
                    b = self.brackets[parent]
                    return self._update(parent, b.on_child_fill(coid, event.quantity))
                return []
            case OrderCanceled() | OrderExpired() | OrderRejected():
                coid = event.client_order_id
                if coid in self.brackets:
                    return self._update(coid, self.brackets[coid].on_parent_closed())
                return []
            case BarClosed():
                actions: list[BracketAction] = []
                for parent, b in list(self.brackets.items()):
                    if b.instrument == event.instrument:
                        actions += self._update(parent, b.on_price(event.high, event.low))
                return actions
        return []

    def mode_for(self, approval: OrderIntentApproved) -> str:
        """Native when the venue the approval is routed to holds stops, else emulated."""
        venue = approval.venue or self.default_venue
        return "native" if venue is not None and venue in self.native_venues else "emulated"

    def stamp(self, decision: Event) -> Event:
        """An approval with a stop-loss or take-profit, its bracket mode recorded on it: a
        replay then holds the bracket the same way whatever the venues' settings are by then."""
        if not isinstance(decision, OrderIntentApproved) or decision.bracket is not None:
            return decision
        if decision.stop_loss is None and decision.take_profit is None:
            return decision
        return decision.model_copy(update={"bracket": self.mode_for(decision)})

    def _update(
        self, parent: str, result: tuple[Bracket, list[BracketAction]]
    ) -> list[BracketAction]:
        bracket, actions = result
        for _, coid in bracket.children:
            self.child_of[coid] = parent
        if bracket.closed:
            del self.brackets[parent]
        else:
            self.brackets[parent] = bracket
        return actions


def child_approval(
    action: PlaceChild | TriggerExit,
    parent: OrderIntentApproved,
    meta: EventMeta,
    stream: str,
    version: int,
) -> OrderIntentApproved:
    """The reduce-only approval that authorises a bracket child (recorded before it is sent)."""
    if isinstance(action, TriggerExit):
        kind, limit, stop = OrderType.MARKET, None, None
    elif action.order_type is OrderType.LIMIT:
        kind, limit, stop = OrderType.LIMIT, action.price, None
    else:
        kind, limit, stop = action.order_type, None, action.price
    return OrderIntentApproved(
        **meta.envelope(stream, version),
        signal_event_id=parent.signal_event_id,
        strategy=parent.strategy,
        client_order_id=action.client_order_id,
        instrument=action.instrument,
        side=action.side,
        quantity=action.quantity,
        order_type=kind,
        limit_price=limit,
        stop_price=stop,
        reduce_only=True,
        venue=parent.venue,
        reference_price=action.trigger_price if isinstance(action, TriggerExit) else action.price,
    )
