"""Reading bars from Parquet and CSV files: exact decimals, interval inference, bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.bars import Bar, bar_from_event, bar_to_event_fields
from domain.events import BarClosed, EventMeta
from store.bars_file import read_bars

T0 = 1_515_560_100_000  # ms
MS = 1_000_000

ROWS = {
    "ts_ms": [T0, T0 + 300_000, T0 + 900_000],  # one 5-minute bar missing
    "open": [0.1, 5.330000000000001e-05, 2.0],
    "high": [0.2, 5.4e-05, 2.5],
    "low": [0.05, 5.3e-05, 1.5],
    "close": [0.15, 5.35e-05, 2.25],
    "volume": [1820.54447418, 0.0, 3.0],
}


def write_parquet(path: Path, rows: dict[str, list[float]]) -> Path:
    pq.write_table(pa.table(rows), path)
    return path


def write_csv(path: Path, rows: dict[str, list[float]]) -> Path:
    cols = list(rows)
    lines = [",".join(cols)]
    lines += [",".join(repr(rows[c][i]) for c in cols) for i in range(len(rows["ts_ms"]))]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(params=["parquet", "csv"])
def bar_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "parquet":
        return write_parquet(tmp_path / "bars.parquet", ROWS)
    return write_csv(tmp_path / "bars.csv", ROWS)


def test_reads_exact_decimals_and_infers_the_interval(bar_file: Path) -> None:
    bars = read_bars(bar_file, "ADA-BTC")
    assert [b.open_ts_ns for b in bars] == [t * MS for t in ROWS["ts_ms"]]
    first, second, _ = bars
    assert first == Bar(
        "binance",
        "ADA-BTC",
        T0 * MS,
        300,
        Decimal("0.1"),
        Decimal("0.2"),
        Decimal("0.05"),
        Decimal("0.15"),
        Decimal("1820.54447418"),
    )
    assert second.open == Decimal("0.00005330000000000001")  # repr of the float, not its binary
    assert second.volume == 0


def test_explicit_interval_and_venue(bar_file: Path) -> None:
    bars = read_bars(bar_file, "ADA-BTC", venue="paper", interval_s=60)
    assert {(b.venue, b.interval_s) for b in bars} == {("paper", 60)}


def test_rows_are_sorted_by_time(tmp_path: Path) -> None:
    shuffled = {k: list(reversed(v)) for k, v in ROWS.items()}
    bars = read_bars(write_parquet(tmp_path / "b.parquet", shuffled), "ADA-BTC")
    assert [b.open_ts_ns for b in bars] == sorted(t * MS for t in ROWS["ts_ms"])
    assert bars[0].interval_s == 300


def test_duplicate_timestamps_are_refused(tmp_path: Path) -> None:
    dup = {k: [*v, v[-1]] for k, v in ROWS.items()}
    with pytest.raises(ValueError, match="duplicate"):
        read_bars(write_parquet(tmp_path / "b.parquet", dup), "ADA-BTC")


def test_inconsistent_bars_are_refused(tmp_path: Path) -> None:
    bad = {k: list(v) for k, v in ROWS.items()}
    bad["high"][0] = 0.01  # below the open
    with pytest.raises(ValueError, match="inconsistent OHLC"):
        read_bars(write_csv(tmp_path / "b.csv", bad), "ADA-BTC")


def test_missing_columns_and_unknown_types_are_refused(tmp_path: Path) -> None:
    partial = {k: v for k, v in ROWS.items() if k != "volume"}
    with pytest.raises(ValueError, match="lacks bar columns"):
        read_bars(write_parquet(tmp_path / "b.parquet", partial), "ADA-BTC")
    with pytest.raises(ValueError, match="lacks bar columns"):
        read_bars(write_csv(tmp_path / "b.csv", partial), "ADA-BTC")
    with pytest.raises(ValueError, match="unsupported"):
        read_bars(tmp_path / "b.json", "ADA-BTC")


def test_single_row_needs_an_explicit_interval(tmp_path: Path) -> None:
    one = {k: v[:1] for k, v in ROWS.items()}
    path = write_parquet(tmp_path / "b.parquet", one)
    with pytest.raises(ValueError, match="interval"):
        read_bars(path, "ADA-BTC")
    assert len(read_bars(path, "ADA-BTC", interval_s=300)) == 1


def test_bars_round_trip_through_the_event(bar_file: Path) -> None:
    for bar in read_bars(bar_file, "ADA-BTC"):
        meta = EventMeta(ts_ns=bar.close_ts_ns, source="test")
        event = BarClosed(**meta.envelope("bars.binance.ADA-BTC", 1), **bar_to_event_fields(bar))
        assert bar_from_event(event) == bar
        assert event.close_ts_ns == bar.close_ts_ns


@pytest.mark.parametrize(
    ("file", "rows", "interval_s"),
    [
        ("binance_ETH-BTC_5m.parquet", 5760, 300),
        ("binance_ADA-BTC_5m.parquet", 5720, 300),
        ("binance_XRP-ETH_1m.parquet", 2469, 60),
    ],
)
def test_reads_the_shared_market_data(
    shared_market_data: Path, file: str, rows: int, interval_s: int
) -> None:
    instrument = file.split("_")[1]
    bars = read_bars(shared_market_data / file, instrument)
    assert len(bars) == rows
    assert {b.interval_s for b in bars} == {interval_s}
    times = [b.open_ts_ns for b in bars]
    assert times == sorted(set(times))
    table = pq.read_table(shared_market_data / file)
    assert bars[100].close == Decimal(repr(table["close"][100].as_py()))
