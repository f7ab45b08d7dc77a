"""A lean reader of the SQLite tape's global order, for replays and followers.

The eventsourcing recorder builds a ``Notification`` object per row and consults its
environment for every id; a replay of millions of rows wants plain tuples from one cursor.
This reads the same table (``stored_events``) through its own read-only connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

Row = tuple[int, str, int, str, bytes]


class SQLiteReader:
    def __init__(self, path: str, table: str = "stored_events") -> None:
        self.path = path
        self.table = table
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"file:{Path(self.path).resolve()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        return self._conn

    def select(
        self, after: int, limit: int, stop: int | None = None, topics: Sequence[str] = ()
    ) -> list[Row]:
        sql = f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.table} "
        sql += "WHERE rowid > ?"
        params: list[object] = [after]
        if stop is not None:
            sql += " AND rowid <= ?"
            params.append(stop)
        if topics:
            sql += f" AND topic IN ({','.join('?' * len(topics))})"
            params.extend(topics)
        sql += " ORDER BY rowid LIMIT ?"
        params.append(limit)
        return self._connection().execute(sql, params).fetchall()

    def max_rowid(self) -> int:
        """The last position on the tape (0 when empty): one lookup at the b-tree's end."""
        row = self._connection().execute(f"SELECT MAX(rowid) FROM {self.table}").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
