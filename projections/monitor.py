"""Operational counts and hop latencies, folded from the tape (what the Ray metrics show).

Signals by source, decisions by outcome and rule, orders and venue errors by venue, fills by
venue and instrument, and the latency of each hop (cause to consequence, by the events' own
timestamps). Latency samples queue up until a publisher takes them.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any, ClassVar

from domain.events import (
    BarClosed,
    Event,
    OrderAccepted,
    OrderFilled,
    OrderIntentApproved,
    OrderIntentRejected,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    SignalReceived,
    SignalRefused,
)

COUNTED = (
    "SignalReceived",
    "SignalRefused",
    "OrderIntentApproved",
    "OrderIntentRejected",
    "OrderSubmitted",
    "OrderAccepted",
    "OrderRejected",
    "OrderStatusUnknown",
    "OrderFilled",
    "OrderCanceled",
    "CircuitOpened",
    "CircuitHalfOpened",
    "CircuitClosed",
    "BarClosed",
    "OrderDiscovered",
    "PositionDiscrepancy",
    "BalanceDiscrepancy",
)
RECONCILIATION = frozenset({"OrderDiscovered", "PositionDiscrepancy", "BalanceDiscrepancy"})


class MonitorProjection:
    name: ClassVar[str] = "monitor"
    topics: ClassVar[frozenset[str]] = frozenset(COUNTED)

    def __init__(self, memory: int = 50_000) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.latencies: list[tuple[str, float]] = []
        self._recent: OrderedDict[Any, tuple[str, int]] = OrderedDict()
        self._memory = memory
        self._venue_of: dict[str, str] = {}
        self.rejections_in_a_row: dict[str, int] = {}
        self.open_circuits: set[str] = set()
        self.last_bar_ns: dict[str, int] = {}

    def apply(self, event: Event) -> None:
        topic = type(event).__name__
        if isinstance(event, SignalReceived):
            self.counts[("signals", event.signal.source, "accepted")] += 1
        elif isinstance(event, SignalRefused):
            self.counts[("signals", event.source, "refused")] += 1
        elif isinstance(event, OrderIntentApproved):
            self.counts[("decisions", "approved", "")] += 1
            self.rejections_in_a_row[event.strategy] = 0
            self.rejections_in_a_row["total"] = 0
        elif isinstance(event, OrderIntentRejected):
            self.counts[("decisions", "rejected", event.rule)] += 1
            n = self.rejections_in_a_row.get(event.strategy, 0) + 1
            self.rejections_in_a_row[event.strategy] = n
            self.rejections_in_a_row["total"] = self.rejections_in_a_row.get("total", 0) + 1
        elif isinstance(event, OrderSubmitted):
            self._venue_of[event.client_order_id] = event.venue
            self.counts[("orders", event.venue, "submitted")] += 1
        elif isinstance(event, OrderAccepted | OrderRejected | OrderStatusUnknown):
            venue = self._venue_of.get(event.client_order_id, "?")
            outcome = {
                "OrderAccepted": "accepted",
                "OrderRejected": "rejected",
                "OrderStatusUnknown": "unknown",
            }[topic]
            self.counts[("orders", venue, outcome)] += 1
            if outcome != "accepted":
                self.counts[("venue_errors", venue, outcome)] += 1
        elif isinstance(event, OrderFilled):
            self.counts[("fills", event.venue, event.instrument)] += 1
        elif isinstance(event, BarClosed):
            self.last_bar_ns[event.instrument] = event.ts_ns
            return  # bars are not hops of a signal
        elif topic.startswith("Circuit"):
            venue = getattr(event, "venue", "?")
            self.counts[("circuit", venue, topic)] += 1
            if topic == "CircuitOpened":
                self.open_circuits.add(venue)
            elif topic == "CircuitClosed":
                self.open_circuits.discard(venue)
        elif topic in RECONCILIATION:  # the venue knew something the tape did not
            self.counts[("reconciliation", getattr(event, "venue", "?"), topic)] += 1
        cause = self._recent.get(event.causation_id) if event.causation_id else None
        if cause is not None:
            self.latencies.append((f"{cause[0]}->{topic}", (event.ts_ns - cause[1]) / 1e6))
        self._recent[event.event_id] = (topic, event.ts_ns)
        if len(self._recent) > self._memory:
            self._recent.popitem(last=False)

    def take_latencies(self) -> list[tuple[str, float]]:
        out, self.latencies = self.latencies, []
        return out

    def state(self) -> dict[str, Any]:
        return {"|".join(k): v for k, v in sorted(self.counts.items())}
