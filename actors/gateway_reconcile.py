"""Reconciliation for the venue gateway: ask the venue, compare with the tape, record the
differences (``domain.execution.reconcile``), and send again what never arrived.

A mixin of ``actors.gateway.Gateway``: it uses the gateway's orders, writer, guard and adapter.
Spot balances are compared from the previous reconciliation's (``balance_baseline``, folded
from the venue stream like the gateway's other state); a snapshot that shows a balance
difference is taken once more before the difference is recorded, since a fill that executes
while the snapshot is being read would otherwise look like one. Reconciliations of one gateway
run one at a time.

Settings (venue configuration): ``balance_check`` (default true; derivatives venues are never
checked), ``balance_tolerance_fraction`` of an asset's lot or tick (0.01), ``balance_tolerance``
(absolute, per asset, e.g. ``{USDT: "0.01"}``), ``balance_tolerance_default`` for assets no
instrument names (0), ``balance_confirm_attempts`` (1).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from domain.events.venue import venue_stream
from domain.execution.balances import BalanceBaseline, BalanceTolerance, steps_of
from domain.execution.reconcile import Reconciliation, reconcile
from domain.execution.reports import VenueSnapshot
from venues.base import VenueError
from venues.snapshot import DERIVATIVES, take_snapshot


class Reconciling:
    """``reconcile`` on demand, and ``sync`` for the periodic loop."""

    live: bool
    needs_reconcile: str | None
    guard: Any
    orders: dict[str, Any]
    submitted_ns: dict[str, int]
    last_fill_ns: int
    resend_window_ns: int
    venue: str
    kind: str
    adapter: Any
    tape: Any
    writer: Any
    discrepancies: dict[str, Any]
    anomalies: list[str]
    balance_baseline: BalanceBaseline | None
    _tolerance: BalanceTolerance | None = None
    _reconcile_lock: asyncio.Lock | None = None

    async def reconcile(self, trigger: str = "requested") -> int:
        """Make the tape agree with the venue; returns how many corrections were recorded."""
        if not self.live:
            return 0
        if self._reconcile_lock is None:
            self._reconcile_lock = asyncio.Lock()
        async with self._reconcile_lock:
            result = await self._reconcile_once(trigger)
        if result is None:
            return 0
        for coid in result.resend:  # looked up again (after the grace), then sent again
            await self._tracked(coid, self._resolve)
        return result.corrections

    async def _reconcile_once(self, trigger: str) -> Reconciliation | None:
        self.needs_reconcile = None
        self.guard.recovered = False
        lookback = int(float(self._s("reconcile_lookback_s", 3600)) * 1e9)
        open_since = [
            self.submitted_ns.get(c, 0) for c, o in self.orders.items() if o.status.is_open
        ]
        anchor = self.last_fill_ns or min(open_since, default=time.time_ns() - lookback)
        since = max(0, anchor - 60_000_000_000)
        checking = self._checks_balances()
        tolerance = await self._balance_tolerance() if checking else None
        attempts = 1 + (int(self._s("balance_confirm_attempts", 1)) if checking else 0)
        result: Reconciliation | None = None
        for _ in range(attempts):
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
                if result is not None:
                    break  # the first answer stands
                self.needs_reconcile = trigger
                raise
            result = self._compare(snapshot, trigger, checking, tolerance)
            if not result.balance_differences:
                break
        assert result is not None
        self.anomalies.extend(result.anomalies)
        if not self._record(result.events):  # recording folds the new baseline in
            self.needs_reconcile = trigger
            return None
        return result

    def _compare(
        self,
        snapshot: VenueSnapshot,
        trigger: str,
        checking: bool,
        tolerance: BalanceTolerance | None,
    ) -> Reconciliation:
        stream = venue_stream(self.venue)
        return reconcile(
            self.orders,
            snapshot,
            venue=self.venue,
            meta=self.writer.meta(),
            venue_version=self.writer.head(stream),
            submitted_ns=self.submitted_ns,
            resend_window_ns=self.resend_window_ns,
            trigger=trigger,
            known_discrepancies=self.discrepancies,
            baseline=self.balance_baseline if checking else None,
            tolerance=tolerance,
        )

    async def sync(self) -> int:
        """Periodic work: reconcile when something asked for it (or always when ``force``)."""
        if self.guard.recovered and self.needs_reconcile is None:
            self.needs_reconcile = "reconnect"
        trigger = self.needs_reconcile or "periodic"
        try:
            return await self.reconcile(trigger)
        except VenueError:
            return -1

    # spot balances -----------------------------------------------------------------------------

    def _checks_balances(self) -> bool:
        return self.kind not in DERIVATIVES and bool(self._s("balance_check", True))

    async def _balance_tolerance(self) -> BalanceTolerance:
        """Tolerances from the venue's lot and tick sizes (asked once; settings override)."""
        if self._tolerance is not None:
            return self._tolerance
        s = self._s
        fixed = {str(k): Decimal(str(v)) for k, v in (s("balance_tolerance") or {}).items()}
        tolerance = BalanceTolerance(
            fraction=Decimal(str(s("balance_tolerance_fraction", "0.01"))),
            fixed=fixed,
            default=Decimal(str(s("balance_tolerance_default", 0))),
        )
        try:
            specs = await self.guard.read("instruments", self.adapter.instruments)
        except VenueError:
            return tolerance  # asked again next time
        steps = steps_of((i.instrument, i.lot_size, i.tick_size) for i in specs)
        tolerance = tolerance.model_copy(update={"steps": steps})
        self._tolerance = tolerance
        return tolerance
