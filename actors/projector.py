"""Projection actor: keeps the read models current by following the tape.

The fold is ``projections`` code, the same one a replay runs. ``record`` writes what the live
projections hold (state and digest, with the tape position they reflect) as
``ProjectionRecorded``, so ``tapeline replay --verify`` can later prove a rebuild agrees.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

import ray

from actors.alerting import Alerting
from actors.process import tune_gc
from actors.snapshot_budget import SaveBudget, due
from actors.tape_access import StreamWriter, TapeFollower
from domain.events import ProjectionRecorded, projection_stream
from projections.bundle import ProjectionBundle
from projections.default import default_bundle
from projections.monitor import MonitorProjection
from store import open_tape, snapshot_codec

log = logging.getLogger("tapeline.projector")

SNAPSHOT_NAME = "projector"
SNAPSHOT_EVERY = 10_000
"""Tape positions between snapshots: at a modest pace a restart replays at most about this many
events; under a heavy load ``SaveBudget`` spaces them further (saving the order book grows with
every order ever placed)."""
LIVE_STATE = ("positions", "equity")


def _tracer(cfg: dict[str, Any]) -> Any:
    kind = cfg.get("tracing", "none")
    if kind == "none":
        return None
    from telemetry.tape_tracer import TapeTracer, build_exporter

    exporter = build_exporter(kind, cfg.get("otlp_endpoint"))
    return TapeTracer(exporter) if exporter is not None else None


def _metrics(cfg: dict[str, Any]) -> Any:
    if not cfg.get("metrics", True):
        return None
    from telemetry.metrics import RayMetrics

    return RayMetrics("projector")


@ray.remote(max_restarts=-1, max_task_retries=-1)
class ProjectorActor:
    def __init__(
        self,
        tape_url: str,
        starting_cash: str,
        poll_interval_s: float = 0.05,
        telemetry: dict[str, Any] | None = None,
        alerts: dict[str, Any] | None = None,
        namespace: str | None = None,
    ) -> None:
        telemetry = telemetry or {}
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, "projector")
        self.bundle = default_bundle(Decimal(starting_cash))
        self.monitor = MonitorProjection()
        self.tracer = _tracer(telemetry)
        self.metrics = _metrics(telemetry)
        # The read models come back from the latest snapshot plus the tape after it (or the
        # whole tape); counts, latencies and spans only describe what happens from now on.
        start = self._restore()
        rebuild = TapeFollower(self.tape, tuple(sorted(self.bundle.topics)), after=start)
        rebuild.drain(self.bundle.apply)
        # from now on one pass reads each new event once for the read models and the monitor
        topics = tuple(sorted(self.bundle.topics | self.monitor.topics))
        self.follower = TapeFollower(self.tape, topics, after=rebuild.position)
        self._snapshot_at = start
        self.snapshot_budget = SaveBudget()
        if self.follower.position - start >= SNAPSHOT_EVERY:
            self.snapshot()  # a long rebuild is not repeated by the next restart
        self.alerting = Alerting(alerts, self.writer, namespace) if alerts else None
        self._last_alert_check = 0.0
        self.poll_interval_s = poll_interval_s
        self._task: asyncio.Task[None] | None = None
        tune_gc()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._follow())

    def _fold(self, event: Any) -> None:
        self.bundle.apply(event)  # ignores what no read model takes
        if type(event).__name__ in self.monitor.topics:
            self.monitor.apply(event)
            if self.tracer is not None:
                self.tracer.on_event(event)

    def _live_state(self) -> dict[str, Any]:
        """What the gauges and alert rules read: positions and equity. Not the whole bundle's
        state, whose order book grows with every order ever placed."""
        return {name: self.bundle[name].state() for name in LIVE_STATE if name in self.bundle}

    def _restore(self) -> int:
        found = self.tape.latest_snapshot(SNAPSHOT_NAME)
        if found is None:
            return 0
        position, blob = found
        try:
            projections = snapshot_codec.loads(blob)
            bundle = ProjectionBundle(projections)
        except (snapshot_codec.SnapshotError, ValueError) as exc:
            log.warning("snapshot unusable; replaying the whole tape", extra={"error": str(exc)})
            return 0
        if set(bundle.projections) != set(self.bundle.projections):
            return 0  # a different set of read models: rebuild them all
        self.bundle = bundle
        return position

    def snapshot(self) -> int:
        """Save the read models with the tape position they reflect; returns that position."""
        started = time.monotonic()
        position = self.follower.position
        blob = snapshot_codec.dumps(list(self.bundle.projections.values()))
        self.tape.save_snapshot(SNAPSHOT_NAME, position, blob)
        self._snapshot_at = position
        self.snapshot_budget.spent(time.monotonic() - started)
        return position

    def _pass(self) -> None:
        folded = self.follower.drain(self._fold)
        if due(self.follower.position, self._snapshot_at, SNAPSHOT_EVERY, self.snapshot_budget):
            self.snapshot()
        latencies = self.monitor.take_latencies()
        if self.metrics is not None and folded:  # idle: the published values still stand
            self.metrics.publish(dict(self.monitor.counts), latencies, self._live_state())
        if self.alerting is not None and time.monotonic() - self._last_alert_check >= 1.0:
            self._last_alert_check = time.monotonic()
            self.alerting.check(self._live_state(), self.monitor)

    async def _follow(self) -> None:
        while True:
            try:
                self._pass()
            except Exception:
                log.exception("projection follower failed; retrying")
            await asyncio.sleep(self.poll_interval_s)

    async def catch_up(self) -> int:
        self.follower.drain(self._fold)
        return self.follower.position

    async def lag(self) -> int:
        return self.follower.lag()

    async def save_snapshot(self) -> int:
        self.follower.drain(self._fold)
        return self.snapshot()

    async def stats(self) -> dict[str, Any]:
        return {
            "lag": self.follower.lag(),
            "position": self.follower.position,
            "counts": self.monitor.state(),
        }

    async def flush_traces(self) -> None:
        self._pass()
        if self.tracer is not None:
            self.tracer.flush()

    async def check_alerts(self) -> int:
        """Evaluate the alert rules now; returns how many fired (and waits for delivery)."""
        if self.alerting is None:
            return 0
        self.follower.drain(self._fold)
        fired = self.alerting.check(self._live_state(), self.monitor)
        await self.alerting.drain()
        return len(fired)

    async def position(self) -> int:
        return self.follower.position

    async def state(self) -> dict[str, Any]:
        return self.bundle.state()

    async def record(self) -> dict[str, str]:
        """Catch up, then record every projection's state and digest on the tape."""
        through = self.tape.max_position()
        self.follower.drain(self._fold, stop=through)
        events = []
        digests = {}
        for name, state in self.bundle.state().items():
            stream = projection_stream(name)
            digest = self.bundle[name].digest()
            digests[name] = digest
            envelope = self.writer.meta().envelope(stream, self.writer.next_version(stream))
            events.append(
                ProjectionRecorded(
                    **envelope,
                    projection=name,
                    through_position=through,
                    digest=digest,
                    state=state,
                )
            )
        self.writer.append(events)
        return digests
