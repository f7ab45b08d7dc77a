"""Deciding several recorded signals at once, for one tape append instead of one per signal.

Each signal is decided on a scratch copy of the view that already holds the decisions before
it, so a batch decides what the same signals handed over one at a time would, up to the moment
their orders reach a gateway (fills that come back in between are folded before the next
single decision, but after the whole batch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
) -> list[Event]:
    """One decision per signal, at consecutive versions of ``stream`` from ``version``;
    ``stamp`` completes each (the bracket mode of an approval)."""
    scratch = view.copy()
    out: list[Event] = []
    for i, event in enumerate(events):
        decision = stamp(decide(event, scratch, config, meta_for(event), stream, version + i))
        scratch.apply(decision)
        out.append(decision)
    return out


_OUTCOMES = {OrderIntentApproved: "approved", OrderIntentRejected: "rejected"}


def outcomes_of(events: Sequence[SignalReceived], decisions: Sequence[Event]) -> list[str]:
    """For each signal, 'approved' or 'rejected' by its decision in ``decisions``, or
    'duplicate' (decided before, or a second time in the batch)."""
    by_signal = {getattr(d, "signal_event_id", None): d for d in decisions}
    return [
        _OUTCOMES[type(d)] if (d := by_signal.pop(e.event_id, None)) is not None else "duplicate"
        for e in events
    ]
