"""Answers "why did this happen?" and "what did we hold then?" from the tape.

``audit_chain`` follows the envelope's links from any event id, client order id, correlation id
or alert id to the signal that started it all, then down to every decision, order and fill it
led to, with timestamps and the latency of each step. A step's parent is the event named by its
``causation_id`` (or by ``intent_event_id`` / ``signal_event_id``); an order event recorded
without a cause (a fill reported by the venue) hangs under the previous event of its order.

``rebuild_as_of`` rebuilds every standard projection as it stood at an instant: the events
recorded at or before it (``ts_ns`` is record time), folded in tape order. Writers' clocks are
not the tape's order, so an event stamped before the instant may sit after one stamped later;
it is included all the same, and the result says how many such events there were.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.table import Table

from cluster.replay import ReplayResult
from domain.events import Event
from projections.default import default_bundle
from store import Recorded, Tape
from store.codec import decode_trusted, split_chain

SKIP_TOPICS = frozenset({"BarClosed", "ProjectionRecorded"})
_LINK_FIELDS = ("intent_event_id", "signal_event_id")


@dataclass(frozen=True)
class ChainStep:
    position: int
    depth: int
    event: Event
    parent_id: str | None
    latency_ns: int | None
    since_root_ns: int

    @property
    def topic(self) -> str:
        return self.event.topic


@dataclass(frozen=True)
class AuditChain:
    query: str
    root: Event
    steps: list[ChainStep] = field(default_factory=list)

    def topics(self) -> list[str]:
        return [s.topic for s in self.steps]


class _Index:
    """The tape's non-market events, by id, stream, client order id and correlation id."""

    def __init__(self, records: list[Recorded]) -> None:
        self.records = records
        self.by_id: dict[str, Recorded] = {}
        self.by_stream: dict[str, dict[int, Recorded]] = {}
        self.by_order: dict[str, list[Recorded]] = {}
        self.by_correlation: dict[str, list[Recorded]] = {}
        for rec in records:
            e = rec.event
            self.by_id[str(e.event_id)] = rec
            self.by_stream.setdefault(e.stream, {})[e.version] = rec
            coid = getattr(e, "client_order_id", None)
            if isinstance(coid, str):
                self.by_order.setdefault(coid, []).append(rec)
            if e.correlation_id:
                self.by_correlation.setdefault(e.correlation_id, []).append(rec)
            alert_id = getattr(getattr(e, "signal", None), "alert_id", None)
            if alert_id:  # the sender's own id of a webhook alert
                self.by_correlation.setdefault(alert_id, []).insert(0, rec)
        self.children: dict[str, list[Recorded]] = {}
        self.parents: dict[str, str] = {}
        for rec in records:
            parent = self._parent(rec.event)
            if parent is not None:
                self.parents[str(rec.event.event_id)] = parent
                self.children.setdefault(parent, []).append(rec)

    def _parent(self, e: Event) -> str | None:
        candidates = [e.causation_id, *(getattr(e, name, None) for name in _LINK_FIELDS)]
        for candidate in candidates:
            if candidate is not None and str(candidate) in self.by_id:
                return str(candidate)
        if e.stream.startswith("order.") and e.version > 1:
            previous = self.by_stream.get(e.stream, {}).get(e.version - 1)
            if previous is not None:
                return str(previous.event.event_id)
        return None

    def resolve(self, ident: str) -> Recorded:
        ident = ident.strip()
        if ident in self.by_id:
            return self.by_id[ident]
        orders = self.by_order.get(ident)
        if orders:
            intents = [r for r in orders if r.event.topic == "OrderIntentApproved"]
            return (intents or orders)[0]
        correlated = self.by_correlation.get(ident)
        if correlated:
            return correlated[0]
        if len(ident) >= 8:
            matches = [r for key, r in self.by_id.items() if key.startswith(ident.lower())]
            if len(matches) == 1:
                return matches[0]
        raise LookupError(f"no event, order or correlation id {ident!r} on the tape")


_KEY_FIELDS = ("client_order_id", "signal_event_id", "intent_event_id")
MAX_PASSES = 6


def _keys_of(e: Event) -> set[str]:
    """Every id through which another event can be linked to ``e``."""
    keys = {str(e.event_id)}
    for value in (e.correlation_id, e.causation_id, *(getattr(e, f, None) for f in _KEY_FIELDS)):
        if value is not None:
            keys.add(str(value))
    alert_id = getattr(getattr(e, "signal", None), "alert_id", None)
    if alert_id:
        keys.add(alert_id)
    return keys


def _linked(e: Event, keys: set[str], prefix: str | None) -> bool:
    if prefix is not None and str(e.event_id).startswith(prefix):
        return True
    return not _keys_of(e).isdisjoint(keys)


def _scan(tape: Tape, keys: set[str], prefix: str | None) -> list[Recorded]:
    """Events (but bars and checkpoints) linked to one of ``keys``: the raw rows are searched
    for the ids' bytes first, and only the rows that mention one are decoded."""
    pattern = re.compile(b"|".join(re.escape(k.encode()) for k in sorted(keys)))
    found = []
    position = 0
    while True:
        rows = tape.raw_rows(position, 20_000)
        if not rows:
            return found
        for pos, stream, version, topic, state in rows:
            if topic not in SKIP_TOPICS and pattern.search(state) is not None:
                event = decode_trusted(topic, stream, version, split_chain(state)[0])
                if _linked(event, keys, prefix):
                    found.append(Recorded(pos, event))
        position = rows[-1][0]


def _index(tape: Tape, ident: str) -> _Index:
    """The events linked to ``ident``, directly or through others (a few passes at most)."""
    keys = {ident}
    prefix = ident.lower() if len(ident) >= 8 else None
    found: dict[int, Recorded] = {}
    for _ in range(MAX_PASSES):
        for rec in _scan(tape, keys, prefix):
            found[rec.position] = rec
        more = set().union(*(_keys_of(r.event) for r in found.values())) - keys
        if not more:
            break
        keys |= more
        prefix = None
    return _Index(sorted(found.values(), key=lambda r: r.position))


def audit_chain(tape: Tape, ident: str) -> AuditChain:
    """The causal chain through ``ident``: from its originating signal to every fill."""
    ident = ident.strip()
    index = _index(tape, ident)
    target = index.resolve(ident)
    root = target
    seen = {str(root.event.event_id)}
    while (parent := index.parents.get(str(root.event.event_id))) is not None:
        if parent in seen:
            break
        seen.add(parent)
        root = index.by_id[parent]
    steps: list[ChainStep] = []
    included: set[str] = set()

    def visit(rec: Recorded, depth: int, parent: Recorded | None) -> None:
        key = str(rec.event.event_id)
        if key in included:
            return
        included.add(key)
        latency = None if parent is None else rec.event.ts_ns - parent.event.ts_ns
        steps.append(
            ChainStep(
                position=rec.position,
                depth=depth,
                event=rec.event,
                parent_id=None if parent is None else str(parent.event.event_id),
                latency_ns=latency,
                since_root_ns=rec.event.ts_ns - root.event.ts_ns,
            )
        )
        for child in sorted(index.children.get(key, []), key=lambda r: r.position):
            visit(child, depth + 1, rec)

    visit(root, 0, None)
    correlation = root.event.correlation_id
    for rec in index.by_correlation.get(correlation or "", []):
        if str(rec.event.event_id) not in included:
            visit(rec, 1, root)
    return AuditChain(query=ident, root=root.event, steps=steps)


# rendering -----------------------------------------------------------------------------------


def fmt_ts(ts_ns: int) -> str:
    """UTC time with microseconds, e.g. ``2024-01-01 00:01:00.000150``."""
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ns // 1000:06d}"


def fmt_latency(ns: int | None) -> str:
    if ns is None:
        return ""
    sign = "-" if ns < 0 else "+"
    ns = abs(ns)
    if ns < 1_000_000:
        return f"{sign}{ns / 1000:.0f} µs"
    if ns < 1_000_000_000:
        return f"{sign}{ns / 1e6:.2f} ms"
    return f"{sign}{ns / 1e9:.3f} s"


def summary(event: Event) -> str:
    """One line saying what the event records."""
    d: dict[str, Any] = event.payload()
    topic = event.topic
    if topic == "SignalReceived":
        s = d["signal"]
        return f"{s['source']}: {s['intent']} {s['instrument']} ({d.get('format')})"
    if topic == "OrderIntentRejected":
        return f"rejected by {d['rule']}: {d['reason']}"
    if topic in ("OrderIntentApproved", "OrderSubmitted"):
        venue = f" on {d['venue']}" if d.get("venue") else ""
        text = f"{d['side']} {d['quantity']} {d['instrument']}{venue} -> {d['client_order_id']}"
        return text + (f" limit {d['limit_price']}" if d.get("limit_price") else "")
    if topic == "OrderAccepted":
        return f"accepted as {d['venue_order_id']}"
    if topic == "OrderFilled":
        return (
            f"{d['side']} {d['quantity']} {d['instrument']} @ {d['price']} "
            f"fee {d['fee']} ({d['liquidity']}, fill {d['fill_id']})"
        )
    if "reason" in d:
        return str(d["reason"])
    return ", ".join(f"{k}={v}" for k, v in list(d.items())[:4])


def chain_table(chain: AuditChain) -> Table:
    table = Table(title=f"Causal chain of {chain.query}", show_lines=False)
    for name in ("position", "time (UTC)", "step", "since parent", "since start", "what"):
        table.add_column(name, justify="right" if name.startswith("since") else "left")
    for step in chain.steps:
        table.add_row(
            str(step.position),
            fmt_ts(step.event.ts_ns),
            "  " * step.depth + step.topic,
            fmt_latency(step.latency_ns),
            fmt_latency(step.since_root_ns) if step.depth else "",
            summary(step.event),
        )
    return table


# point in time -------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """UTC nanoseconds from an ISO 8601 time (``2024-01-01T12:00:00Z``; naive means UTC) or
    an integer count of nanoseconds since the epoch."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (ISO 8601, e.g. 2024-01-01T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    whole = int(moment.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + moment.microsecond * 1000


def rebuild_as_of(tape: Tape, starting_cash: Decimal, as_of_ns: int) -> ReplayResult:
    """Every standard projection as it stood at ``as_of_ns`` (events with ``ts_ns <= as_of``)."""
    bundle = default_bundle(starting_cash)
    apply = bundle.apply
    state = {"included": 0, "last": 0, "first_later": 0, "late": 0}
    was_enabled = gc.isenabled()
    gc.disable()  # decoded events hold no cycles (as in ``Tape.replay``)
    try:
        for rec in tape.iter_all(topics=sorted(bundle.topics), batch=20_000):
            event = rec.event
            if event.ts_ns <= as_of_ns:
                apply(event)
                state["included"] += 1
                state["last"] = rec.position
                if state["first_later"]:
                    state["late"] += 1
            elif not state["first_later"]:
                state["first_later"] = rec.position
    finally:
        if was_enabled:
            gc.enable()
    result = ReplayResult(bundle, state["included"], state["last"])
    result.notes.append(f"as of {fmt_ts(as_of_ns)} UTC: {state['included']} events folded")
    if state["late"]:
        result.notes.append(
            f"{state['late']} of them were recorded after position {state['first_later']}, "
            "whose event is stamped later than that instant (writers' clocks differ)"
        )
    return result
