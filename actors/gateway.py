"""Venue gateway: one per venue account; the only place orders leave the system.

``Gateway`` is the plain, testable logic; ``GatewayActor`` is the Ray shell around it. This
module holds the gateway's state, rebuilt from the tape, and how it records events; the order
flow (``actors.gateway_orders``), reconciliation (``actors.gateway_reconcile``) and paper fills
(``actors.gateway_paper``) are its mixins.

Every approved intent is first recorded as ``OrderSubmitted``, version 1 of the order's own
stream (``order.<client_order_id>``), and only then sent to the venue: a second submission of the
same intent collides on that version and never becomes a second order. At start, after a
reconnect and after the circuit breaker closes, it reconciles the tape with the venue
(``domain.execution.reconcile``). Every request goes through ``venues.guard`` (circuit breaker,
shared rate limits, retried reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from typing import Any

import ray

from actors.gateway_orders import OrderFlow, request_for
from actors.gateway_paper import PaperBars
from actors.gateway_reconcile import Reconciling
from actors.process import tune_gc
from actors.tape_access import StreamWriter
from actors.wire import Packed, unpack
from domain.bars import Bar
from domain.events import Event, OrderFilled, OrderIntentApproved, OrderSubmitted, order_stream
from domain.events.venue import (
    CircuitClosed,
    CircuitHalfOpened,
    CircuitOpened,
    PositionDiscrepancy,
    ReconciliationCompleted,
    VenueKeyRefused,
    venue_stream,
)
from domain.execution.backoff import BackoffPolicy
from domain.execution.balances import BalanceBaseline
from domain.execution.circuit import Circuit, CircuitPolicy, CircuitState, Transition
from domain.orders import Order, OrderStateError
from store import ConcurrencyConflict, Tape, open_tape
from venues.base import VenueError
from venues.guard import GuardedVenue
from venues.ratelimit import shared_limiter
from venues.registry import BuiltVenue, build_venue, setting

log = logging.getLogger("tapeline.gateway")

ORDER_TOPICS = (
    "OrderSubmitted",
    "OrderAccepted",
    "OrderRejected",
    "OrderFilled",
    "OrderCanceled",
    "OrderExpired",
    "OrderStatusUnknown",
)
VENUE_TOPICS = (
    "CircuitOpened",
    "CircuitHalfOpened",
    "CircuitClosed",
    "PositionDiscrepancy",
    "ReconciliationCompleted",
)
RECONCILED = "reconciled:"
_CIRCUIT_EVENTS = {
    CircuitState.OPEN: CircuitOpened,
    CircuitState.HALF_OPEN: CircuitHalfOpened,
    CircuitState.CLOSED: CircuitClosed,
}


class Gateway(OrderFlow, Reconciling, PaperBars):
    """One venue account's order flow, rebuilt from the tape. Async methods run on one loop."""

    def __init__(self, venue_cfg: dict[str, Any], tape: Tape, built: BuiltVenue | None = None):
        self.cfg = venue_cfg
        self.venue = str(venue_cfg["name"])
        self.kind = str(venue_cfg.get("kind", "paper"))
        self.tape = tape
        self.writer = StreamWriter(tape, f"gateway.{self.venue}")
        built = built or build_venue(venue_cfg)
        self.adapter: Any = built.adapter
        self.live = not hasattr(self.adapter, "on_bar")
        self.orders: dict[str, Order] = {}
        self.submitted_ns: dict[str, int] = {}
        self.submitted: dict[str, OrderSubmitted] = {}
        self.last_bar_ts: dict[str, int] = {}
        self.last_fill_ns = 0
        self.discrepancies: dict[str, tuple[Any, Any]] = {}
        self.balance_baseline: BalanceBaseline | None = None
        """The balances the last reconciliation recorded: what the next one compares from."""
        self.anomalies: list[str] = []
        self.refused: list[str] | None = None
        self.needs_reconcile: str | None = "start" if self.live else None
        self.resend_window_ns = int(float(self._s("resend_window_s", 300)) * 1e9)
        self.place_attempts = int(self._s("place_attempts", 5))
        self._inflight: dict[str, asyncio.Task[str]] = {}
        self._sent_ns: dict[str, int] = {}
        self._staged: list[Event] | None = None
        self.book_lock = asyncio.Lock()
        self.grace_ns = int(float(self._s("in_flight_grace_s", self._s("timeout_s", 10.0))) * 1e9)
        circuit = Circuit(
            policy=CircuitPolicy(
                failure_threshold=int(self._s("circuit_failures", 5)),
                open_for_ns=int(float(self._s("circuit_open_s", 5)) * 1e9),
            )
        )
        backoff = BackoffPolicy(
            base_s=float(self._s("backoff_base_s", 0.05)),
            cap_s=float(self._s("backoff_cap_s", 2.0)),
            max_attempts=int(self._s("read_attempts", 5)),
        )
        limiter = None
        if built.limits is not None and built.key_id is not None:
            headroom = float(self._s("rate_headroom", 0.9))
            limiter = shared_limiter(built.key_id, built.limits, headroom=headroom)
        seed = self._s("seed")
        self.guard = GuardedVenue(
            self.venue,
            circuit=circuit,
            limiter=limiter,
            backoff=backoff,
            on_transition=self._on_transition,
            rng=random.Random(seed) if seed is not None else None,
        )
        self._rebuild()

    def _s(self, name: str, default: Any = None) -> Any:
        return setting(self.cfg, name, default)

    # rebuilding from the tape ------------------------------------------------------------------

    def _apply(self, event: Event) -> None:
        if event.stream == venue_stream(self.venue):
            if isinstance(event, PositionDiscrepancy):
                pair = (event.tape_quantity, event.venue_quantity)
                self.discrepancies[event.instrument] = pair
            elif isinstance(event, ReconciliationCompleted):
                self.balance_baseline = BalanceBaseline(balances=event.balances, ts_ns=event.ts_ns)
            else:
                self.guard.circuit = self.guard.circuit.apply(event)
            return
        coid = getattr(event, "client_order_id", None)
        if coid is None:
            return
        order = self.orders.get(coid)
        if order is None:
            if not isinstance(event, OrderSubmitted) or event.venue != self.venue:
                return
            order = Order(client_order_id=coid)
            self.submitted_ns[coid] = event.ts_ns
            self.submitted[coid] = event
        try:
            self.orders[coid] = order.apply(event)
        except OrderStateError as exc:
            self.anomalies.append(str(exc))
        if isinstance(event, OrderFilled):
            prev = self.last_bar_ts.get(event.instrument, -1)
            self.last_bar_ts[event.instrument] = max(prev, event.fill_ts_ns)
            if not event.fill_id.startswith(RECONCILED):
                self.last_fill_ns = max(self.last_fill_ns, event.fill_ts_ns)

    def _rebuild(self) -> None:
        for rec in self.tape.iter_all(topics=ORDER_TOPICS + VENUE_TOPICS):
            self._apply(rec.event)
        restore = getattr(self.adapter, "restore", None)
        if restore is not None:
            restore(
                [
                    (request_for(o), o.filled_quantity, len(o.fill_ids))
                    for o in self.orders.values()
                    if o.status.is_open
                ]
            )

    def _record(self, events: list[Event]) -> bool:
        """Append and fold; on a version conflict re-read the streams and report False."""
        if not events:
            return True
        try:
            self.writer.append(events)
        except ConcurrencyConflict:
            for stream in {e.stream for e in events}:
                for event in self.tape.read_stream(stream):
                    if event.version > getattr(self._current(event), "version", 0):
                        self._apply(event)
            self.anomalies.append("concurrent writer on " + ", ".join({e.stream for e in events}))
            return False
        for event in events:
            self._apply(event)
        return True

    def _current(self, event: Event) -> Order | None:
        return self.orders.get(getattr(event, "client_order_id", ""))

    def _next(self, coid: str, cls: type[Event], cause: Event | None, **fields: Any) -> Event:
        order = self.orders[coid]
        # the order's later events descend from its OrderSubmitted: one causal chain and one
        # trace from the signal to the venue and back
        meta = self.writer.meta(cause or self.submitted.get(coid))
        envelope = meta.envelope(order_stream(coid), order.version + 1)
        return cls(**envelope, client_order_id=coid, **fields)

    def _on_transition(self, change: Transition) -> None:
        stream = venue_stream(self.venue)
        cls = _CIRCUIT_EVENTS[change.to]
        fields: dict[str, Any] = {"venue": self.venue}
        if cls is CircuitOpened:
            fields |= {
                "reason": change.reason,
                "failures": change.failures,
                "retry_at_ns": change.retry_at_ns,
            }
        event = cls(
            **self.writer.meta().envelope(stream, self.writer.next_version(stream)), **fields
        )
        with contextlib.suppress(ConcurrencyConflict):
            self.writer.append([event])
        log.warning("gateway.circuit", extra={"venue": self.venue, "state": change.to.value})
        if change.to is CircuitState.CLOSED:
            self.needs_reconcile = "circuit_closed"

    # start -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the key's permissions, then reconcile with the venue (live venues only)."""
        if not self.live:
            return
        verify = getattr(self.adapter, "verify_permissions", None)
        if verify is not None:
            try:
                await self.guard.read("permissions", verify)
            except VenueError as exc:
                findings = list(getattr(exc, "findings", []) or [type(exc).__name__])
                if not _is_permission_refusal(exc):
                    raise
                self.refused = findings
                stream = venue_stream(self.venue)
                meta = self.writer.meta().envelope(stream, self.writer.next_version(stream))
                self._record([VenueKeyRefused(**meta, venue=self.venue, findings=findings)])
                log.error("gateway.key_refused", extra={"venue": self.venue, "findings": findings})
                return
        with contextlib.suppress(VenueError):
            await self.reconcile(self.needs_reconcile or "start")

    # reading -------------------------------------------------------------------------------------

    def open_orders(self) -> list[dict[str, Any]]:
        return [
            {
                "client_order_id": o.client_order_id,
                "instrument": o.instrument,
                "side": o.side.value,
                "quantity": str(o.quantity),
                "filled": str(o.filled_quantity),
                "status": o.status.value,
            }
            for o in self.orders.values()
            if o.status.is_open
        ]

    def stats(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for o in self.orders.values():
            by_status[o.status.value] = by_status.get(o.status.value, 0) + 1
        return {
            "venue": self.venue,
            "orders": by_status,
            "anomalies": len(self.anomalies),
            "circuit": self.guard.circuit.state.value,
            "refused": self.refused is not None,
        }

    async def close(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.adapter.close()


def _is_permission_refusal(exc: Exception) -> bool:
    return type(exc).__name__ in ("PermissionsTooBroad", "UnsafeCredentials")


@ray.remote(max_restarts=-1, max_task_retries=-1)
class GatewayActor:
    """The Ray shell: starts the gateway on first use and keeps live venues reconciled."""

    def __init__(self, venue_cfg: dict[str, Any], tape_url: str) -> None:
        self.gateway = Gateway(venue_cfg, open_tape(tape_url))
        self.interval_s = float(setting(venue_cfg, "reconcile_interval_s", 5.0))
        self._started: asyncio.Task[None] | None = None
        self._loop: asyncio.Task[None] | None = None
        tune_gc()

    async def _ready(self) -> None:
        if self._started is None:
            self._started = asyncio.ensure_future(self.gateway.start())
        await asyncio.shield(self._started)
        if self.gateway.live and self._loop is None:
            self._loop = asyncio.ensure_future(self._keep_reconciled())

    async def _keep_reconciled(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.gateway.sync()
            except Exception:
                log.exception("gateway.sync_failed", extra={"venue": self.gateway.venue})

    async def submit(self, intent: OrderIntentApproved) -> str:
        await self._ready()
        return await self.gateway.submit(intent)

    async def submit_many(self, intents: list[OrderIntentApproved]) -> list[str]:
        await self._ready()
        return await self.gateway.submit_many(intents)

    async def submit_rows(self, rows: list[Packed]) -> list[str]:
        """``submit_many`` for approvals handed over as tape rows (``actors.wire``)."""
        intents = unpack(rows, OrderIntentApproved)
        await self._ready()
        return await self.gateway.submit_many(intents)

    async def cancel(self, client_order_id: str, reason: str = "requested") -> str:
        await self._ready()
        return await self.gateway.cancel(client_order_id, reason)

    async def reconcile(self) -> int:
        await self._ready()
        return await self.gateway.reconcile("requested")

    async def on_bars(self, bars: list[Bar]) -> int:
        await self._ready()
        return await self.gateway.on_bars(bars)

    async def open_orders(self) -> list[dict[str, Any]]:
        return self.gateway.open_orders()

    async def stats(self) -> dict[str, Any]:
        return self.gateway.stats()

    async def pid(self) -> int:
        return os.getpid()
