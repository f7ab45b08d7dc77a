"""Risk manager actor: turns signals into sized, approved (or rejected) order intents.

Thin shell: it keeps the ``domain.risk`` view current by following the tape, calls
``domain.risk.engine.decide``, appends the decision (durable before anything else happens), and
hands approvals to the router's choice of venue gateway. On (re)start it rebuilds the view from
the tape and decides any signal that was recorded but never decided, so a crash loses nothing;
a signal decided once is never decided again.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import ray

from actors.tape_access import StreamWriter, TapeFollower
from domain.events import (
    Event,
    OrderIntentApproved,
    OrderIntentRejected,
    OrderSubmitted,
    SignalReceived,
    decision_stream,
)
from domain.risk.config import RiskConfig
from domain.risk.engine import decide
from domain.risk.view import RiskView
from domain.routing import choose_venue
from store import open_tape

log = logging.getLogger("tapeline.risk")

VIEW_TOPICS = (
    "OrderIntentApproved",
    "OrderIntentRejected",
    "OrderSubmitted",
    "OrderAccepted",
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


@ray.remote(max_restarts=-1, max_task_retries=-1)
class RiskActor:
    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        tape_url: str,
        venues: list[str],
        default_venue: str,
        sources: list[str] | None = None,
        namespace: str | None = None,
    ) -> None:
        self.name = name
        self.config = RiskConfig.model_validate(config)
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, f"risk.{name}")
        self.stream = decision_stream(name)
        self.venues = venues
        self.default_venue = default_venue
        self.sources = set(sources) if sources is not None else None
        self.namespace = namespace
        self.view = RiskView(config=self.config)
        self.follower = TapeFollower(self.tape, VIEW_TOPICS)
        self.decided: set[UUID] = set()
        self.undecided: dict[UUID, SignalReceived] = {}
        self.unsubmitted: dict[UUID, OrderIntentApproved] = {}
        self.gateways: dict[str, Any] = {}
        self.counts = {"approved": 0, "rejected": 0}
        self._catch_up()

    # the view ------------------------------------------------------------------------------

    def _apply(self, event: Event) -> None:
        if isinstance(event, SignalReceived):
            if self._mine(event) and event.event_id not in self.decided:
                self.undecided[event.event_id] = event
            return
        if isinstance(event, OrderIntentApproved | OrderIntentRejected):
            if event.stream == self.stream and event.signal_event_id is not None:
                self.decided.add(event.signal_event_id)
                self.undecided.pop(event.signal_event_id, None)
            if isinstance(event, OrderIntentApproved) and event.stream == self.stream:
                self.unsubmitted[event.event_id] = event
        elif isinstance(event, OrderSubmitted):
            self.unsubmitted.pop(event.intent_event_id, None)
        self.view.apply(event)

    def _mine(self, event: SignalReceived) -> bool:
        return self.sources is None or event.signal.source in self.sources

    def _catch_up(self) -> None:
        self.follower.drain(self._apply)

    # decisions ---------------------------------------------------------------------------------

    async def on_signal(self, event: SignalReceived) -> str:
        """Decide one recorded signal; returns 'approved', 'rejected' or 'duplicate'."""
        self._catch_up()
        if event.event_id in self.decided:
            return "duplicate"
        outcome = await self._decide(event)
        await self.recover()
        return outcome

    async def recover(self) -> int:
        """Decide every recorded signal of ours that has no decision yet, and hand on every
        approval of ours that no gateway has recorded (the gateway refuses a second order)."""
        self._catch_up()
        n = 0
        while self.undecided:
            _, event = next(iter(self.undecided.items()))
            await self._decide(event)
            n += 1
        for approval in list(self.unsubmitted.values()):
            await self._submit(approval)
            n += 1
        self._catch_up()
        return n

    async def _decide(self, event: SignalReceived) -> str:
        if event.event_id in self.decided:
            return "duplicate"
        meta = self.writer.meta(event)
        decision = decide(
            event, self.view, self.config, meta, self.stream, self.writer.next_version(self.stream)
        )
        self.writer.append([decision])
        self._catch_up()  # our own decision, and anything else recorded meanwhile
        if isinstance(decision, OrderIntentRejected):
            self.counts["rejected"] += 1
            return "rejected"
        self.counts["approved"] += 1
        await self._submit(decision)
        return "approved"

    async def _submit(self, approval: OrderIntentApproved) -> None:
        venue = choose_venue(approval, self.venues, self.default_venue)
        await self._gateway(venue).submit.remote(approval)
        self.unsubmitted.pop(approval.event_id, None)

    def _gateway(self, venue: str) -> Any:
        handle = self.gateways.get(venue)
        if handle is None:
            handle = self.gateways[venue] = ray.get_actor(
                f"gateway.{venue}", namespace=self.namespace
            )
        return handle

    async def stats(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.counts,
            "state": str(self.view.state),
            "pending": len(self.view.pending),
            "lag": self.follower.lag(),
        }
