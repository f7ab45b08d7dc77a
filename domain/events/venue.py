"""Facts about a venue account as a whole, on its stream ``venue.<name>``.

The circuit breaker's every change of state, what reconciliation found (orders the system never
placed, holdings that differ from the tape), and the verdict on the account's key permissions.
Order-level corrections found by reconciliation go on each order's own stream as ordinary order
events; these events say why they were recorded.
"""

from __future__ import annotations

from pydantic import Field

from domain.events.base import Event
from domain.values import InstrumentId, Money, Side, VenueId


def venue_stream(venue: str) -> str:
    return f"venue.{venue}"


class CircuitOpened(Event):
    """Traffic to the venue stops: too many consecutive failures (or a ban)."""

    venue: VenueId
    reason: str
    failures: int = Field(ge=0)
    retry_at_ns: int = Field(ge=0, description="when a probe request may go out")


class CircuitHalfOpened(Event):
    """The cool-down is over: one probe request may go out."""

    venue: VenueId


class CircuitClosed(Event):
    """The probe succeeded: normal traffic resumes (and reconciliation runs)."""

    venue: VenueId


class OrderDiscovered(Event):
    """The venue holds (or filled) an order this system has no record of placing."""

    venue: VenueId
    client_order_id: str
    venue_order_id: str
    instrument: InstrumentId
    side: Side
    quantity: Money
    filled_quantity: Money
    status: str


class PositionDiscrepancy(Event):
    """After reconciling orders and fills, the venue's position still differs from the tape's."""

    venue: VenueId
    instrument: InstrumentId
    tape_quantity: Money
    venue_quantity: Money


class BalanceDiscrepancy(Event):
    """Between two reconciliations (``since_ns`` to ``until_ns``) a spot balance at the venue
    changed by other than the fills recorded in between imply (``domain.execution.balances``).

    A fill or fee the tape lacks shows here, and so does anything the user did outside this
    system (a deposit, a withdrawal, a transfer, a reward): all are real differences from the
    tape. ``expected`` is ``previous`` plus what the fills imply; ``difference`` is ``observed``
    minus ``expected``. Recorded once: the next reconciliation compares from ``observed``.
    """

    venue: VenueId
    asset: str = Field(min_length=1, max_length=32)
    previous: Money
    expected: Money
    observed: Money
    difference: Money
    since_ns: int = Field(ge=0, description="the earlier reconciliation's ts_ns")
    until_ns: int = Field(ge=0, description="this reconciliation's ts_ns")


class ReconciliationCompleted(Event):
    """One pass comparing the venue with the tape; ``corrections`` events were recorded."""

    venue: VenueId
    trigger: str = Field(description="start, reconnect, circuit_closed, periodic, requested")
    orders_checked: int = Field(ge=0)
    corrections: int = Field(ge=0)
    fills_since_ns: int = Field(ge=0)
    balances: dict[str, Money] = Field(default_factory=dict)


class VenueKeyRefused(Event):
    """The account's key can withdraw or transfer: the gateway will not trade with it."""

    venue: VenueId
    findings: list[str] = Field(default_factory=list)
