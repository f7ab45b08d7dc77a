"""Tape throughput: batched appends and replay of positions and P&L, on SQLite.

Baselines measured in the same run: eventsourcing's own Application saving 100 events per
transaction (for appends), and a bare SELECT of the same rows (for replay). The replay is also
measured with whole decoded events (``replay_whole_events_per_s``), for comparison.

    .venv/bin/python benchmarks/store.py [--events 200000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks._common import best_of, emit, machine
from domain.events import BarClosed, EventMeta, OrderFilled, bar_stream, order_stream
from domain.values import Side
from projections.positions import PositionsProjection
from store import open_tape

BATCH = 100
INSTRUMENTS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")


def synthetic_events(n: int) -> list:
    """A trading tape's shape: bars for 3 instruments, a fill every few bars."""
    events = []
    versions: dict[str, int] = {}
    price = {
        i: Decimal(p) for i, p in zip(INSTRUMENTS, ("42000.5", "2300.25", "101.125"), strict=True)
    }
    k = 0
    while len(events) < n:
        k += 1
        for inst in INSTRUMENTS:
            stream = bar_stream("paper", inst)
            v = versions[stream] = versions.get(stream, 0) + 1
            p = price[inst] * (1 + Decimal((k * 7919) % 200 - 100) / 10000)
            events.append(
                BarClosed(
                    **EventMeta(ts_ns=k * 1000, source="bench").envelope(stream, v),
                    venue="paper",
                    instrument=inst,
                    open_ts_ns=k * 300_000_000_000,
                    interval_s=300,
                    open=p,
                    high=p * Decimal("1.001"),
                    low=p * Decimal("0.999"),
                    close=p,
                    volume=Decimal("12.5"),
                )
            )
            if k % 3 == 0:
                coid = f"c{k}{inst}"
                events.append(
                    OrderFilled(
                        **EventMeta(ts_ns=k * 1000, source="bench").envelope(order_stream(coid), 2),
                        client_order_id=coid,
                        fill_id=f"{coid}-1",
                        strategy="bench",
                        venue="paper",
                        instrument=inst,
                        side=Side.BUY if k % 2 else Side.SELL,
                        quantity=Decimal("0.01"),
                        price=p,
                        fee=Decimal("0.0421"),
                        fill_ts_ns=k * 300_000_000_000,
                    )
                )
    return events[:n]


def bench_append(events: list, path: Path) -> float:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    tape = open_tape(f"sqlite:///{path}")
    t0 = time.perf_counter()
    for i in range(0, len(events), BATCH):
        tape.append(events[i : i + BATCH])
    elapsed = time.perf_counter() - t0
    tape.close()
    return len(events) / elapsed


class Account(Aggregate):
    @event("Noted")
    def note(self, instrument: str, price: str, quantity: str, ts_ns: int) -> None:
        pass


def bench_eventsourcing(n: int, path: Path) -> float:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )
    t0 = time.perf_counter()
    done = 0
    while done < n:
        acc = Account()
        for j in range(BATCH - 1):
            acc.note("BTC-USDT", "42000.5", "0.01", j)
        app.save(acc)  # one transaction of BATCH events
        done += BATCH
    elapsed = time.perf_counter() - t0
    app.close()
    return done / elapsed


def bench_replay(path: Path, whole_events: bool = False) -> tuple[float, str]:
    """Positions and P&L rebuilt by ``Tape.replay``: given the projection, its handlers get
    light views of the fields they read; given ``projection.apply``, whole decoded events."""
    tape = open_tape(f"sqlite:///{path}")
    projection = PositionsProjection()
    t0 = time.perf_counter()
    n = tape.replay(projection.apply if whole_events else projection)
    elapsed = time.perf_counter() - t0
    assert projection.state()["positions"], "replay produced no positions"
    tape.close()
    return n / elapsed, projection.digest()


def bench_raw_select(path: Path) -> float:
    conn = sqlite3.connect(path)
    t0 = time.perf_counter()
    rows = conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
        "ORDER BY rowid"
    ).fetchall()
    elapsed = time.perf_counter() - t0
    conn.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    events = synthetic_events(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        ours_path = Path(tmp) / "tape.sqlite"
        es_path = Path(tmp) / "es.sqlite"
        # taking turns, so a disk busy for a while slows both sides alike
        append = es = 0.0
        for _ in range(args.runs):
            append = max(append, bench_append(events, ours_path))
            es = max(es, bench_eventsourcing(len(events), es_path))
        bench_append(events, ours_path)
        replay = best_of(args.runs, lambda: bench_replay(ours_path)[0])
        whole = best_of(args.runs, lambda: bench_replay(ours_path, whole_events=True)[0])
        digests = {bench_replay(ours_path, whole_events=w)[1] for w in (False, True)}
        assert len(digests) == 1, "light views and whole events rebuilt different positions"
        raw = best_of(args.runs, lambda: bench_raw_select(ours_path))
    figures = {
        "events": len(events),
        "batch": BATCH,
        "append_events_per_s": round(append),
        "eventsourcing_events_per_s": round(es),
        "append_ratio_to_eventsourcing": round(append / es, 3),
        "replay_events_per_s": round(replay),
        "replay_whole_events_per_s": round(whole),
        "raw_select_rows_per_s": round(raw),
        "replay_ratio_to_raw_select": round(replay / raw, 3),
        "machine": machine(),
    }
    print(
        f"append {append:,.0f}/s (eventsourcing {es:,.0f}/s); replay {replay:,.0f}/s "
        f"(raw select {raw:,.0f}/s)"
    )
    emit(figures)


if __name__ == "__main__":
    main()
