"""Cost of observability on the signal path: the same run with tracing and metrics on, then off.

Signal path latency per signal = ``SignalReceived`` to the venue's ``OrderAccepted``, read from
the events' own timestamps on the tape. Spans are derived from the tape by the projector and
metrics published by it, so the cost shows up only as competition for the CPU.

    .venv/bin/python benchmarks/tracing.py [--bars 600] [--rounds 2]

``measure`` is also called by ``benchmarks/replay.py``, which prints the same overhead.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ray

from benchmarks._common import emit, machine, median, percentile
from cluster.config import (
    MarketDataConfig,
    RayConfig,
    TapeConfig,
    TapelineConfig,
    TelemetryConfig,
)
from cluster.runtime import init_ray, start_system, stop_system, wait_caught_up
from store import open_tape


def signal_path_ms(url: str) -> list[float]:
    with open_tape(url) as tape:
        events = [r.event for r in tape.iter_all()]
    by_id = {e.event_id: e for e in events}
    signal_ts = {}
    for e in events:
        if type(e).__name__ == "SignalReceived":
            signal_ts[e.event_id] = e.ts_ns
    out = []
    for e in events:
        if type(e).__name__ != "OrderAccepted":
            continue
        cause = e
        while (
            cause is not None and cause.causation_id is not None and cause.event_id not in signal_ts
        ):
            cause = by_id.get(cause.causation_id)
        if cause is not None and cause.event_id in signal_ts:
            out.append((e.ts_ns - signal_ts[cause.event_id]) / 1e6)
    return out


def run(tmp: Path, bars: int, telemetry: TelemetryConfig) -> list[float]:
    cfg = TapelineConfig(
        tape=TapeConfig(url=f"sqlite:///{tmp}/{uuid.uuid4().hex}.sqlite"),
        ray=RayConfig(namespace=f"bench{uuid.uuid4().hex[:6]}", dashboard=False),
        market_data=MarketDataConfig(bars=bars, seed=3),
        telemetry=telemetry,
    )
    system = start_system(cfg)
    try:
        ray.get(system.market_data.run.remote())
        wait_caught_up(system)
    finally:
        stop_system(system)
    return signal_path_ms(cfg.tape.url)


def measure(bars: int = 600, rounds: int = 2) -> dict[str, Any]:
    """Signal path latencies with tracing and metrics on and off (``rounds`` interleaved runs
    of ``bars`` bars each), and their ratio: the figures without the machine description.

    Starts a local Ray (2 CPUs) and shuts it down again; callers time their own work first."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    init_ray(RayConfig(dashboard=False, num_cpus=2, metrics_export_port=None), dashboard=False)
    on: list[float] = []
    off: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(rounds):  # interleaved, so drift in machine load hits both
                off += run(Path(tmp), bars, TelemetryConfig(tracing="none", metrics=False))
                on += run(Path(tmp), bars, TelemetryConfig(tracing="console", metrics=True))
    finally:
        ray.shutdown()
    return {
        "signals_measured_on": len(on),
        "signals_measured_off": len(off),
        "signal_path_p50_ms_on": round(median(on), 3),
        "signal_path_p50_ms_off": round(median(off), 3),
        "signal_path_p99_ms_on": round(percentile(on, 99), 3),
        "signal_path_p99_ms_off": round(percentile(off, 99), 3),
        "tracing_overhead_p50": round(median(on) / median(off), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    emit({**measure(args.bars, args.rounds), "machine": machine()})


if __name__ == "__main__":
    main()
