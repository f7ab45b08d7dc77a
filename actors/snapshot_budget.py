"""How often a following actor may spend time saving a snapshot of what it folded.

A snapshot's cost grows with the state (an order book keeps every order), while a heavy load
brings ``every`` tape positions a second or more: saving on position count alone would then eat
most of the actor's time. ``SaveBudget`` caps the long-run share of time spent saving; at a
modest pace snapshots still come every ``every`` positions, under load they space out, and the
tail a restart folds grows only as much as the saving shrinks.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SNAPSHOT_DUTY = 0.05
"""In the long run, at most this share of the time goes to periodic snapshots."""
SNAPSHOT_BURST_S = 1.0
"""Saving time allowed at once before ``SNAPSHOT_DUTY`` spaces snapshots out."""


class SaveBudget:
    """Time to save snapshots in: it accrues at ``duty`` seconds a second up to ``burst_s``,
    and a periodic save waits until there is as much as the last one took."""

    def __init__(
        self,
        duty: float = SNAPSHOT_DUTY,
        burst_s: float = SNAPSHOT_BURST_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.duty, self.burst_s, self.clock = duty, burst_s, clock
        self.credit, self.last, self.at = burst_s, 0.0, clock()

    def allows(self) -> bool:
        now = self.clock()
        self.credit = min(self.burst_s, self.credit + (now - self.at) * self.duty)
        self.at = now
        return self.credit >= min(self.last, self.burst_s)

    def spent(self, seconds: float) -> None:
        self.credit -= seconds
        self.last = seconds


def due(position: int, saved_at: int, every: int | None, budget: SaveBudget) -> bool:
    """Whether a periodic snapshot is due at tape ``position`` (the last one at ``saved_at``)."""
    return every is not None and position - saved_at >= every and budget.allows()
