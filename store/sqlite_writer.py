"""A lean writer of the SQLite tape: one ``BEGIN IMMEDIATE`` transaction per append.

Same table and columns as the eventsourcing recorder (``stored_events``, created by it), so
every reader sees one tape. Two things the recorder's ``insert_events`` cannot do: the chain
heads an append builds on are read *inside* the write transaction (no other writer can slip
an event in between), and the rows go in with one ``executemany``.

Durability: WAL journal and ``synchronous=FULL``, both set here explicitly. The WAL is synced
at every commit, so an append that returned survives a crash of the process, of the operating
system and a power loss.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from eventsourcing.persistence import StoredEvent

_TAIL = 128  # more than the end of a state that holds its chain hash: ,"_h":"<64 hex>"}
_KEYS_PER_QUERY = 400  # two parameters each, well under SQLite's limit


class SQLiteTransaction:
    """The open write transaction of one append."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        self._conn = conn
        self._table = table

    def tails(self, versions: Mapping[str, int]) -> dict[str, bytes]:
        """For each ``stream: version`` that is recorded, the end of its stored state."""
        found: dict[str, bytes] = {}
        keys = list(versions.items())
        for i in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[i : i + _KEYS_PER_QUERY]
            values = ",".join("(?,?)" for _ in chunk)
            sql = (
                f"WITH k(s, v) AS (VALUES {values}) SELECT e.originator_id, "
                f"substr(e.state, -{_TAIL}) FROM k JOIN {self._table} e "
                "ON e.originator_id = k.s AND e.originator_version = k.v"
            )
            params = [x for pair in chunk for x in pair]
            found.update(self._conn.execute(sql, params).fetchall())
        return found

    def insert(self, rows: Sequence[StoredEvent]) -> list[int]:
        """Insert ``rows``; their positions (rowids), in order.

        A rowid table without AUTOINCREMENT gives each new row ``max(rowid) + 1``; under the
        write lock nobody else inserts, so one append's rows get consecutive positions.
        """
        self._conn.executemany(
            f"INSERT INTO {self._table} "
            "(originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            [(r.originator_id, r.originator_version, r.topic, r.state) for r in rows],
        )
        (last,) = self._conn.execute("SELECT last_insert_rowid()").fetchone()
        return list(range(last - len(rows) + 1, last + 1))


class SQLiteWriter:
    def __init__(self, path: str, table: str = "stored_events", timeout: float = 30) -> None:
        self.path = path
        self.table = table
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=self.timeout
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._conn = conn
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTransaction]:
        """Commits when the block ends, rolls back when it raises (``sqlite3.IntegrityError``
        for a (stream, version) already recorded)."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteTransaction(conn, self.table)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
