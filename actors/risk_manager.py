"""The risk manager, plain (no Ray): what the risk actor does, testable in-process.

It follows the tape into the ``domain.risk`` view, decides each signal with the configuration
folded from the tape, appends the decision (durable before anything else happens) and hands
approvals to a venue gateway. After each fill or bar it folds it records what
``control.detect_breaches`` finds (a daily loss halts trading by itself), and it runs brackets:
exit orders for approvals carrying a stop loss or take profit, native on venues that hold them,
emulated here otherwise (a bar touching a level fires a reduce-only market exit, held back while
halted and sent on resume); the approval records which (``venues.registry.NATIVE_STOPS``, a
venue's ``brackets`` setting). Halt, resume, reduce-only and new
configurations are recorded here too; a halt that cancels asks the gateways to cancel.

On (re)start it rebuilds everything from the tape (from its latest snapshot plus the events
after it, see ``actors.risk_snapshot``), then finishes what a crash interrupted: signals recorded
but never decided, approvals never handed to a gateway, cancels asked but not done, bracket exits
due but not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any
from uuid import UUID

from actors import risk_snapshot
from actors.risk_actions import RiskActions
from actors.risk_batch import RECOVER_BATCH, Gateway, decide_in_order, hand_on, outcomes_of
from actors.risk_fold import VIEW_TOPICS, belongs
from actors.risk_fold import fold_profile as fold_profile  # where the CLI finds it
from actors.risk_snapshot import SNAPSHOT_EVERY
from actors.snapshot_budget import SaveBudget, due
from actors.tape_access import StreamWriter, TapeFollower
from domain.events import (
    BarClosed,
    Event,
    OrderFilled,
    OrderIntentApproved,
    OrderIntentRejected,
    OrderSubmitted,
    SignalReceived,
    TradingStateChanged,
    decision_stream,
)
from domain.risk import control
from domain.risk.brackets import BracketAction, BracketBook
from domain.risk.config import RiskConfig, TradingState
from domain.risk.engine import decide
from domain.risk.view import RiskView
from domain.routing import choose_venue
from store import ConcurrencyConflict, Tape

log = logging.getLogger("tapeline.risk")

APPEND_ATTEMPTS = 5


class RiskManager(RiskActions):
    def __init__(
        self,
        name: str,
        config: dict[str, Any] | RiskConfig,
        tape: Tape,
        venues: Sequence[str],
        default_venue: str,
        gateway_for: Callable[[str], Gateway],
        *,
        sources: Sequence[str] | None = None,
        apply_configured: bool = True,
        native_bracket_venues: Sequence[str] = (),
        snapshot_every: int | None = SNAPSHOT_EVERY,
    ) -> None:
        """``snapshot_every``: tape positions between snapshots of the folded state; None
        neither saves nor uses snapshots (a full fold)."""
        self.name = name
        self.tape = tape
        self.stream = decision_stream(name)
        self.writer = StreamWriter(tape, self.stream)
        self.venues = list(venues)
        self.default_venue = default_venue
        self.gateway_for = gateway_for
        self.sources = set(sources) if sources is not None else None
        self.view = RiskView()
        self.decided: set[UUID] = set()
        self.undecided: dict[UUID, SignalReceived] = {}
        self.unsubmitted: dict[UUID, OrderIntentApproved] = {}
        self.venue_of: dict[str, str] = {}
        self.to_cancel: dict[str, str] = {}
        """Open orders a halt asked to cancel and not yet asked of a gateway: id -> reason."""
        self.cancel_requested: dict[str, str] = {}
        """Every cancel a halt asked (as folded, whether asked of a gateway since or not)."""
        self.submitting: dict[UUID, OrderIntentApproved] = {}
        self.book = BracketBook(
            native_venues=frozenset(native_bracket_venues), default_venue=default_venue
        )
        self.parents: dict[str, OrderIntentApproved] = {}
        self.approved: set[str] = set()
        self.actions: list[BracketAction] = []
        """Bracket actions still to do; ``emitted`` keeps every one folded (for snapshots)."""
        self.emitted: list[BracketAction] = []
        self.awaiting: set[UUID] = set()
        """Recorded while folding (a breach found on a fill or bar): folded when the tape
        reaches them, so every event is folded in tape order, as a replay folds it."""
        self._folding = False
        self._held: Event | None = None
        self.counts = {"approved": 0, "rejected": 0, "breaches": 0, "bracket_orders": 0}
        self.snapshot_every = snapshot_every
        self.snapshot_budget = SaveBudget(clock=lambda: risk_snapshot.clock())
        self.snapshot_key = risk_snapshot.snapshot_key(
            self.stream, self.sources, native_bracket_venues
        )
        start = risk_snapshot.restore(self) if snapshot_every is not None else 0
        self.follower = TapeFollower(tape, VIEW_TOPICS, after=start)
        self.live = False
        self.replayed = self.sync()  # replay: fold history without reacting to it
        self.live = True
        self.restored_from = self._snapshot_at = start
        if snapshot_every is not None and self.follower.position - start >= snapshot_every:
            self.save_snapshot()  # a long rebuild is not repeated by the next restart
        configured = RiskConfig.model_validate(config)
        if apply_configured or self.view.config is None:
            self.apply_config(configured)
        self._detect(None)

    @property
    def config(self) -> RiskConfig:
        assert self.view.config is not None, "a RiskConfigApplied is recorded at start"
        return self.view.config

    # following the tape ------------------------------------------------------------------------

    def sync(self) -> int:
        """Fold every new event on the tape; returns how many were read."""
        n = self._drain()
        while self.awaiting:  # recorded during that fold: fold them (and what precedes them)
            n += self._drain()
        return n

    def _drain(self, stop: int | None = None) -> int:
        folding, self._folding = self._folding, True
        try:
            return self.follower.drain(self._fold, stop=stop)
        finally:
            self._folding = folding

    def _fold(self, event: Event) -> None:
        if not belongs(event, self.stream):
            return
        if isinstance(event, SignalReceived):
            if self._mine(event) and event.event_id not in self.decided:
                self.undecided[event.event_id] = event
            return
        ours = event.stream == self.stream
        if isinstance(event, OrderIntentApproved | OrderIntentRejected) and ours:
            if event.signal_event_id is not None:
                self.decided.add(event.signal_event_id)
                self.undecided.pop(event.signal_event_id, None)
            if isinstance(event, OrderIntentApproved):
                self.unsubmitted[event.event_id] = event
                self.approved.add(event.client_order_id)
                if event.stop_loss is not None or event.take_profit is not None:
                    self.parents[event.client_order_id] = event
        elif isinstance(event, OrderSubmitted):
            self.unsubmitted.pop(event.intent_event_id, None)
            self.venue_of[event.client_order_id] = event.venue
        self.view.apply(event)
        if isinstance(event, TradingStateChanged):
            for coid in event.cancel_client_order_ids:
                self.to_cancel[coid] = self.cancel_requested[coid] = event.reason
        actions = self.book.apply(event)
        if actions:
            self.actions += actions
            self.emitted += actions
        if self.live and isinstance(event, OrderFilled | BarClosed):
            if self.awaiting:
                self._held = event  # checked once our own breach is folded: never twice
            else:
                self._detect(event)
        if event.event_id in self.awaiting:
            self.awaiting.discard(event.event_id)
            if not self.awaiting and self._held is not None:
                held, self._held = self._held, None
                self._detect(held)

    def _mine(self, event: SignalReceived) -> bool:
        return self.sources is None or event.signal.source in self.sources

    def _record(self, build: Callable[[int], list[Event]]) -> list[Event]:
        """Append what ``build(next_version)`` returns and fold it, in tape order (what others
        recorded before it first); on a concurrent write to our stream (a control event from
        the CLI), catch up and build again."""
        for attempt in range(APPEND_ATTEMPTS):
            events = build(self.writer.next_version(self.stream))
            if not events:
                return []
            try:
                positions = self.writer.append(events)
            except ConcurrencyConflict:
                if attempt == APPEND_ATTEMPTS - 1:
                    raise
                self.sync()
                continue
            if self._folding or not positions:
                self.awaiting.update(e.event_id for e in events)
            else:
                if positions[0] - 1 > self.follower.position:
                    self._drain(stop=positions[0] - 1)
                for event in events:
                    self._fold(event)
                self.follower.position = max(self.follower.position, positions[-1])
            if self.awaiting and not self._folding:
                self.sync()
            return events
        return []  # pragma: no cover - the loop returns or raises

    def _detect(self, cause: Event | None) -> None:
        meta = self.writer.meta(cause)
        found = self._record(
            lambda v: control.detect_breaches(self.view, self.config, meta, self.stream, v)
        )
        if found:
            self.counts["breaches"] += 1
            last = found[-1]
            log.warning(
                "risk.limit_breached",
                extra={"profile": self.name, "state": getattr(last, "state", None)},
            )

    # decisions ---------------------------------------------------------------------------------

    async def on_signal(self, event: SignalReceived) -> str:
        """Decide one recorded signal; returns 'approved', 'rejected' or 'duplicate'."""
        self.sync()
        if event.event_id in self.decided:
            return "duplicate"
        meta = self.writer.meta(event)
        (decision,) = self._record(
            lambda v: [self.book.stamp(decide(event, self.view, self.config, meta, self.stream, v))]
        )
        approved = isinstance(decision, OrderIntentApproved)
        self.counts["approved" if approved else "rejected"] += 1
        if isinstance(decision, OrderIntentApproved):
            await self._submit(decision)
        await self.recover()
        return "approved" if approved else "rejected"

    async def on_signals(self, events: Sequence[SignalReceived]) -> list[str]:
        """Decide recorded signals in order with one tape append, hand the approvals on with one
        gateway call per venue; for each, what ``on_signal`` answers ('duplicate' for one decided
        already, or earlier in the batch). See ``actors.risk_batch`` for what each decision sees."""
        self.sync()
        return await self._decide_synced(events)

    async def on_recorded(self, signal_ids: Sequence[UUID]) -> list[str]:
        """``on_signals`` for signals named by event id: they are on the tape already (the
        ingress appends before it hands on), and the manager folds them from there anyway, so the
        events need not travel. A signal the tape does not hold, or of another manager's
        sources, is answered 'unknown'."""
        self.sync()
        found = [self.undecided.get(i) for i in signal_ids]
        answers = iter(await self._decide_synced([e for e in found if e is not None]))
        return [
            next(answers) if e is not None else "duplicate" if i in self.decided else "unknown"
            for i, e in zip(signal_ids, found, strict=True)
        ]

    async def _decide_synced(self, events: Sequence[SignalReceived]) -> list[str]:
        """Decide ``events`` on the view as synced, hand the approvals on, recover the rest."""
        decisions = self._decide_batch(events)
        await self._hand_on(decisions)
        await self.recover()
        return outcomes_of(events, decisions)

    async def recover(self) -> int:
        """Decide every recorded signal of ours with no decision yet (a batch per append), hand
        on every approval no gateway has recorded (a gateway refuses a second order), do the
        cancels and bracket orders still due. Returns how many things it did."""
        n = await self.step()
        done = 0
        while self.undecided:
            decisions = self._decide_batch(list(islice(self.undecided.values(), RECOVER_BATCH)))
            if not decisions:
                break  # pragma: no cover - a recorded decision always leaves ``undecided``
            done += len(decisions)
            await self._hand_on(decisions)
        done += await self._hand_on(  # not those a halt asked to cancel before they ever left
            [a for a in self.unsubmitted.values() if a.client_order_id not in self.to_cancel]
        )
        return n + done + (await self.step() if done else 0)

    def _decide_batch(self, events: Sequence[SignalReceived]) -> list[Event]:
        """Decide those of ``events`` not decided yet, in order, with one tape append."""

        def build(v: int) -> list[Event]:
            meta, stamp = self.writer.meta, self.book.stamp
            return decide_in_order(
                events, self.view, self.config, meta, self.stream, v, stamp, skip=self.decided
            )

        decisions = self._record(build)
        for decision in decisions:
            self.counts[
                "approved" if isinstance(decision, OrderIntentApproved) else "rejected"
            ] += 1
        return decisions

    async def _hand_on(self, decisions: Sequence[Event]) -> int:
        """Submit the approvals among ``decisions``, one ``submit_many`` per venue."""
        approvals = [d for d in decisions if isinstance(d, OrderIntentApproved)]
        if not approvals:
            return 0
        return await hand_on(
            approvals, self._venue, self.gateway_for, self.unsubmitted, self.submitting
        )

    def _venue(self, approval: OrderIntentApproved) -> str:
        return choose_venue(approval, self.venues, self.default_venue)

    async def step(self) -> int:
        """Catch up with the tape, then act on it: cancels and bracket orders. The market data
        feed calls this for every bar; the actor's poller calls it between bars."""
        self.sync()
        at, every = self._snapshot_at, self.snapshot_every
        if due(self.follower.position, at, every, self.snapshot_budget):
            self.save_snapshot()
        return await self._act()

    # control -------------------------------------------------------------------------------------

    async def change_state(
        self, state: TradingState, reason: str, cancel_open_orders: bool = False
    ) -> dict[str, Any]:
        """Halt, resume or reduce-only by hand; a halt may cancel every open order."""
        self.sync()
        meta = self.writer.meta()
        (event,) = self._record(
            lambda v: [
                control.change_state(
                    self.view,
                    state,
                    meta,
                    self.stream,
                    v,
                    reason=reason,
                    cancel_open_orders=cancel_open_orders,
                )
            ]
        )
        assert isinstance(event, TradingStateChanged)
        await self._act()
        return {
            "profile": self.name,
            "state": event.state.value,
            "previous": event.previous.value,
            "cancel_requested": list(event.cancel_client_order_ids),
        }

    def apply_config(self, config: dict[str, Any] | RiskConfig) -> str:
        """Record ``config`` when it differs from the current one; returns its digest."""
        new = RiskConfig.model_validate(config)
        digest = control.config_digest(new)
        self.sync()
        current = self.view.config
        if current is not None and control.config_digest(current) == digest:
            return digest
        meta = self.writer.meta()
        self._record(lambda v: [control.apply_config(new, meta, self.stream, v)])
        return digest

    # snapshots -----------------------------------------------------------------------------------

    def save_snapshot(self) -> int | None:
        """Save the folded state with the tape position it reflects; returns that position."""
        started = risk_snapshot.clock()
        position = risk_snapshot.save_from(self)
        self.snapshot_budget.spent(risk_snapshot.clock() - started)
        if position is not None:
            self._snapshot_at = position
        return position

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.counts,
            "state": self.view.state.value,
            "pending": len(self.view.pending),
            "daily_loss_limit": str(self.config.limits.daily_loss_limit),
            "config_digest": control.config_digest(self.config),
            "brackets": len(self.book.brackets),
            "lag": self.follower.lag(),
            "restored_from": self.restored_from,
            "replayed": self.replayed,
        }
