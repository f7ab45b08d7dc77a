"""Settings of an actor's own worker process.

``tune_gc``: CPython's cyclic collector, left at its defaults, spends 10-20 % of a busy actor's
CPU here (measured under the webhook benchmark's sustained load): it runs a young collection
every 700 allocations, and the full collections it keeps triggering re-scan every long-lived
object (an actor's imports, Ray's own state, the folded state that grows with the tape). The
actors make few reference cycles (events, rows and views are plain values), so after start-up
the objects alive then are frozen out of the collector's scans, and collections run less often.
Cycles are still collected, only later.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 20)
"""Allocations before a young collection, and young (then middle) collections before an older
one (CPython's defaults: 700, 10, 10)."""


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Freeze what start-up allocated out of the collector's scans and space collections out.
    Call at the end of an actor's ``__init__`` (idempotent: a later call freezes what has been
    allocated since)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
