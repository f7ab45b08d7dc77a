"""The archive's replay columns give the same market arrays, so the same projections, as the
wide date partitions, and the columnar replay over them still agrees with the Decimal folds."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings

from benchmarks.replay_tape import session_events
from domain.events import Event
from domain.values import Side
from projections.columnar import replay
from store.archive_arrays import MarketArrays, market_arrays, market_from_replay
from store.archive_replay import read_part, split_topics, write_part
from tests.projections.builders import Tape
from tests.projections.generators import trading_tapes
from tests.projections.test_columnar import CASH, archive_table, assert_same


def through_replay_files(events: list[Event]) -> MarketArrays:
    table = archive_table(events)
    fills, bars, repeats = split_topics(table)
    with tempfile.TemporaryDirectory() as tmp:
        entry = write_part(Path(tmp), fills, bars, 0, len(events), repeats)
        read_fills, read_bars = read_part(Path(tmp), entry)
    market = market_from_replay(read_fills, read_bars, repeats)
    assert market is not None
    return market


def assert_same_arrays(a: MarketArrays, b: MarketArrays) -> None:
    for name in MarketArrays.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert x is not None and y is not None, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x == y, name


def test_a_session_with_repeated_fills_gives_the_same_arrays() -> None:
    events = session_events(200, seed=3)
    market = through_replay_files(events)
    assert market.duplicates > 0 and len(market.venues) == 2
    assert_same_arrays(market, market_arrays(archive_table(events)))
    assert_same(events, replay(market, float(CASH)))


def test_a_fill_recorded_twice_is_left_out_and_counted() -> None:
    t = Tape()
    first = t.filled("o1", "f1", Side.BUY, "1", "100")
    events: list[Event] = [
        t.bar("100", open_ts_ns=0),
        first,
        t.filled("o1", "f1", Side.BUY, "1", "100"),  # the same execution again
        t.bar("101", open_ts_ns=60 * 10**9),
    ]
    fills, bars, repeats = split_topics(archive_table(events))
    assert (fills.num_rows, bars.num_rows, repeats) == (1, 2, 1)
    assert fills.column("row").to_pylist() == [1] and bars.column("row").to_pylist() == [0, 2]
    assert_same(events, replay(through_replay_files(events), float(CASH)))


def test_bars_only_and_no_market_rows() -> None:
    t = Tape()
    bars = [t.bar("100", open_ts_ns=k * 60 * 10**9) for k in range(3)]
    assert_same_arrays(through_replay_files(bars), market_arrays(archive_table(bars)))
    market = through_replay_files([])
    assert market.n == 0 and len(replay(market).positions) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trading_tapes)
def test_any_tape_gives_the_same_arrays_and_agrees_with_the_decimal_folds(
    events: list[Event],
) -> None:
    market = through_replay_files(events)
    assert_same_arrays(market, market_arrays(archive_table(events)))
    assert_same(events, replay(market, float(CASH)))
