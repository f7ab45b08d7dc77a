"""The tape: the single source of truth, on an ``eventsourcing`` application recorder.

One global order (notification ids, ``position`` here) and per-stream optimistic concurrency
(stream, version unique). An ``append`` is one transaction: all of its events are durable when
it returns, or none is. Readers follow the tape by position (polling: SQLite has no push).
On SQLite, appends and bulk reads use lean connections of their own on the recorder's table
(``sqlite_writer``, ``sqlite_reader``); the other backends go through the recorder.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)

from domain.events.base import Event
from store.codec import (
    GENESIS,
    RowDecoder,
    decode,
    decode_trusted,
    encode_chained,
    fields_decoder,
    split_chain,
)
from store.sqlite_reader import SQLiteReader
from store.sqlite_writer import SQLiteWriter


class ConcurrencyConflict(Exception):
    """Another writer already recorded one of these (stream, version) positions."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event with its position in the tape's global order."""

    position: int
    event: Event


Handler = Callable[[Any], object]


class RowFold(Protocol):
    """A fold that can take light views of the fields it reads (``projections.base``)."""

    def apply(self, event: Event) -> object: ...

    def row_route(self, topic: str) -> tuple[Sequence[str], tuple[Handler, ...]] | None: ...


class Tape:
    def __init__(
        self,
        factory: InfrastructureFactory,
        recorder: ApplicationRecorder,
        url: str,
        reader: SQLiteReader | None = None,
        writer: SQLiteWriter | None = None,
    ):
        self._factory = factory
        self._recorder = recorder
        self._reader = reader
        self._writer = writer
        self.url = url
        self._snapshot_recorder: Any = None
        self._chain: dict[str, str] = {}
        self._chain_version: dict[str, int] = {}

    # writing -------------------------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> list[int]:
        """Record events atomically; returns their positions. Raises ``ConcurrencyConflict``."""
        if not events:
            return []
        try:
            if self._writer is not None:
                with self._writer.transaction() as tx:  # chain heads read under the write lock
                    rows, heads = self._encode(events, tx.tails)
                    ids = tx.insert(rows)
            else:
                rows, heads = self._encode(events, self._recorded_tails)
                ids = list(self._recorder.insert_events(rows) or [])
        except (IntegrityError, sqlite3.IntegrityError) as exc:
            for e in events:
                self._chain.pop(e.stream, None)
            streams = sorted({f"{e.stream}@{e.version}" for e in events})[:5]
            raise ConcurrencyConflict(f"already recorded: {', '.join(streams)}") from exc
        for e in events:
            self._chain[e.stream] = heads[e.stream]
            self._chain_version[e.stream] = e.version
        return ids

    def _encode(
        self, events: Sequence[Event], tails: Callable[[dict[str, int]], Mapping[str, bytes]]
    ) -> tuple[list[StoredEvent], dict[str, str]]:
        """The rows, chained; ``heads`` ends as each stream's last hash. ``tails`` looks up the
        recorded events that streams not known here build on (one call for the whole append)."""
        heads: dict[str, str] = {}
        missing: dict[str, int] = {}
        for e in events:
            stream = e.stream
            if stream in heads or stream in missing:
                continue
            if e.version == 1:
                heads[stream] = GENESIS
            elif self._chain_version.get(stream) == e.version - 1 and stream in self._chain:
                heads[stream] = self._chain[stream]
            else:
                missing[stream] = e.version - 1
        if missing:
            found = tails(missing)
            for stream in missing:
                tail = found.get(stream)
                # no such event: a gap, which verification will name
                heads[stream] = (split_chain(tail)[1] if tail else None) or GENESIS
        rows = []
        for e in events:
            row, heads[e.stream] = encode_chained(e, heads[e.stream])
            rows.append(row)
        return rows, heads

    def _recorded_tails(self, versions: dict[str, int]) -> dict[str, bytes]:
        found = {}
        for stream, version in versions.items():
            rows = self._recorder.select_events(stream, gt=version - 1, lte=version)
            if rows:
                found[stream] = rows[0].state
        return found

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
        if self._reader is not None:  # a follower asks before every poll: keep it cheap
            return self._reader.max_rowid()
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
        apply: Callable[[Event], object] | RowFold,
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

        ``apply`` may also be a fold with ``row_route(topic)`` (a projection or a bundle, see
        ``projections.base``): topics it routes go to its handlers as light views holding just
        the fields they read (``codec.fields_decoder``), the rest to ``fold.apply`` as events.
        """
        stop = self.max_position() if stop is None else stop
        routed = hasattr(apply, "row_route")
        fold_rows = _routed(apply) if routed else _decoded(apply)  # type: ignore[arg-type]
        was_enabled = gc.isenabled()
        gc.disable()
        n = 0
        try:
            position = after
            while position < stop:
                rows = self._rows(position, batch, stop, topics)
                if not rows:
                    break
                fold_rows(rows)
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

    def save_snapshot(self, name: str, position: int, state: bytes, keep: int = 2) -> None:
        """Keep ``state`` (what ``name`` held after folding up to ``position``), and only the
        newest ``keep`` snapshots of ``name``. Snapshots are a cache beside the tape, never a
        fact: losing one only costs a longer replay."""
        with contextlib.suppress(IntegrityError):  # that position was saved already
            self._snapshots().insert_events([StoredEvent(name, position, "Snapshot", state)])
        self.prune_snapshots(name, keep)

    def prune_snapshots(self, name: str, keep: int = 2) -> int:
        """Delete all but the newest ``keep`` snapshots of ``name``; how many went. Snapshots
        grow with history, and only the newest is ever read (one more is kept in case the
        newest cannot be used). In-memory tapes keep theirs: they live as long as a test."""
        recorder = self._snapshots()
        rows = recorder.select_events(name, desc=True, limit=keep + 1)
        if len(rows) <= keep:
            return 0
        below = rows[keep - 1].originator_version if keep > 0 else rows[0].originator_version + 1
        table = getattr(recorder, "events_table_name", None)
        if table is None:
            return 0
        if hasattr(recorder.datastore, "schema"):  # PostgreSQL
            from psycopg.sql import SQL, Identifier

            statement = SQL(
                "DELETE FROM {schema}.{table} WHERE originator_id = %s AND originator_version < %s"
            ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(table))
            with recorder.datastore.transaction(commit=True) as curs:
                curs.execute(statement, (name, below))
                return int(curs.rowcount)
        with recorder.datastore.transaction(commit=True) as c:  # SQLite
            c.execute(
                f"DELETE FROM {table} WHERE originator_id = ? AND originator_version < ?",
                (name, below),
            )
            c.execute("SELECT changes()")
            return int(c.fetchone()[0])

    def latest_snapshot(self, name: str) -> tuple[int, bytes] | None:
        rows = self._snapshots().select_events(name, desc=True, limit=1)
        return (rows[0].originator_version, rows[0].state) if rows else None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._writer is not None:
            self._writer.close()
        self._factory.close()

    def __enter__(self) -> Tape:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Row = tuple[int, str, int, str, bytes]


def _decoded(apply: Callable[[Event], object]) -> Callable[[list[Row]], None]:
    def fold_rows(rows: list[Row]) -> None:
        for _, stream, version, topic, state in rows:
            apply(decode_trusted(topic, stream, version, state))

    return fold_rows


def _routed(fold: RowFold) -> Callable[[list[Row]], None]:
    """Rows to a fold's routes: light views to its handlers, whole events to ``fold.apply``."""
    apply = fold.apply
    routes: dict[str, tuple[RowDecoder, tuple[Handler, ...]]] = {}

    def route_for(topic: str) -> tuple[RowDecoder, tuple[Handler, ...]]:
        route = fold.row_route(topic)
        if route is None:  # whole events, through the fold's own dispatch
            routes[topic] = (partial(decode_trusted, topic), (apply,))
        else:  # no handlers: the fold ignores the topic, nothing to decode
            names, handlers = route
            routes[topic] = (fields_decoder(topic, names), handlers)
        return routes[topic]

    def fold_rows(rows: list[Row]) -> None:
        for _, stream, version, topic, state in rows:
            decoder, handlers = routes.get(topic) or route_for(topic)
            if handlers:
                view = decoder(stream, version, state)
                for handler in handlers:
                    handler(view)

    return fold_rows


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
