"""The Parquet archive: date partitions, incremental exports, typed columns, lossless re-import."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.replay_tape import session_events
from domain.events import Event
from domain.values import Side
from projections.default import default_bundle
from store import Tape, open_tape
from store.archive import ArchiveError, Manifest, archive_files, export_archive
from store.archive_read import import_archive, read_archive
from store.tape import verify_chain
from tests.projections.builders import SEC
from tests.projections.builders import Tape as Builder

DAY = 86_400 * SEC


@pytest.fixture
def events() -> list[Event]:
    return session_events(60, seed=2)


@pytest.fixture
def tape(tmp_path: Path) -> Tape:
    t = open_tape(f"sqlite:///{tmp_path}/tape.sqlite")
    yield t
    t.close()


def two_days() -> list[Event]:
    """Fills and bars on either side of a UTC midnight."""
    b = Builder(start_ns=1_704_153_600 * SEC - 3)  # 2024-01-01T23:59:59.999999997
    return [
        b.bar("100.5", open_ts_ns=0),
        b.filled("o1", "f1", Side.BUY, "0.25", "100.25", fee="0.01"),
        b.filled("o1", "f2", Side.BUY, "0.5", "100.5", fee="-0.002"),  # after midnight
        b.bar("101", open_ts_ns=60 * SEC),
    ]


def test_partitions_by_utc_date_with_files_named_by_first_position(
    tape: Tape, tmp_path: Path
) -> None:
    tape.append(two_days())
    result = export_archive(tape, tmp_path / "archive")
    assert result.events == 4 and result.last_position == 4
    assert sorted(result.files) == [
        "date=2024-01-01/part-00000000000000000001.parquet",
        "date=2024-01-02/part-00000000000000000003.parquet",
    ]
    meta = pq.ParquetFile(tmp_path / "archive" / result.files[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_rows_come_back_in_tape_order_when_clocks_straddle_midnight(
    tape: Tape, tmp_path: Path
) -> None:
    events = two_days()
    before, after = events[1].ts_ns, events[2].ts_ns
    # a writer whose clock lags: positions 2 and 4 are stamped before midnight, 3 after
    skewed = [
        events[0],
        events[1],
        events[2].model_copy(update={"ts_ns": after}),
        events[3].model_copy(update={"ts_ns": before}),
    ]
    tape.append(skewed)
    export_archive(tape, tmp_path / "a")
    assert read_archive(tmp_path / "a", ["fill_id"]).column_names == ["fill_id"]
    assert read_archive(tmp_path / "a")["position"].to_pylist() == [1, 2, 3, 4]
    assert read_archive(tmp_path / "a", ["topic"])["topic"].to_pylist() == [e.topic for e in skewed]


def test_typed_columns_keep_the_exact_decimals_and_the_event(tape: Tape, tmp_path: Path) -> None:
    tape.append(two_days())
    export_archive(tape, tmp_path / "a")
    rows = read_archive(tmp_path / "a").to_pylist()
    assert [r["position"] for r in rows] == [1, 2, 3, 4]
    bar, fill = rows[0], rows[1]
    assert (bar["topic"], bar["venue"], bar["instrument"]) == ("BarClosed", "paper", "BTC-USDT")
    assert (bar["close"], bar["close_dec"], bar["close_ts_ns"]) == (100.5, "100.5", 60 * SEC)
    assert fill["topic"] == "OrderFilled" and fill["side"] == "buy" and fill["strategy"] == "s1"
    assert (fill["quantity"], fill["quantity_dec"], fill["quantity_scale"]) == (0.25, "0.25", 2)
    assert (fill["price"], fill["price_dec"]) == (100.25, "100.25")
    assert (fill["fee"], fill["fee_dec"]) == (0.01, "0.01")
    assert rows[2]["fee_dec"] == "-0.002"
    assert fill["stream"] == "order.o1" and fill["version"] == 1
    assert json.loads(fill["event_json"])["fill_id"] == "f1"
    assert len(fill["chain_hash"]) == 64
    assert read_archive(tmp_path / "a", ["price"], topics=["OrderFilled"]).num_rows == 2


def test_a_second_run_exports_only_new_events(tape: Tape, tmp_path: Path) -> None:
    events = session_events(40, seed=4)
    half = len(events) // 2
    tape.append(events[:half])
    root = tmp_path / "archive"
    first = export_archive(tape, root)
    assert first.events == half
    assert export_archive(tape, root).events == 0
    tape.append(events[half:])
    second = export_archive(tape, root)
    assert second.events == len(events) - half
    assert second.total_events == len(events)
    positions = read_archive(root, ["position"]).column("position").to_pylist()
    assert positions == list(range(1, len(events) + 1))
    assert Manifest.load(root).last_position == len(events)


def test_a_fill_recorded_twice_is_flagged_even_across_runs(tape: Tape, tmp_path: Path) -> None:
    b = Builder()
    fill = b.filled("o1", "f1", Side.BUY, "1", "100")
    tape.append([fill])
    export_archive(tape, tmp_path / "a")
    again = b.filled("o1", "f1", Side.BUY, "1", "100")  # version 2, same order and fill id
    tape.append([again, b.filled("o1", "f2", Side.BUY, "1", "101")])
    export_archive(tape, tmp_path / "a")
    assert read_archive(tmp_path / "a", ["repeat"]).column("repeat").to_pylist() == [
        False,
        True,
        False,
    ]


def test_files_left_by_a_crashed_run_are_replaced_not_duplicated(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events)
    root = tmp_path / "archive"
    export_archive(tape, root)
    manifest = (root / "_manifest.json").read_text()
    export_archive(tape, root)  # nothing new
    # a run that wrote its files but died before its manifest: the files are orphans
    (root / "_manifest.json").write_text(
        json.dumps({**json.loads(manifest), "files": [], "last_position": 0, "events": 0})
    )
    export_archive(tape, root)
    assert read_archive(root, ["position"]).num_rows == len(events)
    assert len(archive_files(root)) == len(list(root.glob("date=*/*.parquet")))


def test_an_archive_of_another_tape_is_refused(tmp_path: Path, events: list[Event]) -> None:
    with open_tape(f"sqlite:///{tmp_path}/one.sqlite") as one:
        one.append(events[:10])
        export_archive(one, tmp_path / "a")
    with open_tape(f"sqlite:///{tmp_path}/two.sqlite") as two:
        two.append(events[5:15])
        with pytest.raises(ArchiveError):
            export_archive(two, tmp_path / "a")


def test_reimport_is_lossless_and_keeps_the_hash_chain(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events)
    export_archive(tape, tmp_path / "a")
    copy = open_tape("memory://")
    assert import_archive(tmp_path / "a", copy) == len(events)
    assert verify_chain(copy) == []
    archived = read_archive(tmp_path / "a", ["chain_hash"]).column("chain_hash").to_pylist()
    assert [r[4][-66:-2].decode() for r in copy.raw_rows(0, len(events))] == archived
    original = default_bundle(Decimal(1000)).fold(e.event for e in tape.iter_all())
    rebuilt = default_bundle(Decimal(1000)).fold(e.event for e in copy.iter_all())
    assert rebuilt.digests() == original.digests()


def test_the_archive_reads_in_pandas_polars_and_duckdb(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events)
    root = tmp_path / "archive"
    export_archive(tape, root)
    fills = sum(1 for e in events if e.topic == "OrderFilled")
    pd = pytest.importorskip("pandas")
    frame = pd.read_parquet(root, filters=[("topic", "==", "OrderFilled")])
    assert len(frame) == fills and frame["price"].dtype == "float64"
    pl = pytest.importorskip("polars")
    lazy = pl.scan_parquet(str(root / "**/*.parquet"), hive_partitioning=True)
    by_day = lazy.filter(pl.col("topic") == "OrderFilled").group_by("date").len().collect()
    assert int(by_day["len"].sum()) == fills
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true) "
        "WHERE topic = 'OrderFilled'"
    ).fetchall()
    assert rows == [(fills,)]
