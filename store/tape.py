"""The tape: the single source of truth, on an ``eventsourcing`` application recorder.

One global order (notification ids, ``position`` here) and per-stream optimistic concurrency
(stream, version unique). An ``append`` is one transaction: all of its events are durable when
it returns, or none is. Readers follow the tape by position (polling: SQLite has no push).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, IntegrityError

from domain.events.base import Event
from store.codec import decode, decode_trusted, encode
from store.sqlite_reader import SQLiteReader


class ConcurrencyConflict(Exception):
    """Another writer already recorded one of these (stream, version) positions."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event with its position in the tape's global order."""

    position: int
    event: Event


class Tape:
    def __init__(
        self,
        factory: InfrastructureFactory,
        recorder: ApplicationRecorder,
        url: str,
        reader: SQLiteReader | None = None,
    ):
        self._factory = factory
        self._recorder = recorder
        self._reader = reader
        self.url = url

    # writing -------------------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[int]:
        """Record events atomically; returns their positions. Raises ``ConcurrencyConflict``."""
        if not events:
            return []
        try:
            ids = self._recorder.insert_events([encode(e) for e in events])
        except IntegrityError as exc:
            streams = sorted({f"{e.stream}@{e.version}" for e in events})[:5]
            raise ConcurrencyConflict(f"already recorded: {', '.join(streams)}") from exc
        return list(ids or [])

    # reading a stream ------------------------------------------------------------------------

    def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Event]:
        rows = self._recorder.select_events(stream, gt=after_version or None, limit=limit)
        return [decode(r.topic, stream, r.originator_version, r.state) for r in rows]

    def stream_head(self, stream: str) -> int:
        """The stream's last version, 0 when it has none."""
        rows = self._recorder.select_events(stream, desc=True, limit=1)
        return rows[0].originator_version if rows else 0

    # reading the global order ----------------------------------------------------------------

    def max_position(self) -> int:
        return self._recorder.max_notification_id() or 0

    def read(
        self,
        after: int = 0,
        limit: int = 1000,
        topics: Sequence[str] = (),
        *,
        stop: int | None = None,
        trusted: bool = True,
    ) -> list[Recorded]:
        """Events with positions greater than ``after`` (and at most ``stop``), in order."""
        dec = decode_trusted if trusted else decode
        if self._reader is not None:
            return [
                Recorded(pos, dec(topic, stream, version, state))
                for pos, stream, version, topic, state in self._reader.select(
                    after, limit, stop, topics
                )
            ]
        rows = self._recorder.select_notifications(
            after, limit, stop=stop, topics=topics, inclusive_of_start=False
        )
        return [
            Recorded(r.id, dec(r.topic, str(r.originator_id), r.originator_version, r.state))
            for r in rows
        ]

    def iter_all(
        self,
        after: int = 0,
        *,
        stop: int | None = None,
        topics: Sequence[str] = (),
        batch: int = 5000,
        trusted: bool = True,
    ) -> Iterator[Recorded]:
        """Every event after ``after`` up to ``stop`` (default: the tape's end when called)."""
        stop = self.max_position() if stop is None else stop
        position = after
        while position < stop:
            page = self.read(position, batch, topics, stop=stop, trusted=trusted)
            if not page:
                return
            yield from page
            position = page[-1].position

    def read_time_range(self, start_ns: int, end_ns: int, **kwargs: object) -> Iterator[Recorded]:
        """Events recorded in ``[start_ns, end_ns)``, in global order."""
        for rec in self.iter_all(**kwargs):  # type: ignore[arg-type]
            if start_ns <= rec.event.ts_ns < end_ns:
                yield rec

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._factory.close()

    def __enter__(self) -> Tape:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
