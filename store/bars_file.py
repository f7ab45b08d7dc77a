"""Read OHLCV bars from Parquet or CSV files into domain ``Bar`` values.

The files follow the shared-data layout: columns ``ts_ms`` (bar open time, ms since epoch UTC),
``open``, ``high``, ``low``, ``close``, ``volume``. This module does the I/O with pyarrow; the
conversion (floats to ``Decimal`` via ``repr``, interval inference) is pure and lives in
``domain.bars``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from domain.bars import Bar, bars_from_columns, infer_interval_s

BAR_COLUMNS = ("ts_ms", "open", "high", "low", "close", "volume")


def read_bar_table(path: str | Path) -> pa.Table:
    """The bar columns of a Parquet or CSV file, sorted by ``ts_ms``, duplicates refused."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        present = set(pq.read_schema(path).names)
        table = pq.read_table(path, columns=[c for c in BAR_COLUMNS if c in present])
    elif name.endswith((".csv", ".csv.gz")):
        # Prices are read as strings so "0.1" becomes Decimal("0.1") with no float round trip.
        types = {"ts_ms": pa.int64(), **{c: pa.string() for c in BAR_COLUMNS[1:]}}
        options = pa_csv.ConvertOptions(column_types=types)
        table = pa_csv.read_csv(path, convert_options=options)
    else:
        raise ValueError(f"unsupported bar file type: {path.name} (want .parquet or .csv)")
    missing = [c for c in BAR_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"{path.name} lacks bar columns {missing}")
    table = table.select(list(BAR_COLUMNS))
    table = table.sort_by("ts_ms")
    if table.num_rows and pc.count_distinct(table["ts_ms"]).as_py() != table.num_rows:
        raise ValueError(f"{path.name} has duplicate bar timestamps")
    return table


def read_bars(
    path: str | Path,
    instrument: str,
    venue: str = "binance",
    interval_s: int | None = None,
) -> list[Bar]:
    """All bars in a file, oldest first. The interval is inferred from the data when not given."""
    table = read_bar_table(path)
    ts_ms: list[int] = table["ts_ms"].to_pylist()
    if interval_s is None:
        interval_s = infer_interval_s(ts_ms)
    return bars_from_columns(
        venue=venue,
        instrument=instrument,
        interval_s=interval_s,
        ts_ms=ts_ms,
        open=table["open"].to_pylist(),
        high=table["high"].to_pylist(),
        low=table["low"].to_pylist(),
        close=table["close"].to_pylist(),
        volume=table["volume"].to_pylist(),
    )
