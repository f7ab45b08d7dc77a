"""The archive's fills and bar closes as plain numpy arrays: the input of columnar replays.

Strings (venue, instrument, strategy, side) stay dictionary-encoded: each becomes integer codes
into a sorted tuple of names, so nothing is materialised per row. A fill recorded twice (same
``fill_key``, i.e. the same order and fill id) is kept once, at its first place. Quantities are
also given as exact integers (``units``) at each book's finest decimal scale when the archive's
``quantity_scale`` allows it, so positions that return to flat are exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from store.archive_read import read_archive

NS = 1_000_000_000
FILL, BAR = "OrderFilled", "BarClosed"
COLUMNS = (
    "topic", "venue", "instrument", "strategy", "side", "quantity", "quantity_scale", "price",
    "fee", "fill_ts_ns", "fill_key", "close", "close_ts_ns", "interval_s",
)  # fmt: skip
MAX_SCALE = 15


@dataclass(frozen=True, slots=True)
class MarketArrays:
    """Fills (deduplicated) and bar closes, with their places in one merged tape order.

    ``fill_rows`` and ``bar_rows`` index that merged sequence (length ``n``); venue, instrument
    and strategy codes index ``venues``, ``instruments`` and ``strategies`` (sorted names)."""

    n: int
    fill_rows: np.ndarray
    bar_rows: np.ndarray
    venues: tuple[str, ...]
    instruments: tuple[str, ...]
    strategies: tuple[str, ...]
    fill_strategy: np.ndarray
    fill_venue: np.ndarray
    fill_instrument: np.ndarray
    signed: np.ndarray
    units: np.ndarray | None
    price: np.ndarray
    fee: np.ndarray
    fill_ts_ns: np.ndarray
    bar_venue: np.ndarray
    bar_instrument: np.ndarray
    close: np.ndarray
    close_ts_ns: np.ndarray
    interval_ns: int | None
    duplicates: int

    @property
    def book(self) -> np.ndarray:
        """Each fill's (venue, instrument) book as one integer code."""
        return self.fill_venue * max(len(self.instruments), 1) + self.fill_instrument


def dictionary_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes into the sorted distinct values of a string column (no nulls)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    if arr.null_count:
        raise ValueError("a label column has nulls")
    names = [str(n) for n in arr.dictionary.to_pylist()]
    codes = arr.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    order = sorted(range(len(names)), key=names.__getitem__)
    remap = np.empty(len(names), dtype=np.int64)
    remap[order] = np.arange(len(names))
    return (remap[codes] if len(names) else codes), tuple(names[i] for i in order)


def exact_units(
    signed: np.ndarray, scale: np.ndarray | None, book: np.ndarray
) -> np.ndarray | None:
    """Signed quantities as integers at each book's finest decimal scale, when that is exact."""
    if scale is None or len(signed) == 0 or bool(np.any(scale < 0)):
        return None
    finest = np.zeros(int(book.max()) + 1, dtype=np.int64)
    np.maximum.at(finest, book, scale.astype(np.int64))
    if int(finest.max()) > MAX_SCALE:
        return None
    x = signed * 10.0 ** finest[book]
    if float(np.abs(x).max()) >= 2.0**52:
        return None
    return np.rint(x).astype(np.int64)


def _f64(t: pa.Table, name: str) -> np.ndarray:
    return t.column(name).to_numpy().astype(np.float64, copy=False)


def _i64(t: pa.Table, name: str) -> np.ndarray:
    return t.column(name).to_numpy().astype(np.int64, copy=False)


def market_arrays(table: pa.Table) -> MarketArrays:
    """The fills and bar closes of an archive table in tape order (other topics are skipped)."""
    topic, topics = dictionary_codes(table.column("topic"))
    fill_code = topics.index(FILL) if FILL in topics else -1
    bar_code = topics.index(BAR) if BAR in topics else -1
    is_fill = topic == fill_code
    keep = is_fill | (topic == bar_code)
    rows = np.flatnonzero(is_fill)
    duplicates = 0
    if len(rows):
        keys = table.column("fill_key").to_numpy()[rows]
        unique, first = np.unique(keys, return_index=True)
        if len(unique) < len(rows):
            duplicates = len(rows) - len(unique)
            repeated = np.ones(len(rows), dtype=bool)
            repeated[first] = False
            keep[rows[repeated]] = False
    if not bool(keep.all()):
        table = table.filter(pa.array(keep))
        is_fill = is_fill[keep]
    rows, bar_rows = np.flatnonzero(is_fill), np.flatnonzero(~is_fill)
    venue, venues = dictionary_codes(table.column("venue"))
    instrument, instruments = dictionary_codes(table.column("instrument"))
    fills, bars = table.take(pa.array(rows)), table.take(pa.array(bar_rows))
    strategy, strategies = np.zeros(0, np.int64), ()
    signed = np.zeros(0)
    if len(fills):
        strategy, strategies = dictionary_codes(fills.column("strategy"))
        side, side_names = dictionary_codes(fills.column("side"))
        sign_of = np.array([1.0 if s == "buy" else -1.0 for s in side_names])
        signed = _f64(fills, "quantity") * sign_of[side]
    book = venue[rows] * max(len(instruments), 1) + instrument[rows]
    scale = None
    if "quantity_scale" in fills.column_names and fills.column("quantity_scale").null_count == 0:
        scale = _i64(fills, "quantity_scale")
    interval_ns = None
    if len(bars):
        values, counts = np.unique(_i64(bars, "interval_s"), return_counts=True)
        interval_ns = int(values[np.argmax(counts)]) * NS
    return MarketArrays(
        n=len(table),
        fill_rows=rows,
        bar_rows=bar_rows,
        venues=venues,
        instruments=instruments,
        strategies=strategies,
        fill_strategy=strategy,
        fill_venue=venue[rows],
        fill_instrument=instrument[rows],
        signed=signed,
        units=exact_units(signed, scale, book),
        price=_f64(fills, "price"),
        fee=_f64(fills, "fee"),
        fill_ts_ns=_i64(fills, "fill_ts_ns"),
        bar_venue=venue[bar_rows],
        bar_instrument=instrument[bar_rows],
        close=_f64(bars, "close"),
        close_ts_ns=_i64(bars, "close_ts_ns"),
        interval_ns=interval_ns,
        duplicates=duplicates,
    )


def read_market(root: str | Path) -> MarketArrays:
    """Read only what a replay needs from the archive at ``root``."""
    return market_arrays(read_archive(root, COLUMNS, topics=(FILL, BAR)))
