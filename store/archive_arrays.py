"""The archive's fills and bar closes as plain numpy arrays: the input of columnar replays.

Strings (venue, instrument, strategy, side) stay dictionary-encoded: each becomes integer codes
into a sorted tuple of names, so nothing is materialised per row. A fill recorded twice (same
``fill_key``, i.e. the same order and fill id) is kept once, at its first place. Quantities are
also given as exact integers (``units``) at each book's finest decimal scale when the archive's
``quantity_scale`` allows it, so positions that return to flat are exactly zero.

Two sources give the same arrays: the archive's replay columns (``store.archive_replay``: few
narrow files, the usual route) and the wide date partitions (an archive written before the
replay columns existed). ``read_market`` takes the first when it covers the whole archive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from store.archive import Manifest
from store.archive_read import read_archive
from store.archive_replay import BAR_COLUMNS, FILL_COLUMNS, read_part, shifted

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
    if int(scale.max()) > MAX_SCALE:
        return None
    width = MAX_SCALE + 1  # which (book, scale) pairs occur, then each book's largest scale
    seen = np.zeros((int(book.max()) + 1) * width, dtype=bool)
    seen[book * width + scale.astype(np.int64)] = True
    seen = seen.reshape(-1, width)
    finest = width - 1 - np.argmax(seen[:, ::-1], axis=1)
    x = signed * (10.0**finest)[book]
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


def _labels(*columns: pa.ChunkedArray) -> tuple[list[np.ndarray], tuple[str, ...]] | None:
    """Codes into the sorted union of the columns' dictionaries (None when a value is null).

    The replay columns' dictionaries hold only values their rows use (``archive_replay``
    writes them so), so every name of the union is used."""
    chunks = [chunk for column in columns for chunk in column.chunks]
    if any(c.null_count or not pa.types.is_dictionary(c.type) for c in chunks):
        return None
    dictionaries = [tuple(c.dictionary.to_pylist()) for c in chunks]
    names = tuple(sorted({n for d in dictionaries for n in d}))
    where = {n: i for i, n in enumerate(names)}
    out, k = [], 0
    for column in columns:
        parts = []
        for chunk in column.chunks:
            d, k = dictionaries[k], k + 1
            codes = chunk.indices.to_numpy()  # int32, as read: no copy
            lookup = np.array([where[n] for n in d], dtype=codes.dtype)
            parts.append(codes if d == names else lookup[codes])
        out.append(parts[0] if len(parts) == 1 else np.concatenate([np.zeros(0, np.int32), *parts]))
    return out, names


def _column(table: pa.Table, name: str) -> np.ndarray | None:
    column = table.column(name)
    if column.null_count:
        return None
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy()
    if not column.num_chunks:
        return np.zeros(0, dtype=column.type.to_pandas_dtype())
    return np.concatenate([c.to_numpy() for c in column.chunks])


def market_from_replay(fills: pa.Table, bars: pa.Table, repeats: int = 0) -> MarketArrays | None:
    """Market arrays from the replay columns (``store.archive_replay``): first-time fills and
    bar closes apart, each in tape order, and each row's place in their merged order (``row``).
    None if a value is missing (then the caller reads the date partitions)."""
    venue = _labels(fills.column("venue"), bars.column("venue"))
    instrument = _labels(fills.column("instrument"), bars.column("instrument"))
    strategy = _labels(fills.column("strategy"))
    side = _labels(fills.column("side"))
    f = {n: _column(fills, n) for n in ("row", "quantity", "price", "fee", "fill_ts_ns")}
    b = {n: _column(bars, n) for n in ("row", "close", "close_ts_ns")}
    scale = _column(fills, "quantity_scale")
    labels = (venue, instrument, strategy, side)
    if any(v is None for v in (*labels, *f.values(), *b.values(), scale)):
        return None
    (fill_venue, bar_venue), venues = venue  # type: ignore[misc]
    (fill_instrument, bar_instrument), instruments = instrument  # type: ignore[misc]
    (fill_strategy,), strategies = strategy  # type: ignore[misc]
    (side_codes,), side_names = side  # type: ignore[misc]
    fill_at, bar_at = f["row"], b["row"]
    sign_of = np.array([1.0 if s == "buy" else -1.0 for s in side_names] + [0.0])
    signed = f["quantity"] * sign_of[side_codes]
    n_i = max(len(instruments), 1)
    close_ts = b["close_ts_ns"]
    return MarketArrays(
        n=len(fill_at) + len(bar_at),  # type: ignore[arg-type]
        fill_rows=fill_at,
        bar_rows=bar_at,
        venues=venues,
        instruments=instruments,
        strategies=strategies,
        fill_strategy=fill_strategy,
        fill_venue=fill_venue,
        fill_instrument=fill_instrument,
        signed=signed,
        units=exact_units(signed, scale, fill_venue * n_i + fill_instrument),
        price=f["price"],  # type: ignore[arg-type]
        fee=f["fee"],  # type: ignore[arg-type]
        fill_ts_ns=f["fill_ts_ns"],  # type: ignore[arg-type]
        bar_venue=bar_venue,
        bar_instrument=bar_instrument,
        close=b["close"],  # type: ignore[arg-type]
        close_ts_ns=close_ts,  # type: ignore[arg-type]
        interval_ns=bar_interval(bar_venue * n_i + bar_instrument, close_ts),  # type: ignore[arg-type]
        duplicates=repeats,
    )


def read_replay_columns(root: str | Path) -> tuple[pa.Table, pa.Table, int] | None:
    """The archive's replay columns (fills, bars, repeated fills left out), or None when they
    do not cover the whole archive (an archive written before them: the next export adds them)."""
    root = Path(root)
    manifest = Manifest.load(root)
    if not manifest.files or not manifest.replay_complete():
        return None
    columns = [c for c in (*FILL_COLUMNS, *BAR_COLUMNS) if c != "position"]
    parts = [read_part(root, entry, columns) for entry in manifest.replay]
    repeats = sum(int(entry.get("repeats", 0)) for entry in manifest.replay)
    if len(parts) == 1:
        return parts[0][0], parts[0][1], repeats
    offsets = np.cumsum([0] + [e["fill_rows"] + e["bar_rows"] for e in manifest.replay])
    fills = pa.concat_tables([shifted(p[0], int(o)) for p, o in zip(parts, offsets, strict=False)])
    bars = pa.concat_tables([shifted(p[1], int(o)) for p, o in zip(parts, offsets, strict=False)])
    return fills, bars, repeats


def read_market(root: str | Path) -> MarketArrays:
    """Read only what a replay needs from the archive at ``root``: its replay columns when
    they cover it, else the date partitions."""
    columns = read_replay_columns(root)
    market = None if columns is None else market_from_replay(*columns)
    return market if market is not None else market_arrays(read_archive(root, COLUMNS))
