"""Shared bits of the benchmark scripts: machine description, timing, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def cpu_probe_us(rounds: int = 200) -> float:
    """Median microseconds of a fixed pure-Python loop: how fast this shared machine's CPU is
    right now (about 800 on a quiet host here; it has been seen at 1,300 while other tenants were
    busy). Printed beside absolute figures so runs on a slow moment can be told apart."""

    def loop() -> int:
        total = 0
        for i in range(20_000):
            total += i * i
        return total

    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        loop()
        samples.append((time.perf_counter() - t0) * 1e6)
    return round(statistics.median(samples), 1)


def best_of(runs: int, fn: Callable[[], float]) -> float:
    """The best (highest) of several throughput measurements: the least disturbed run."""
    return max(fn() for _ in range(runs))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


def median(values: list[float]) -> float:
    return statistics.median(values)


def emit(figures: dict[str, Any]) -> None:
    """Print the figures as one JSON object on the last line."""
    sys.stdout.flush()
    print(json.dumps(figures, sort_keys=True))
