"""Exports the tape to a date-partitioned Parquet archive, incrementally.

Layout (hive partitioning, one wide table for every topic, see ``archive_schema``)::

    <archive>/_manifest.json   (a leading "_" keeps dataset readers off it)
    <archive>/date=2024-01-01/part-00000000000000000001.parquet
    <archive>/_replay/fills-<from>-<to>.pq, bars-<from>-<to>.pq   (see ``archive_replay``)

The partition is the UTC date of each event's ``ts_ns``; a file's name is the tape position of
its first row (zero-padded, so names sort in tape order); rows inside a file are in tape order.
The manifest remembers the last exported position, so the next run exports only newer events.
It is replaced atomically after the files are written: a file that a crashed run left behind
(not in the manifest) is removed by the next run before it writes, so no event is archived twice.
An archive written before the replay columns existed gets them on its next export (built from
its date partitions); until then replays read the date partitions.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from store import archive_replay
from store.archive_schema import ENCODED_COLUMNS, SCHEMA, RowBuilder
from store.tape import Tape

MANIFEST = "_manifest.json"
FORMAT = 1
PAGE = 20_000
ROWS_PER_FLUSH = 500_000
ROW_GROUP = 128 * 1024


class ArchiveError(Exception):
    """The archive does not belong to this tape, or its manifest cannot be read."""


@dataclass
class Manifest:
    last_position: int = 0
    events: int = 0
    first_event_id: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    replay: list[dict[str, Any]] = field(default_factory=list)
    """Parts of the replay columns (``archive_replay``); absent in archives written before."""

    def replay_complete(self) -> bool:
        """Whether the replay columns hold every archived fill and bar close."""
        return archive_replay.covers(self.replay, self.last_position)

    @classmethod
    def load(cls, root: Path) -> Manifest:
        path = root / MANIFEST
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ArchiveError(f"cannot read {path}: {exc}") from None
        if data.get("format") != FORMAT:
            raise ArchiveError(f"{path}: unknown archive format {data.get('format')!r}")
        return cls(
            last_position=int(data["last_position"]),
            events=int(data["events"]),
            first_event_id=data.get("first_event_id"),
            files=list(data["files"]),
            replay=list(data.get("replay", [])),
        )

    def save(self, root: Path) -> None:
        data = {
            "format": FORMAT,
            "last_position": self.last_position,
            "events": self.events,
            "first_event_id": self.first_event_id,
            "files": self.files,
            "replay": self.replay,
        }
        tmp = root / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(data, indent=1), "utf-8")
        os.replace(tmp, root / MANIFEST)


@dataclass(frozen=True)
class ExportResult:
    events: int
    files: list[str]
    last_position: int
    total_events: int


def _first_event_id(tape: Tape) -> str | None:
    rows = tape.raw_rows(0, 1)
    if not rows:
        return None
    import orjson

    from store.codec import split_chain

    return str(orjson.loads(split_chain(rows[0][4])[0]).get("event_id"))


def _archived_fill_keys(root: Path, manifest: Manifest) -> set[int]:
    if not manifest.files:
        return set()
    from store.archive_read import read_archive

    keys = read_archive(root, ["fill_key"]).column("fill_key").drop_null()
    return set(keys.to_numpy().tolist())


def _remove_orphans(root: Path, manifest: Manifest) -> None:
    known = {f["path"] for f in manifest.files}
    for path in root.glob("date=*/part-*.parquet"):
        if path.relative_to(root).as_posix() not in known:
            path.unlink()


def utc_dates(ts_ns: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` of each UTC nanosecond timestamp."""
    return ts_ns.astype("datetime64[ns]").astype("datetime64[D]").astype(str)


def _write(root: Path, table: pa.Table) -> list[dict[str, Any]]:
    """Write ``table`` (tape order) as one file per UTC date; returns the manifest entries."""
    ts = table.column("ts_ns").to_numpy(zero_copy_only=False)
    dates = utc_dates(ts)
    entries = []
    for date in sorted(set(dates.tolist())):
        rows = np.flatnonzero(dates == date)
        part = table.take(pa.array(rows)) if len(rows) != len(table) else table
        positions = part.column("position").to_numpy()
        rel = f"date={date}/part-{int(positions[0]):020d}.parquet"
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.tmp"
        pq.write_table(
            part,
            tmp,
            compression="zstd",
            row_group_size=ROW_GROUP,
            use_dictionary=list(ENCODED_COLUMNS),
            write_statistics=True,
        )
        os.replace(tmp, target)
        entries.append(
            {
                "path": rel,
                "rows": len(part),
                "first_position": int(positions[0]),
                "last_position": int(positions[-1]),
            }
        )
    return entries


def export_archive(
    tape: Tape, root: str | Path, *, rows_per_flush: int = ROWS_PER_FLUSH
) -> ExportResult:
    """Append every event after the manifest's last position to the archive at ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.load(root)
    first_id = _first_event_id(tape)
    if manifest.files and manifest.first_event_id != first_id:
        raise ArchiveError(f"{root} archives another tape (its first event differs)")
    stop = tape.max_position()
    if manifest.last_position > stop:
        raise ArchiveError(
            f"{root} already holds position {manifest.last_position}, past this tape's end {stop}"
        )
    _remove_orphans(root, manifest)
    manifest.replay = [p for p in manifest.replay if p["to"] <= manifest.last_position]
    archive_replay.remove_orphans(root, manifest.replay)
    manifest.first_event_id = first_id
    if not archive_replay.covers(manifest.replay, manifest.last_position):
        _build_replay(root, manifest)
    seen = _archived_fill_keys(root, manifest)
    was_enabled = gc.isenabled()
    gc.disable()  # parsed rows hold no cycles; the collector's scans would dominate
    try:
        return _export(tape, root, manifest, seen, stop, rows_per_flush)
    finally:
        if was_enabled:
            gc.enable()


def _export(
    tape: Tape, root: Path, manifest: Manifest, seen: set[int], stop: int, rows_per_flush: int
) -> ExportResult:
    written: list[str] = []
    exported = 0
    position = manifest.last_position
    builder = RowBuilder(seen)
    while position < stop:
        rows = tape.raw_rows(position, min(PAGE, stop - position))
        if not rows:
            break
        for pos, stream, version, topic, state in rows:
            if pos > stop:
                break
            builder.add(pos, stream, version, topic, state)
            position = pos
        if len(builder) >= rows_per_flush or position >= stop or len(rows) < PAGE:
            exported += _flush(root, builder, manifest, written)
            builder = RowBuilder(seen)
    if len(builder):
        exported += _flush(root, builder, manifest, written)
    return ExportResult(exported, written, manifest.last_position, manifest.events)


def _flush(root: Path, builder: RowBuilder, manifest: Manifest, written: list[str]) -> int:
    if not len(builder):
        return 0
    table = builder.table()
    entries = _write(root, table)
    after, to = manifest.last_position, builder.last_position
    manifest.replay, stale = archive_replay.append_part(root, manifest.replay, table, after, to)
    manifest.files.extend(entries)
    manifest.last_position = to
    manifest.events += len(table)
    manifest.save(root)
    for path in stale:
        path.unlink(missing_ok=True)
    written.extend(e["path"] for e in entries)
    return len(table)


def _build_replay(root: Path, manifest: Manifest) -> None:
    """Migration: the replay columns of everything archived so far, from the date partitions
    (an archive written before they existed, or whose replay files were lost). Files are read
    a batch at a time in tape order, so memory stays bounded whatever the archive's size."""
    wanted = (*archive_replay.FILL_COLUMNS, *archive_replay.BAR_COLUMNS, "repeat")
    columns = ["topic", *dict.fromkeys(c for c in wanted if c != "row")]
    old = {p[k] for p in manifest.replay for k in ("fills", "bars")}
    files = sorted(manifest.files, key=lambda f: f["first_position"])
    parts: list[dict[str, Any]] = []
    if archive_layout(root)[1]:  # disjoint files: each one continues the tape
        after, batch, rows = 0, [], 0
        for i, f in enumerate(files):
            batch.append(pq.read_table(root / f["path"], columns=columns, schema=SCHEMA))
            rows += batch[-1].num_rows
            if rows >= ROWS_PER_FLUSH or i == len(files) - 1:
                to = int(f["last_position"])
                parts, stale = archive_replay.append_part(
                    root, parts, pa.concat_tables(batch), after, to
                )
                for path in stale:
                    path.unlink(missing_ok=True)
                after, batch, rows = to, [], 0
    else:  # a run wrote two dates at once: sort the rows by position first
        from store.archive_read import read_archive

        table = read_archive(root, columns, topics=[archive_replay.FILL, archive_replay.BAR])
        plain = [
            f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
            for f in table.schema
        ]
        table = table.cast(pa.schema(plain))
        parts, _ = archive_replay.append_part(root, [], table, 0, manifest.last_position)
    manifest.replay = parts
    manifest.save(root)
    for rel in old - {p[k] for p in parts for k in ("fills", "bars")}:
        (root / rel).unlink(missing_ok=True)


def archive_files(root: str | Path) -> list[Path]:
    """The archive's data files, as the manifest lists them (tape order)."""
    return archive_layout(root)[0]


def archive_layout(root: str | Path) -> tuple[list[Path], bool]:
    """The data files by first position, and whether their position ranges are disjoint (then
    reading them in that order gives the rows in tape order)."""
    root = Path(root)
    files = sorted(Manifest.load(root).files, key=lambda f: f["first_position"])
    pairs = itertools.pairwise(files)
    disjoint = all(a["last_position"] < b["first_position"] for a, b in pairs)
    return [root / f["path"] for f in files], disjoint


__all__ = [
    "SCHEMA",
    "ArchiveError",
    "ExportResult",
    "Manifest",
    "archive_files",
    "archive_layout",
    "export_archive",
    "utc_dates",
]
