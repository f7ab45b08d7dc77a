"""Tapeline's Ray metrics (``ray.util.metrics``), exported on Ray's Prometheus endpoint and
shown in the Ray dashboard's metrics view.

Counters and latency histograms come from ``projections.monitor``; gauges (positions, exposure,
P&L, drawdown) from the positions and equity projections. All are published by the projector
actor after each pass over the tape, labelled by actor, venue and instrument.
"""

from __future__ import annotations

from typing import Any

LATENCY_BOUNDARIES_MS = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000, 5000]


class RayMetrics:
    def __init__(self, actor: str) -> None:
        from ray.util.metrics import Counter, Gauge, Histogram

        self.actor = actor
        self.events = Counter(
            "tapeline_events_total",
            description="Signals, decisions, orders, fills and venue errors recorded on the tape",
            tag_keys=("actor", "kind", "key", "outcome"),
        )
        self.hops = Histogram(
            "tapeline_hop_latency_ms",
            description="Latency from a cause to its consequence on the tape, per hop",
            boundaries=LATENCY_BOUNDARIES_MS,
            tag_keys=("actor", "hop"),
        )
        self.position = Gauge(
            "tapeline_position",
            description="Signed position (base units)",
            tag_keys=("actor", "venue", "instrument"),
        )
        self.exposure = Gauge(
            "tapeline_exposure",
            description="Position notional (quote)",
            tag_keys=("actor", "venue", "instrument"),
        )
        self.pnl = Gauge(
            "tapeline_pnl", description="P&L in quote currency", tag_keys=("actor", "kind")
        )
        self.drawdown = Gauge(
            "tapeline_drawdown",
            description="Max drawdown of equity (fraction)",
            tag_keys=("actor",),
        )
        self._published: dict[tuple[str, ...], int] = {}

    def publish(
        self,
        counts: dict[tuple[str, ...], int],
        latencies: list[tuple[str, float]],
        state: dict[str, Any],
    ) -> None:
        for key, total in counts.items():
            delta = total - self._published.get(key, 0)
            if delta > 0:
                kind, k, outcome = (*key, "", "", "")[:3]
                self.events.inc(
                    delta, tags={"actor": self.actor, "kind": kind, "key": k, "outcome": outcome}
                )
                self._published[key] = total
        for hop, ms in latencies:
            self.hops.observe(ms, tags={"actor": self.actor, "hop": hop})
        positions = state.get("positions", {})
        for p in positions.get("positions", {}).values():
            tags = {"actor": self.actor, "venue": p["venue"], "instrument": p["instrument"]}
            self.position.set(float(p["quantity"]), tags=tags)
            self.exposure.set(float(p["notional"]), tags=tags)
        for kind in ("realized_pnl", "unrealized_pnl", "net_pnl", "fees"):
            value = positions.get("totals", {}).get(kind)
            if value is not None:
                self.pnl.set(float(value), tags={"actor": self.actor, "kind": kind})
        dd = state.get("equity", {}).get("max_drawdown")
        if dd is not None:
            self.drawdown.set(float(dd), tags={"actor": self.actor})
