"""The tape: the single source of truth, on an ``eventsourcing`` application recorder.

One global order (notification ids, ``position`` here) and per-stream optimistic concurrency
(stream, version unique). An ``append`` is one transaction: all of its events are durable when
it returns, or none is. Readers follow the tape by position (polling: SQLite has no push).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)

from domain.events.base import Event
from store.codec import GENESIS, decode, decode_trusted, encode_chained, split_chain
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
        self._snapshot_recorder: Any = None
        self._chain: dict[str, str] = {}
        self._chain_version: dict[str, int] = {}

    # writing -------------------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[int]:
        """Record events atomically; returns their positions. Raises ``ConcurrencyConflict``."""
        if not events:
            return []
        heads: dict[str, str] = {}
        rows = []
        for e in events:
            prev = heads.get(e.stream) or self._chain_head(e.stream, e.version)
            row, heads[e.stream] = encode_chained(e, prev)
            rows.append(row)
        try:
            ids = self._recorder.insert_events(rows)
        except IntegrityError as exc:
            for stream in heads:
                self._chain.pop(stream, None)
            streams = sorted({f"{e.stream}@{e.version}" for e in events})[:5]
            raise ConcurrencyConflict(f"already recorded: {', '.join(streams)}") from exc
        for e in events:
            self._chain[e.stream] = heads[e.stream]
            self._chain_version[e.stream] = e.version
        return list(ids or [])

    def _chain_head(self, stream: str, version: int) -> str:
        """The chain hash of the event before ``version`` in ``stream``."""
        if version == 1:
            return GENESIS
        cached = self._chain.get(stream)
        if cached is not None and self._chain_version.get(stream) == version - 1:
            return cached
        rows = self._recorder.select_events(stream, gt=version - 2, lte=version - 1)
        if not rows:
            return GENESIS  # a gap: verification will name it
        return split_chain(rows[0].state)[1] or GENESIS

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

    def raw_rows(self, after: int, limit: int) -> list[tuple[int, str, int, str, bytes]]:
        """Undecoded rows ``(position, stream, version, topic, state)``, for integrity checks."""
        if self._reader is not None:
            return self._reader.select(after, limit)
        rows = self._recorder.select_notifications(after, limit, inclusive_of_start=False)
        return [(r.id, str(r.originator_id), r.originator_version, r.topic, r.state) for r in rows]

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

    def replay(
        self,
        apply: Callable[[Event], object],
        *,
        after: int = 0,
        stop: int | None = None,
        topics: Sequence[str] = (),
        batch: int = 20_000,
    ) -> int:
        """Fold every event after ``after`` up to ``stop`` into ``apply``; returns how many.

        The bulk path for rebuilding read models: rows are decoded straight into events and
        handed on, and the cyclic garbage collector is paused meanwhile (decoded events hold
        no cycles, and its full scans would otherwise dominate a long replay).
        """
        stop = self.max_position() if stop is None else stop
        was_enabled = gc.isenabled()
        gc.disable()
        n = 0
        try:
            position = after
            while position < stop:
                rows = self._rows(position, batch, stop, topics)
                if not rows:
                    break
                for _, stream, version, topic, state in rows:
                    apply(decode_trusted(topic, stream, version, state))
                n += len(rows)
                position = rows[-1][0]
        finally:
            if was_enabled:
                gc.enable()
        return n

    def _rows(
        self, after: int, limit: int, stop: int | None, topics: Sequence[str]
    ) -> list[tuple[int, str, int, str, bytes]]:
        if self._reader is not None:
            return self._reader.select(after, limit, stop, topics)
        rows = self._recorder.select_notifications(
            after, limit, stop=stop, topics=topics, inclusive_of_start=False
        )
        return [(r.id, str(r.originator_id), r.originator_version, r.topic, r.state) for r in rows]

    def read_time_range(self, start_ns: int, end_ns: int, **kwargs: object) -> Iterator[Recorded]:
        """Events recorded in ``[start_ns, end_ns)``, in global order."""
        for rec in self.iter_all(**kwargs):  # type: ignore[arg-type]
            if start_ns <= rec.event.ts_ns < end_ns:
                yield rec

    # snapshots ---------------------------------------------------------------------------------

    def _snapshots(self) -> Any:
        if self._snapshot_recorder is None:
            self._snapshot_recorder = self._factory.aggregate_recorder("snapshots")
        return self._snapshot_recorder

    def save_snapshot(self, name: str, position: int, state: bytes) -> None:
        """Keep ``state`` (what ``name`` held after folding up to ``position``). Snapshots are a
        cache beside the tape, never a fact: losing one only costs a longer replay."""
        with contextlib.suppress(IntegrityError):  # that position was saved already
            self._snapshots().insert_events([StoredEvent(name, position, "Snapshot", state)])

    def latest_snapshot(self, name: str) -> tuple[int, bytes] | None:
        rows = self._snapshots().select_events(name, desc=True, limit=1)
        return (rows[0].originator_version, rows[0].state) if rows else None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._factory.close()

    def __enter__(self) -> Tape:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verify_chain(tape: Tape) -> list[str]:
    """Recompute every stream's hash chain in tape order; name the first broken link of each."""
    from store.codec import link

    heads: dict[str, tuple[int, str]] = {}
    broken: dict[str, str] = {}
    position = 0
    while True:
        rows = tape.raw_rows(position, 10_000)
        if not rows:
            break
        for pos, stream, version, topic, state in rows:
            position = pos
            if stream in broken:
                continue
            body, stored = split_chain(state)
            last_version, prev = heads.get(stream, (0, GENESIS))
            if stored is None:
                broken[stream] = f"stream {stream} version {version} (position {pos}) has no hash"
                continue
            if version != last_version + 1 or link(prev, stream, version, topic, body) != stored:
                broken[stream] = (
                    f"stream {stream}: first broken link at version {version} (position {pos})"
                )
                continue
            heads[stream] = (version, stored)
    return list(broken.values())
