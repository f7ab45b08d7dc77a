"""The archive's replay columns: its fills and bar closes again, narrow and in few files.

The date partitions hold every topic in one wide table (about 60 columns), one file per day, so
a replay that needs a dozen columns of two topics would open a hundred small files and parse a
hundred wide footers. The archiver therefore also writes, per export, the rows a columnar
replay reads and nothing else, in tape order:

    <archive>/_replay/fills-<from>-<to>.pq   OrderFilled: position, strategy, venue, ...
    <archive>/_replay/bars-<from>-<to>.pq    BarClosed: position, venue, instrument, close, ...

``<from>``..``<to>`` is the range of tape positions the part covers (all topics). They are
ordinary Parquet files, a copy of archived values (no new fact): the leading ``_`` keeps
dataset readers (pyarrow, pandas) off them and the ``.pq`` suffix keeps ``**/*.parquet`` globs
(Polars, DuckDB) off them. A fill recorded twice (``repeat``) is left out and counted in the
manifest entry (``repeats``), as a replay counts it once. Labels are dictionary-encoded with
sorted dictionaries, so codes read back are already the replay's label codes. The files are not
compressed: a replay reads them whole, and decoding, not the disk, is what it waits for. A new
export merges its rows into the last part while that stays under ``PART_ROWS`` rows, so
frequent small exports do not leave many small files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FOLDER = "_replay"
FILL, BAR = "OrderFilled", "BarClosed"
FILL_COLUMNS = (
    "row", "position", "strategy", "venue", "instrument", "side", "quantity", "quantity_scale",
    "price", "fee", "fill_ts_ns",
)  # fmt: skip
BAR_COLUMNS = ("row", "position", "venue", "instrument", "close", "close_ts_ns")
"""``row``: the place of the row among the part's fills and bars (tape order), so a replay
merges the two without reading ``position``."""
LABELS = ("strategy", "venue", "instrument", "side")
PART_ROWS = 2_000_000
_DELTA = {c: "DELTA_BINARY_PACKED" for c in ("row", "position", "fill_ts_ns", "close_ts_ns")}


def split_topics(table: pa.Table) -> tuple[pa.Table, pa.Table, int]:
    """The first-time fills and the bar closes of a wide archive table in tape order (replay
    columns only, ``row`` numbering them together), and how many repeated fills were left out."""
    topic = table.column("topic")
    is_fill = np.asarray(pc.equal(topic, FILL).fill_null(False), dtype=bool)
    is_bar = np.asarray(pc.equal(topic, BAR).fill_null(False), dtype=bool)
    repeat = np.asarray(table.column("repeat").fill_null(False), dtype=bool) & is_fill
    repeats = int(repeat.sum())
    is_fill &= ~repeat
    row = np.cumsum(is_fill | is_bar) - 1
    fill_rows, bar_rows = np.flatnonzero(is_fill), np.flatnonzero(is_bar)
    fills = table.select(list(FILL_COLUMNS[1:])).take(fill_rows)
    bars = table.select(list(BAR_COLUMNS[1:])).take(bar_rows)
    fills = fills.add_column(0, "row", pa.array(row[fill_rows], pa.int64()))
    bars = bars.add_column(0, "row", pa.array(row[bar_rows], pa.int64()))
    return _sorted_labels(fills), _sorted_labels(bars), repeats


def shifted(table: pa.Table, offset: int) -> pa.Table:
    """``table`` with ``offset`` added to its ``row`` column (its first)."""
    row = pc.add(table.column("row"), pa.scalar(offset, pa.int64()))
    return table.set_column(0, "row", row)


def _sorted_labels(table: pa.Table) -> pa.Table:
    """Label columns as dictionary arrays whose dictionary is sorted (and holds used values)."""
    for name in LABELS:
        if name not in table.column_names:
            continue
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        encoded = pc.dictionary_encode(column.combine_chunks())
        names = encoded.dictionary.to_pylist()
        order = sorted(range(len(names)), key=names.__getitem__)
        remap = np.empty(len(names), dtype=np.int32)
        remap[order] = np.arange(len(names), dtype=np.int32)
        codes = encoded.indices
        if len(names):
            values = remap[codes.fill_null(0).to_numpy()]
            codes = pa.array(values, mask=codes.is_null().to_numpy(zero_copy_only=False))
        labels = pa.DictionaryArray.from_arrays(
            codes, pa.array([names[i] for i in order], pa.string())
        )
        table = table.set_column(table.column_names.index(name), name, labels)
    return table


def _write(table: pa.Table, target: Path) -> None:
    tmp = target.parent / f".{target.name}.tmp"
    pq.write_table(
        table,
        tmp,
        compression="none",  # a replay reads them whole: decoding, not disk, is the cost
        row_group_size=PART_ROWS,
        use_dictionary=[c for c in LABELS if c in table.column_names],
        column_encoding={c: e for c, e in _DELTA.items() if c in table.column_names},
        write_statistics=False,
    )
    os.replace(tmp, target)


def write_part(
    root: Path, fills: pa.Table, bars: pa.Table, after: int, to: int, repeats: int = 0
) -> dict[str, Any]:
    """Write one part covering tape positions ``after + 1 .. to``; returns its manifest entry."""
    folder = root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    span = f"{after + 1:020d}-{to:020d}"
    entry = {
        "fills": f"{FOLDER}/fills-{span}.pq",
        "bars": f"{FOLDER}/bars-{span}.pq",
        "after": after,
        "to": to,
        "fill_rows": fills.num_rows,
        "bar_rows": bars.num_rows,
        "repeats": repeats,
    }
    _write(fills, root / entry["fills"])
    _write(bars, root / entry["bars"])
    return entry


def read_part(
    root: Path, entry: dict[str, Any], columns: Sequence[str] | None = None, threads: bool = True
) -> tuple[pa.Table, pa.Table]:
    """A part's fills and bars (labels as dictionary arrays, one chunk per column), with
    ``columns`` (those each kind has) or all of them; with ``threads``, both files at once."""

    def read(kind: str) -> pa.Table:
        names = FILL_COLUMNS if kind == "fills" else BAR_COLUMNS
        wanted = [c for c in names if columns is None or c in columns]
        source = pq.ParquetFile(
            root / entry[kind], read_dictionary=[c for c in LABELS if c in wanted], memory_map=True
        )
        return source.read(wanted, use_threads=threads)

    if not threads:
        return read("fills"), read("bars")
    with ThreadPoolExecutor(max_workers=2) as pool:  # pyarrow reads without the GIL
        fills = pool.submit(read, "fills")
        return fills.result(), read("bars")


def append_part(
    root: Path, parts: list[dict[str, Any]], table: pa.Table, after: int, to: int
) -> tuple[list[dict[str, Any]], list[Path]]:
    """The parts after adding the wide rows ``table`` (positions ``after + 1 .. to``), merged
    into the last part while it stays under ``PART_ROWS`` rows, and the files the new manifest
    no longer lists (to delete once it is saved)."""
    fills, bars, repeats = split_topics(table)
    if parts and parts[-1]["to"] == after:
        last = parts[-1]
        if last["fill_rows"] + last["bar_rows"] + fills.num_rows + bars.num_rows <= PART_ROWS:
            old_fills, old_bars = (_plain(t) for t in read_part(root, last, threads=False))
            offset = last["fill_rows"] + last["bar_rows"]
            fills = _sorted_labels(pa.concat_tables([old_fills, _plain(shifted(fills, offset))]))
            bars = _sorted_labels(pa.concat_tables([old_bars, _plain(shifted(bars, offset))]))
            repeats += int(last.get("repeats", 0))
            entry = write_part(root, fills, bars, last["after"], to, repeats)
            return [*parts[:-1], entry], [root / last["fills"], root / last["bars"]]
    return [*parts, write_part(root, fills, bars, after, to, repeats)], []


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain strings (so that tables with other dictionaries concat)."""
    columns = [c.cast(pa.string()) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


def covers(parts: Sequence[dict[str, Any]], last_position: int) -> bool:
    """Whether ``parts`` cover positions 1 .. ``last_position`` without a gap."""
    end = 0
    for part in parts:
        if part["after"] != end:
            return False
        end = part["to"]
    return end == last_position


def remove_orphans(root: Path, parts: Sequence[dict[str, Any]]) -> None:
    """Delete what the manifest does not list from the replay folder (files and temporary
    files that a run which crashed left behind)."""
    known = {p[k] for p in parts for k in ("fills", "bars")}
    for path in (root / FOLDER).glob("*"):
        if path.is_file() and path.relative_to(root).as_posix() not in known:
            path.unlink()
