"""What to do with an order whose placement went unanswered, once the venue has been asked.

A write is never retried blindly: after a timeout, a 5xx or a dropped connection the gateway
looks the order up by client id. If the venue knows it, the order was placed (accepted, or even
rejected). Only when the venue definitely does not know it may the same client id be sent again,
and only while the approval is fresh enough to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.execution.reports import OrderReport, ReportedStatus


class Resolution(StrEnum):
    PLACED = "placed"  # the venue has it: record OrderAccepted (then fills via reconciliation)
    REFUSED = "refused"  # the venue has it as rejected
    RESEND = "resend"  # the venue does not know it: send again with the same client id
    ABANDON = "abandon"  # unknown to the venue and too old to send: record OrderRejected


@dataclass(frozen=True, slots=True)
class Decision:
    resolution: Resolution
    report: OrderReport | None = None
    reason: str = ""


def after_lookup(
    found: OrderReport | None, *, submitted_ns: int, now_ns: int, resend_window_ns: int
) -> Decision:
    if found is not None:
        if found.status is ReportedStatus.REJECTED:
            return Decision(Resolution.REFUSED, found, "rejected by the venue")
        return Decision(Resolution.PLACED, found)
    if now_ns - submitted_ns > resend_window_ns:
        return Decision(Resolution.ABANDON, None, "never reached the venue; too old to send now")
    return Decision(Resolution.RESEND, None, "the venue does not know the order")
