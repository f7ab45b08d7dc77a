"""What a risk profile folds from the tape: the topics it follows and whose events are its own.

Shared by the risk manager (live, and on restart), its snapshots and the CLI, which reads a
profile's view straight from the tape.
"""

from __future__ import annotations

from domain.events import (
    Event,
    RiskConfigApplied,
    RiskLimitBreached,
    TradingStateChanged,
    decision_stream,
)
from domain.risk.view import RiskView
from store import Tape

VIEW_TOPICS = (
    "OrderIntentApproved",
    "OrderIntentRejected",
    "OrderSubmitted",
    "OrderFilled",
    "OrderCanceled",
    "OrderRejected",
    "OrderExpired",
    "BarClosed",
    "TradingStateChanged",
    "RiskLimitBreached",
    "RiskConfigApplied",
    "SignalReceived",
)
"""Not ``OrderAccepted``: an acknowledgement changes no position, pending amount or bracket (the
order is pending from its approval or submission on), and skipping it spares a decode per order."""
CONTROL = (RiskConfigApplied, TradingStateChanged, RiskLimitBreached)


def belongs(event: Event, stream: str) -> bool:
    """Whether the risk profile writing ``stream`` folds ``event``: every order, fill and bar
    (one account), but only its own state changes, breaches and configurations."""
    return not isinstance(event, CONTROL) or event.stream == stream


def fold_profile(tape: Tape, profile: str) -> RiskView:
    """A risk profile's view rebuilt from the whole tape (what its actor holds after a restart)."""
    stream = decision_stream(profile)
    view = RiskView()
    for rec in tape.iter_all(topics=VIEW_TOPICS):
        if belongs(rec.event, stream):
            view.apply(rec.event)
    return view
