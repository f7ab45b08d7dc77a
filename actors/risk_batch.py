"""Deciding several recorded signals at once, for one tape append instead of one per signal,
and handing their approvals on with one gateway call per venue instead of one per order.

Each signal is decided on a trial view (``RiskView.trial``) that already holds the decisions
before it, so a batch decides what the same signals handed over one at a time would, up to the
moment their orders reach a gateway (fills that come back in between are folded before the next
single decision, but after the whole batch).

Handing on keeps the risk manager's bookkeeping of the single path: an approval is
``submitting`` while its gateway call is out (a snapshot counts it unsubmitted), and back in
``unsubmitted`` when the call fails, for ``recover()`` to hand on again. The gateway derives the
order's client id from the approval, so handing one on twice never makes a second order.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from typing import Protocol
from uuid import UUID

from domain.events import (
    Event,
    EventMeta,
    OrderIntentApproved,
    OrderIntentRejected,
    SignalReceived,
)
from domain.risk.config import RiskConfig
from domain.risk.engine import decide
from domain.risk.view import RiskView


def decide_in_order(
    events: Sequence[SignalReceived],
    view: RiskView,
    config: RiskConfig,
    meta_for: Callable[[SignalReceived], EventMeta],
    stream: str,
    version: int,
    stamp: Callable[[Event], Event] = lambda decision: decision,
    skip: Container[UUID] = (),
) -> list[Event]:
    """One decision per signal, at consecutive versions of ``stream`` from ``version``;
    ``stamp`` completes each (the bracket mode of an approval). Signals in ``skip`` (decided
    already) and repeats in ``events`` get none."""
    fresh = list({e.event_id: e for e in events if e.event_id not in skip}.values())
    if len(fresh) == 1:  # decided as ``decide`` does
        (event,) = fresh
        return [stamp(decide(event, view, config, meta_for(event), stream, version))]
    out: list[Event] = []
    with view.trial() as trial:
        for i, event in enumerate(fresh):
            decision = stamp(decide(event, trial, config, meta_for(event), stream, version + i))
            trial.apply(decision)
            out.append(decision)
    return out


RECOVER_BATCH = 256
"""Undecided signals ``recover()`` decides per tape append."""


class Gateway(Protocol):
    """What the risk manager needs from a venue gateway (``submit_many`` too when it has it,
    see ``BatchGateway``; without it a batch goes one ``submit`` at a time)."""

    async def submit(self, intent: OrderIntentApproved) -> str: ...

    async def cancel(self, client_order_id: str, reason: str) -> str: ...


class BatchGateway(Gateway, Protocol):
    async def submit_many(self, intents: list[OrderIntentApproved]) -> list[str]: ...


async def submit_all(gateway: Gateway, intents: Sequence[OrderIntentApproved]) -> list[str]:
    """Each approval's order status: one ``submit_many`` call, or one ``submit`` per approval
    for a gateway without it."""
    many = getattr(gateway, "submit_many", None)
    if many is None:
        return [await gateway.submit(intent) for intent in intents]
    return [str(status) for status in await many(list(intents))]


def by_venue(
    approvals: Iterable[OrderIntentApproved], route: Callable[[OrderIntentApproved], str]
) -> dict[str, list[OrderIntentApproved]]:
    """The approvals grouped by the venue ``route`` sends each to, in order within a venue."""
    out: dict[str, list[OrderIntentApproved]] = {}
    for approval in approvals:
        out.setdefault(route(approval), []).append(approval)
    return out


async def hand_on(
    approvals: Sequence[OrderIntentApproved],
    route: Callable[[OrderIntentApproved], str],
    gateway_for: Callable[[str], Gateway],
    unsubmitted: dict[UUID, OrderIntentApproved],
    submitting: dict[UUID, OrderIntentApproved],
) -> int:
    """Hand ``approvals`` to their gateways, one ``submit_all`` per venue; returns how many were
    handed on. On a failure, every approval whose venue has not answered yet is unsubmitted
    again (for ``recover()``) and the error is raised."""
    batches = by_venue({a.event_id: a for a in approvals}.values(), route)
    waiting = {a.event_id: a for batch in batches.values() for a in batch}
    for event_id, approval in waiting.items():
        unsubmitted.pop(event_id, None)
        submitting[event_id] = approval  # unsubmitted, as far as a snapshot knows
    try:
        for venue, batch in batches.items():
            await submit_all(gateway_for(venue), batch)
            for approval in batch:
                del waiting[approval.event_id]
    except BaseException:
        for event_id, approval in waiting.items():
            unsubmitted.setdefault(event_id, approval)
        raise
    finally:
        for batch in batches.values():
            for approval in batch:
                submitting.pop(approval.event_id, None)
    return sum(len(batch) for batch in batches.values())


_OUTCOMES = {OrderIntentApproved: "approved", OrderIntentRejected: "rejected"}


def outcomes_of(events: Sequence[SignalReceived], decisions: Sequence[Event]) -> list[str]:
    """For each signal, 'approved' or 'rejected' by its decision in ``decisions``, or
    'duplicate' (decided before, or a second time in the batch)."""
    by_signal = {getattr(d, "signal_event_id", None): d for d in decisions}
    return [
        _OUTCOMES[type(d)] if (d := by_signal.pop(e.event_id, None)) is not None else "duplicate"
        for e in events
    ]
