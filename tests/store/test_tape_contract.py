"""The tape's contract, run against in-memory, SQLite and PostgreSQL backends alike."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.events import BarClosed, EventMeta, OrderCanceled, bar_stream, order_stream
from store import ConcurrencyConflict, Tape


def bar(version: int, ts_ns: int = 1_000, instrument: str = "BTC-USDT", close: str = "101.5"):
    stream = bar_stream("paper", instrument)
    return BarClosed(
        **EventMeta(ts_ns=ts_ns, source="test").envelope(stream, version),
        venue="paper",
        instrument=instrument,
        open_ts_ns=version * 60_000_000_000,
        interval_s=60,
        open=Decimal("100"),
        high=Decimal("102"),
        low=Decimal("99.5"),
        close=Decimal(close),
        volume=Decimal("12.25"),
    )


def test_append_returns_increasing_positions_and_reads_back_equal(tape: Tape) -> None:
    events = [bar(v) for v in range(1, 6)]
    positions = tape.append(events)
    assert positions == sorted(positions) and len(set(positions)) == 5
    assert tape.max_position() == positions[-1]
    assert tape.read_stream(events[0].stream) == events
    assert [r.event for r in tape.read(0, 100)] == events
    assert [r.event for r in tape.read(0, 100, trusted=False)] == events


def test_stream_head_and_read_after_version(tape: Tape) -> None:
    stream = bar_stream("paper", "BTC-USDT")
    assert tape.stream_head(stream) == 0
    tape.append([bar(v) for v in range(1, 4)])
    assert tape.stream_head(stream) == 3
    assert [e.version for e in tape.read_stream(stream, after_version=1)] == [2, 3]


def test_conflicting_batch_is_refused_whole(tape: Tape) -> None:
    tape.append([bar(1), bar(2)])
    other = bar(1, instrument="ETH-USDT")
    with pytest.raises(ConcurrencyConflict):
        tape.append([other, bar(2, close="999")])
    assert tape.read_stream(other.stream) == []
    assert tape.read_stream(bar(1).stream)[1].close == Decimal("101.5")


def test_global_order_spans_streams_and_filters_by_topic(tape: Tape) -> None:
    cancel = OrderCanceled(
        **EventMeta(ts_ns=5, source="test").envelope(order_stream("abc"), 1),
        client_order_id="abc",
    )
    tape.append([bar(1)])
    tape.append([cancel])
    tape.append([bar(2)])
    assert [type(r.event).__name__ for r in tape.iter_all()] == [
        "BarClosed",
        "OrderCanceled",
        "BarClosed",
    ]
    only = list(tape.iter_all(topics=["OrderCanceled"]))
    assert [r.event for r in only] == [cancel]
    first = tape.read(0, 1)[0].position
    assert [r.event.version for r in tape.iter_all(after=first, topics=["BarClosed"])] == [2]


def test_iter_all_pages_through_everything(tape: Tape) -> None:
    tape.append([bar(v) for v in range(1, 26)])
    seen = list(tape.iter_all(batch=7))
    assert [r.event.version for r in seen] == list(range(1, 26))
    assert list(tape.iter_all(after=seen[-1].position)) == []


def test_read_time_range(tape: Tape) -> None:
    tape.append([bar(v, ts_ns=v * 10) for v in range(1, 8)])
    got = [r.event.version for r in tape.read_time_range(20, 50)]
    assert got == [2, 3, 4]
