"""What every actor needs from the tape: appending to its own streams, and following the tape.

An actor is the single writer of its streams; ``StreamWriter`` knows each stream's next version
(read from the tape the first time, so a restarted actor continues where it left off).
``TapeFollower`` polls the tape for new events (SQLite has no push subscriptions).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from domain.events.base import Event, EventMeta
from store import ConcurrencyConflict, Recorded, Tape

Builder = Callable[[dict[str, Any]], Event]


def now_ns() -> int:
    return time.time_ns()


class StreamWriter:
    """Appends events to streams this actor owns, assigning versions."""

    def __init__(self, tape: Tape, source: str) -> None:
        self.tape = tape
        self.source = source
        self._heads: dict[str, int] = {}

    def head(self, stream: str) -> int:
        if stream not in self._heads:
            self._heads[stream] = self.tape.stream_head(stream)
        return self._heads[stream]

    def next_version(self, stream: str) -> int:
        return self.head(stream) + 1

    def meta(self, cause: Event | None = None, **fields: Any) -> EventMeta:
        """Stamped now, by this writer; with a ``cause``, what ``EventMeta.caused_by`` gives
        (built in one go: this is on every event's path)."""
        if cause is not None:
            fields["causation_id"] = cause.event_id
            fields["correlation_id"] = cause.correlation_id or fields.get("correlation_id")
            fields["traceparent"] = cause.traceparent or fields.get("traceparent")
        return EventMeta(ts_ns=now_ns(), source=self.source, **fields)

    def append(self, events: Sequence[Event]) -> list[int]:
        """Append events whose versions were taken from ``next_version``; heads move on success."""
        try:
            positions = self.tape.append(events)
        except ConcurrencyConflict:
            for e in events:
                self._heads.pop(e.stream, None)
            raise
        for e in events:
            self._heads[e.stream] = max(self._heads.get(e.stream, 0), e.version)
        return positions


class TapeFollower:
    """Reads new events after the last position seen, optionally only some topics."""

    def __init__(self, tape: Tape, topics: Sequence[str] = (), after: int = 0) -> None:
        self.tape = tape
        self.topics = tuple(topics)
        self.position = after

    def poll(self, limit: int = 5000, stop: int | None = None) -> list[Recorded]:
        page = self.tape.read(self.position, limit, self.topics, stop=stop)
        if page:
            self.position = page[-1].position
        return page

    def drain(
        self, apply: Callable[[Event], None], limit: int = 20_000, stop: int | None = None
    ) -> int:
        """Apply every new event up to ``stop`` (default: the tape's end now); returns how many.

        The position then stands at ``stop`` even when the last events were of other topics.
        """
        stop = self.tape.max_position() if stop is None else stop
        if stop <= self.position:
            return 0
        n = self.tape.replay(apply, after=self.position, stop=stop, topics=self.topics, batch=limit)
        self.position = stop
        return n

    def lag(self) -> int:
        return max(0, self.tape.max_position() - self.position)
