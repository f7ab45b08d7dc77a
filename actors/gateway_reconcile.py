"""Reconciliation for the venue gateway: ask the venue, compare with the tape, record the
differences (``domain.execution.reconcile``), and send again what never arrived.

A mixin of ``actors.gateway.Gateway``: it uses the gateway's orders, writer, guard and adapter.
"""

from __future__ import annotations

import time
from typing import Any

from domain.events.venue import venue_stream
from domain.execution.reconcile import reconcile
from venues.base import VenueError
from venues.snapshot import take_snapshot


class Reconciling:
    """``reconcile`` on demand, and ``sync`` for the periodic loop."""

    live: bool
    needs_reconcile: str | None
    guard: Any
    orders: dict[str, Any]
    submitted_ns: dict[str, int]
    last_fill_ns: int
    resend_window_ns: int

    async def reconcile(self, trigger: str = "requested") -> int:
        """Make the tape agree with the venue; returns how many corrections were recorded."""
        if not self.live:
            return 0
        self.needs_reconcile = None
        self.guard.recovered = False
        lookback = int(float(self._s("reconcile_lookback_s", 3600)) * 1e9)
        open_since = [
            self.submitted_ns.get(c, 0) for c, o in self.orders.items() if o.status.is_open
        ]
        anchor = self.last_fill_ns or min(open_since, default=time.time_ns() - lookback)
        since = max(0, anchor - 60_000_000_000)
        try:
            snapshot = await take_snapshot(
                self.kind,
                self.adapter,
                self.guard,
                self.orders,
                fills_since_ns=since,
                watch=self._s("watch") or (),
            )
        except VenueError:
            self.needs_reconcile = trigger
            raise
        stream = venue_stream(self.venue)
        result = reconcile(
            self.orders,
            snapshot,
            venue=self.venue,
            meta=self.writer.meta(),
            venue_version=self.writer.head(stream),
            submitted_ns=self.submitted_ns,
            resend_window_ns=self.resend_window_ns,
            trigger=trigger,
            known_discrepancies=self.discrepancies,
        )
        self.anomalies.extend(result.anomalies)
        if not self._record(result.events):
            self.needs_reconcile = trigger
            return 0
        for coid in result.resend:  # looked up again (after the grace), then sent again
            await self._tracked(coid, self._resolve)
        return result.corrections

    async def sync(self) -> int:
        """Periodic work: reconcile when something asked for it (or always when ``force``)."""
        if self.guard.recovered and self.needs_reconcile is None:
            self.needs_reconcile = "reconnect"
        trigger = self.needs_reconcile or "periodic"
        try:
            return await self.reconcile(trigger)
        except VenueError:
            return -1
