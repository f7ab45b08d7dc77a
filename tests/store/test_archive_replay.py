"""The archive's replay columns: written with each export, merged into few files, built for an
archive written before they existed, never seen by pandas, Polars or DuckDB."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.replay_tape import session_events
from domain.events import Event
from domain.values import Side
from store import Tape, archive_replay, open_tape
from store import archive as store_archive
from store.archive import Manifest, export_archive
from store.archive_arrays import (
    COLUMNS,
    MarketArrays,
    market_arrays,
    read_market,
    read_replay_columns,
)
from store.archive_read import read_archive
from tests.projections.builders import SEC
from tests.projections.builders import Tape as Builder


@pytest.fixture
def tape(tmp_path: Path) -> Iterator[Tape]:
    t = open_tape(f"sqlite:///{tmp_path}/tape.sqlite")
    yield t
    t.close()


@pytest.fixture
def events() -> list[Event]:
    return session_events(120, seed=6)


def from_partitions(root: Path) -> MarketArrays:
    return market_arrays(read_archive(root, COLUMNS))


def assert_same(a: MarketArrays, b: MarketArrays) -> None:
    for name in MarketArrays.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x == y, name


def replay_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / archive_replay.FOLDER).iterdir())


def test_an_export_writes_replay_columns_covering_the_archive(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events)
    root = tmp_path / "archive"
    export_archive(tape, root)
    manifest = Manifest.load(root)
    assert manifest.replay_complete()
    [part] = manifest.replay
    fills = sum(1 for e in events if e.topic == "OrderFilled")
    bars = sum(1 for e in events if e.topic == "BarClosed")
    assert part["fill_rows"] + part["repeats"] == fills and part["bar_rows"] == bars
    assert part["repeats"] > 0
    assert replay_files(root) == [
        f"bars-{1:020d}-{len(events):020d}.pq",
        f"fills-{1:020d}-{len(events):020d}.pq",
    ]
    assert read_replay_columns(root) is not None
    assert_same(read_market(root), from_partitions(root))


def test_small_exports_merge_into_the_last_part(tape: Tape, tmp_path: Path) -> None:
    events = session_events(200, seed=8)
    root = tmp_path / "archive"
    cuts = [0, 50, 51, 300, len(events)]
    for a, b in itertools.pairwise(cuts):
        tape.append(events[a:b])
        export_archive(tape, root)
    manifest = Manifest.load(root)
    assert len(manifest.replay) == 1 and manifest.replay[0]["to"] == len(events)
    assert len(replay_files(root)) == 2  # the merged parts' old files are gone
    assert_same(read_market(root), from_partitions(root))


def test_several_parts_read_back_in_tape_order(
    tape: Tape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_replay, "PART_ROWS", 100)
    events = session_events(200, seed=9)
    root = tmp_path / "archive"
    for a in range(0, len(events), 80):
        tape.append(events[a : a + 80])
        export_archive(tape, root)
    manifest = Manifest.load(root)
    assert len(manifest.replay) > 2 and manifest.replay_complete()
    assert_same(read_market(root), from_partitions(root))


def test_an_archive_in_the_previous_layout_reads_and_is_migrated(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    half = len(events) // 2
    tape.append(events[:half])
    root = tmp_path / "archive"
    export_archive(tape, root)
    strip_replay(root)  # the previous layout: no replay files, no "replay" in the manifest
    assert read_replay_columns(root) is None
    assert_same(read_market(root), from_partitions(root))  # the date partitions serve
    tape.append(events[half:])
    export_archive(tape, root)  # builds the replay columns of the old rows, then appends
    assert Manifest.load(root).replay_complete()
    assert read_replay_columns(root) is not None
    assert_same(read_market(root), from_partitions(root))


def test_replay_files_of_a_crashed_run_are_removed(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events[:60])
    root = tmp_path / "archive"
    export_archive(tape, root)
    before = replay_files(root)
    (
        root / archive_replay.FOLDER / "fills-00000000000000000061-00000000000000000099.pq"
    ).write_bytes(b"left by a crash")
    (root / archive_replay.FOLDER / ".bars-00000000000000000061.pq.tmp").write_bytes(b"half")
    tape.append(events[60:])
    export_archive(tape, root)
    assert len(replay_files(root)) == len(before)
    assert_same(read_market(root), from_partitions(root))


def test_a_replay_file_lost_is_noticed_and_rebuilt(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events)
    root = tmp_path / "archive"
    export_archive(tape, root)
    manifest = Manifest.load(root)
    manifest.replay = []
    manifest.save(root)
    assert read_replay_columns(root) is None
    export_archive(tape, root)  # nothing new to export; the replay columns are rebuilt
    assert read_replay_columns(root) is not None
    assert_same(read_market(root), from_partitions(root))


def test_readers_of_the_date_partitions_do_not_see_the_replay_files(
    tape: Tape, tmp_path: Path, events: list[Event]
) -> None:
    tape.append(events)
    root = tmp_path / "archive"
    export_archive(tape, root)
    assert replay_files(root)
    pd = pytest.importorskip("pandas")
    assert len(pd.read_parquet(root, columns=["position"])) == len(events)
    pl = pytest.importorskip("polars")
    lazy = pl.scan_parquet(str(root / "**/*.parquet"), hive_partitioning=True)
    assert int(lazy.select(pl.len()).collect().item()) == len(events)
    duckdb = pytest.importorskip("duckdb")
    [(count,)] = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert count == len(events)


def strip_replay(root: Path) -> None:
    """Make ``root`` look like an archive written before the replay columns existed."""
    for path in (root / archive_replay.FOLDER).glob("*"):
        path.unlink()
    data = json.loads((root / "_manifest.json").read_text())
    del data["replay"]
    (root / "_manifest.json").write_text(json.dumps(data))


def test_migrating_many_files_goes_a_batch_at_a_time(
    tape: Tape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = session_events(150, seed=12)
    root = tmp_path / "archive"
    for a in range(0, len(events), 300):  # one file per export
        tape.append(events[a : a + 300])
        export_archive(tape, root)
    assert len(Manifest.load(root).files) > 5
    strip_replay(root)
    monkeypatch.setattr(store_archive, "ROWS_PER_FLUSH", 100)
    export_archive(tape, root)
    manifest = Manifest.load(root)
    assert manifest.replay_complete() and manifest.replay[-1]["to"] == len(events)
    assert len(replay_files(root)) == 2 * len(manifest.replay)
    assert_same(read_market(root), from_partitions(root))


def test_migrating_files_whose_positions_interleave(tape: Tape, tmp_path: Path) -> None:
    b = Builder(start_ns=1_704_153_600 * SEC - 3)  # 3 ns before a UTC midnight
    bar, fill, late = (
        b.bar("100", open_ts_ns=0),
        b.filled("o", "f", Side.BUY, "1", "100"),
        b.bar("101", open_ts_ns=60 * SEC),
    )
    # a writer whose clock lags: positions 1 and 3 fall on the first day, 2 on the second
    tape.append(
        [
            bar,
            fill.model_copy(update={"ts_ns": late.ts_ns}),
            late.model_copy(update={"ts_ns": bar.ts_ns}),
        ]
    )
    root = tmp_path / "archive"
    export_archive(tape, root)
    strip_replay(root)
    export_archive(tape, root)
    assert Manifest.load(root).replay_complete()
    market = read_market(root)
    assert market.fill_rows.tolist() == [1] and market.bar_rows.tolist() == [0, 2]
    assert_same(market, from_partitions(root))
