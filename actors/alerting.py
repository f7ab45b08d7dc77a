"""Alert evaluation inside the projector: facts from the read models, firings on the tape
(``AlertFired``, durable first) and then to the notification targets, retried in the
background so a slow receiver never holds up the projections."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from actors.tape_access import StreamWriter, now_ns
from alerts.config import AlertsConfig
from alerts.facts import DAY_NS, facts_from
from alerts.notify import Notifier
from alerts.rules import AlertState, evaluate
from domain.events import ALERTS_STREAM, AlertFired
from projections.monitor import MonitorProjection

log = logging.getLogger("tapeline.alerts")


def actor_restarts(namespace: str | None) -> dict[str, int]:
    try:
        import ray._private.state as gcs

        return {
            a["Name"]: int(a.get("NumRestarts", 0))
            for a in gcs.actors().values()
            if a.get("Name")  # Ray's actor table has no namespace field
        }
    except Exception:  # not in a Ray cluster (tests, replays)
        return {}


class Alerting:
    def __init__(self, cfg: dict[str, Any], writer: StreamWriter, namespace: str | None) -> None:
        self.config = AlertsConfig.model_validate(cfg)
        self.rules = self.config.rule_set
        self.writer = writer
        self.namespace = namespace
        targets = self.config.targets
        self.notifier = Notifier(targets, self.config.retry) if targets else None
        self.state = AlertState()
        self.day: int | None = None
        self.day_start_equity: float | None = None
        self._sending: set[asyncio.Task[Any]] = set()

    def check(self, bundle_state: dict[str, Any], monitor: MonitorProjection) -> list[AlertFired]:
        now = now_ns()
        equity = float(bundle_state.get("equity", {}).get("equity") or 0.0)
        if self.day != now // DAY_NS:
            self.day, self.day_start_equity = now // DAY_NS, equity
        facts = facts_from(
            bundle_state,
            now_ns=now,
            rejections_in_a_row=monitor.rejections_in_a_row,
            open_circuits=monitor.open_circuits,
            last_bar_ns=monitor.last_bar_ns,
            actor_restarts=actor_restarts(self.namespace),
            day_start_equity=self.day_start_equity,
        )
        firings, self.state = evaluate(self.rules, facts, self.state)
        if not firings:
            return []
        head = self.writer.head(ALERTS_STREAM)
        events = [
            AlertFired(
                **self.writer.meta().envelope(ALERTS_STREAM, head + i + 1),
                rule=f.rule,
                kind=f.kind,
                severity=str(f.severity),
                subject=f.subject,
                message=f.message,
                observed=f.observed,
                threshold=f.threshold,
            )
            for i, f in enumerate(firings)
        ]
        self.writer.append(events)
        if self.notifier is not None:
            for firing in firings:
                task = asyncio.get_running_loop().create_task(self._send(firing))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        return events

    async def _send(self, firing: Any) -> None:
        try:
            results = await self.notifier.send(firing)  # type: ignore[union-attr]
            for r in results:
                if not r.ok:
                    log.warning("alert not delivered", extra={"target": r.target, "error": r.error})
        except Exception:
            log.exception("alert notification failed")

    async def drain(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
