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
    "fee", "fill_ts_ns", "repeat", "close", "close_ts_ns",
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
    """Integer codes into the sorted distinct values of a string column (nulls get code -1)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    names = [str(n) for n in arr.dictionary.to_pylist()]
    indices = arr.indices
    codes = indices.to_numpy() if not indices.null_count else _raw(indices)
    if indices.null_count:  # a null's slot holds any index: mark it -1
        codes = np.where(_bits(indices.buffers()[0], indices.offset, len(indices)), codes, -1)
    codes = codes.astype(np.int64, copy=False)
    order = sorted(range(len(names)), key=names.__getitem__)
    remap = np.full(len(names) + 1, -1, dtype=np.int64)  # the extra last slot maps -1 to -1
    remap[order] = np.arange(len(names))
    return remap[codes], tuple(names[i] for i in order)


def _compact(codes: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Keep only the names that ``codes`` use (still sorted), renumbered from 0."""
    if not len(names):
        return codes, names
    used = np.bincount(codes, minlength=len(names)) > 0
    if bool(used.all()):
        return codes, names
    renumber = np.cumsum(used) - 1
    return renumber[codes], tuple(n for n, u in zip(names, used.tolist(), strict=True) if u)


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


def _raw(arr: pa.Array) -> np.ndarray:
    """A primitive array's values buffer as numpy, nulls' slots included (no copy)."""
    dtype = np.dtype(arr.type.to_pandas_dtype())
    data = np.frombuffer(arr.buffers()[1], dtype=dtype, count=arr.offset + len(arr))
    return data[arr.offset :]


def _values(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as numpy without converting it: slots that are null hold whatever the
    buffer holds there, so only rows known to be set may be read."""
    column = table.column(name)
    arr = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return arr.to_numpy() if not arr.null_count else _raw(arr)


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    raw = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return raw[offset : offset + length].view(bool)


def _flags(table: pa.Table, name: str) -> np.ndarray:
    """A boolean column as numpy (null counts as false), straight from its bitmaps."""
    column = table.column(name)
    arr = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    values = _bits(arr.buffers()[1], arr.offset, len(arr))
    if arr.null_count:
        values = values & _bits(arr.buffers()[0], arr.offset, len(arr))
    return values


def _numbers(table: pa.Table, name: str, rows: np.ndarray, dtype: type) -> np.ndarray:
    return _values(table, name)[rows].astype(dtype, copy=False)


def market_arrays(table: pa.Table) -> MarketArrays:
    """The fills and bar closes of an archive table in tape order (other topics are skipped)."""
    topic, topics = dictionary_codes(table.column("topic"))
    is_fill = topic == (topics.index(FILL) if FILL in topics else -2)
    is_bar = topic == (topics.index(BAR) if BAR in topics else -2)
    rows = np.flatnonzero(is_fill)
    duplicates = 0
    if len(rows):
        first = ~_flags(table, "repeat")[rows]
        duplicates = int(len(rows) - first.sum())
        if duplicates:
            is_fill[rows[~first]] = False
            rows = rows[first]
    bar_rows = np.flatnonzero(is_bar)
    kept = is_fill | is_bar
    place = np.cumsum(kept) - 1  # row -> index in the merged fills-and-bars sequence
    merged = np.flatnonzero(kept)
    venue, venues = _compact(*_pick(dictionary_codes(table.column("venue")), merged))
    instrument, instruments = _compact(*_pick(dictionary_codes(table.column("instrument")), merged))
    fill_at, bar_at = place[rows], place[bar_rows]
    strategy, strategies = np.zeros(0, np.int64), ()
    signed = np.zeros(0)
    if len(rows):
        strategy, strategies = _compact(*_pick(dictionary_codes(table.column("strategy")), rows))
        side, side_names = _pick(dictionary_codes(table.column("side")), rows)
        sign_of = np.array([1.0 if s == "buy" else -1.0 for s in side_names] + [0.0])
        signed = _numbers(table, "quantity", rows, np.float64) * sign_of[side]
    n_i = max(len(instruments), 1)
    book = venue[fill_at] * n_i + instrument[fill_at]
    scale = None
    if "quantity_scale" in table.column_names:
        scale = _numbers(table, "quantity_scale", rows, np.int64)
    close_ts = _numbers(table, "close_ts_ns", bar_rows, np.int64)
    return MarketArrays(
        n=len(merged),
        fill_rows=fill_at,
        bar_rows=bar_at,
        venues=venues,
        instruments=instruments,
        strategies=strategies,
        fill_strategy=strategy,
        fill_venue=venue[fill_at],
        fill_instrument=instrument[fill_at],
        signed=signed,
        units=exact_units(signed, scale, book),
        price=_numbers(table, "price", rows, np.float64),
        fee=_numbers(table, "fee", rows, np.float64),
        fill_ts_ns=_numbers(table, "fill_ts_ns", rows, np.int64),
        bar_venue=venue[bar_at],
        bar_instrument=instrument[bar_at],
        close=_numbers(table, "close", bar_rows, np.float64),
        close_ts_ns=close_ts,
        interval_ns=bar_interval(venue[bar_at] * n_i + instrument[bar_at], close_ts),
        duplicates=duplicates,
    )


def _pick(
    coded: tuple[np.ndarray, tuple[str, ...]], rows: np.ndarray
) -> tuple[np.ndarray, tuple[str, ...]]:
    return coded[0][rows], coded[1]


def bar_interval(book: np.ndarray, close_ts: np.ndarray, sample: int = 10_000) -> int | None:
    """The usual spacing of one market's bar closes (its first ``sample`` bars), in ns."""
    if not len(book):
        return None
    steps = np.diff(close_ts[book == book[0]][:sample])
    steps = steps[steps > 0]
    if not len(steps):
        return None
    values, counts = np.unique(steps, return_counts=True)
    return int(values[np.argmax(counts)])


def read_market(root: str | Path) -> MarketArrays:
    """Read only what a replay needs from the archive at ``root``."""
    return market_arrays(read_archive(root, COLUMNS))
