"""Replay throughput: positions, P&L and the performance metrics rebuilt from 1M events.

Three routes over the same tape of bars and fills (``benchmarks/replay_tape.py``), timed in the
same run:

- ``sqlite``: the tape on SQLite folded through the ``Decimal`` projections, then the metrics;
- ``parquet``: the Parquet archive read (its replay columns: the fills and bar closes the
  archiver also writes narrow, in few files, see ``store/archive_replay.py``) and replayed
  column by column, then the metrics;
- ``numpy``: the same columnar replay and metrics on arrays already in memory (no I/O, no
  decoding): the bare numpy baseline. ``parquet_ratio_to_numpy`` = parquet rate / numpy rate
  (best of each); ``parquet_ratio_to_numpy_paired_median`` = the median over the back-to-back
  pairs of their ratio, which a burst of load on a shared machine moves less.

The Parquet and numpy routes are timed alternately (best of ``--runs`` each), so that both see
the same moments of a shared machine; the Parquet route's steps (read, arrays, replay, metrics)
are printed too. The three routes must agree (net P&L, final equity, trade count, Sharpe) or the
script fails. The tape is generated in process (bars for four markets every minute, fills from
three strategies, appended in batches of 1000) unless ``--dir`` already holds one.

``tracing_overhead_p50`` comes from ``benchmarks/tracing.py`` (a short run of the live system on
Ray, ``--tracing-bars`` bars per round, after the replay timings); ``--skip-tracing`` leaves it
null.

    .venv/bin/python benchmarks/replay.py [--events 1000000] [--runs 7] [--dir DIR]
        [--tracing-bars 400] [--skip-tracing]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit, machine
from benchmarks.replay_tape import iter_session
from cluster.report import Analytics, analytics_from_replay, analytics_from_tape
from projections.columnar import replay, replay_archive
from store import open_tape
from store.archive import export_archive
from store.archive_arrays import (
    COLUMNS,
    MarketArrays,
    market_arrays,
    market_from_replay,
    read_market,
    read_replay_columns,
)
from store.archive_read import read_archive

CASH = Decimal(100_000)
BATCH = 1000


def build_tape(url: str, n: int) -> tuple[int, float]:
    tape = open_tape(url)
    t0 = time.perf_counter()
    batch = []
    count = 0
    for event in iter_session(n, seed=11):
        batch.append(event)
        if len(batch) == BATCH:
            tape.append(batch)
            count += len(batch)
            batch = []
    if batch:
        tape.append(batch)
        count += len(batch)
    elapsed = time.perf_counter() - t0
    tape.close()
    return count, elapsed


def timed(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, result = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def steps(archive: Path, runs: int) -> dict[str, float]:
    """Best time of each step of the Parquet route: read, arrays, replay, metrics."""
    best = dict.fromkeys(("read", "arrays", "replay", "metrics"), math.inf)
    for _ in range(runs):
        t0 = time.perf_counter()
        columns = read_replay_columns(archive)
        table = read_archive(archive, COLUMNS) if columns is None else None
        t1 = time.perf_counter()
        market = _arrays(columns, table)
        t2 = time.perf_counter()
        result = replay(market, float(CASH))
        t3 = time.perf_counter()
        analytics_from_replay(result)
        t4 = time.perf_counter()
        for name, seconds in zip(best, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            best[name] = min(best[name], seconds)
    return best


def _arrays(columns: tuple | None, table: object) -> MarketArrays:  # type: ignore[type-arg]
    market = None if columns is None else market_from_replay(*columns)
    return market if market is not None else market_arrays(table)  # type: ignore[arg-type]


def _same(a: Analytics, b: Analytics) -> bool:
    def close(x: float, y: float) -> bool:
        return abs(x - y) <= 1e-6 * max(1.0, abs(x))

    return (
        close(a.totals["net_pnl"], b.totals["net_pnl"])
        and close(float(a.equity.equity[-1]), float(b.equity.equity[-1]))
        and a.metrics.total.trades == b.metrics.total.trades
        and close(a.metrics.total.sharpe or 0.0, b.metrics.total.sharpe or 0.0)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="keep the tape and archive here")
    parser.add_argument("--tracing-bars", type=int, default=400, help="bars per tracing round")
    parser.add_argument("--skip-tracing", action="store_true", help="leave tracing_overhead null")
    args = parser.parse_args()
    if args.dir is None:
        with tempfile.TemporaryDirectory(prefix="tapeline-replay-") as tmp:
            run(args, Path(tmp))
    else:
        args.dir.mkdir(parents=True, exist_ok=True)
        run(args, args.dir)


def run(args: argparse.Namespace, workdir: Path) -> None:
    db = workdir / "tape.sqlite"
    url = f"sqlite:///{db}"
    archive = workdir / "archive"
    if not db.exists():
        n, gen_s = build_tape(url, args.events)
        print(f"tape: {n:,} events appended in {gen_s:.1f}s ({n / gen_s:,.0f}/s)")
    with open_tape(url) as tape:
        n = tape.max_position()
        t0 = time.perf_counter()
        exported = export_archive(tape, archive)
        export_s = time.perf_counter() - t0
        print(f"archive: {exported.events:,} new events exported in {export_s:.1f}s")
        sqlite_s, from_tape = timed(lambda: analytics_from_tape(tape, CASH), 1)
    print(f"sqlite (Decimal projections + metrics): {sqlite_s:.2f}s")

    def from_parquet() -> Analytics:
        return analytics_from_replay(replay_archive(archive, float(CASH)))

    market = read_market(archive)

    def from_numpy() -> Analytics:
        return analytics_from_replay(replay(market, float(CASH)))

    # alternate the two routes so that both see the same moments of a shared machine
    parquet_s = numpy_s = math.inf
    from_archive = from_arrays = None
    paired = []  # each pair ran back to back: its ratio sees one moment of the machine
    for _ in range(args.runs):
        seconds, from_archive = timed(from_parquet, 1)
        parquet_s = min(parquet_s, seconds)
        other, from_arrays = timed(from_numpy, 1)
        numpy_s = min(numpy_s, other)
        paired.append(other / seconds)
    print(f"parquet (read + columnar replay + metrics): {parquet_s * 1000:.0f} ms")
    print(f"numpy (columnar replay + metrics, arrays in memory): {numpy_s * 1000:.0f} ms")
    source = "replay columns" if read_replay_columns(archive) is not None else "date partitions"
    print(
        f"parquet route ({source}), best of each step: "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in steps(archive, args.runs).items())
    )
    agree = _same(from_tape, from_archive) and _same(from_archive, from_arrays)  # type: ignore[arg-type]
    print(f"fills {market.signed.size:,}, bars {market.close.size:,}, routes agree: {agree}")
    tracing: float | None = None
    if not args.skip_tracing:
        from benchmarks.tracing import measure

        try:
            observed = measure(bars=args.tracing_bars, rounds=2)
        except Exception as exc:  # the live system failed: the replay figures still stand
            print(f"tracing: not measured ({type(exc).__name__}: {exc})", file=sys.stderr)
        else:
            tracing = observed["tracing_overhead_p50"]
            print(
                "tracing: signal path p50 {signal_path_p50_ms_on} ms on, "
                "{signal_path_p50_ms_off} ms off ({signals_measured_on} signals)".format(**observed)
            )
    figures = {
        "events": n,
        "sqlite_events_per_s": round(n / sqlite_s),
        "parquet_events_per_s": round(n / parquet_s),
        "numpy_events_per_s": round(n / numpy_s),
        "parquet_ratio_to_numpy": round(numpy_s / parquet_s, 3),
        "parquet_ratio_to_numpy_paired_median": round(statistics.median(paired), 3),
        "archive_export_events_per_s": round(exported.events / export_s)
        if exported.events
        else None,
        "tracing_overhead_p50": tracing,
        "routes_agree": agree,
        "machine": machine(),
    }
    emit(figures)
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
