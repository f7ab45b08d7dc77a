"""Strategy actor: a Python signal source fed by market data.

It runs a ``domain.strategies`` plugin, records each signal as ``SignalReceived`` (durable), then
hands it to its risk manager. On restart it warms the strategy up by replaying the bars on the
tape (signals from that warm-up are dropped: they were recorded the first time).
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from actors.process import tune_gc
from actors.tape_access import StreamWriter
from domain.bars import Bar, bar_from_event
from domain.events import BarClosed, SignalReceived, signal_stream
from domain.strategies.base import load_strategy
from store import open_tape
from telemetry.trace_context import start_trace

log = logging.getLogger("tapeline.strategy")


@ray.remote(max_restarts=-1, max_task_retries=-1)
class StrategyActor:
    def __init__(
        self,
        name: str,
        import_path: str,
        params: dict[str, Any],
        instruments: list[str] | None,
        tape_url: str,
        risk_actor: str,
        namespace: str | None = None,
    ) -> None:
        self.name = name
        self.instruments = set(instruments) if instruments else None
        self.strategy = load_strategy(import_path, name, params)
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, f"strategy.{name}")
        self.stream = signal_stream(name)
        self.risk_name = risk_actor
        self.namespace = namespace
        self._risk: Any = None
        self.last_seen: dict[str, int] = {}
        self.held: dict[str, Bar] = {}
        self.recorded_alerts: set[str] = set()
        self.signals = 0
        self._warm_up()
        tune_gc()

    def _warm_up(self) -> None:
        """Replay the tape's bars into the strategy, except the newest bar of each instrument:
        its signals may not have been recorded before the crash, so it is held back and
        played live (before the next bar, or when market data re-sends it). Signals whose
        alert id is already in our stream are not recorded twice."""
        newest: dict[str, Bar] = {}
        for rec in self.tape.iter_all(topics=["BarClosed"]):
            ev = rec.event
            assert isinstance(ev, BarClosed)
            if not self._wants(ev.instrument):
                continue
            held = newest.get(ev.instrument)
            if held is not None:
                self.strategy.on_bar(held)
                self.last_seen[ev.instrument] = held.open_ts_ns
            newest[ev.instrument] = bar_from_event(ev)
        self.held = newest
        head = self.writer.head(self.stream)
        recent = self.tape.read_stream(self.stream, after_version=max(0, head - 1000))
        self.recorded_alerts = {
            e.signal.alert_id for e in recent if isinstance(e, SignalReceived) and e.signal.alert_id
        }

    def _wants(self, instrument: str) -> bool:
        return self.instruments is None or instrument in self.instruments

    def _risk_handle(self, refresh: bool = False) -> Any:
        if self._risk is None or refresh:
            self._risk = ray.get_actor(self.risk_name, namespace=self.namespace)
        return self._risk

    def _play(self, bar: Bar, events: list[SignalReceived]) -> None:
        self.last_seen[bar.instrument] = bar.open_ts_ns
        for signal in self.strategy.on_bar(bar):
            if signal.alert_id and signal.alert_id in self.recorded_alerts:
                continue  # recorded before a restart
            version = self.writer.next_version(self.stream) + len(events)
            meta = self.writer.meta(correlation_id=signal.alert_id)
            envelope = meta.envelope(self.stream, version)
            envelope["correlation_id"] = str(envelope["event_id"])
            envelope["traceparent"] = start_trace(envelope["event_id"])
            events.append(SignalReceived(**envelope, signal=signal, format="python"))

    async def on_bars(self, bars: list[Bar]) -> int:
        events: list[SignalReceived] = []
        for bar in bars:
            if not self._wants(bar.instrument):
                continue
            held = self.held.pop(bar.instrument, None)
            if held is not None and held.open_ts_ns < bar.open_ts_ns:
                self._play(held, events)  # the bar held back at warm-up comes first
            if bar.open_ts_ns <= self.last_seen.get(bar.instrument, -1):
                continue  # already seen (a re-sent step after a restart)
            self._play(bar, events)
        if not events:
            return 0
        self.writer.append(events)
        self.recorded_alerts.update(e.signal.alert_id for e in events if e.signal.alert_id)
        self.signals += len(events)
        for event in events:
            await self._hand_to_risk(event)
        return len(events)

    async def _hand_to_risk(self, event: SignalReceived) -> None:
        """A replaced risk manager has a new handle: look it up again once. A signal that still
        cannot be handed on stays on the tape and the risk manager decides it when it recovers."""
        try:
            await self._risk_handle().on_signal.remote(event)
        except ray.exceptions.RayActorError:
            try:
                await self._risk_handle(refresh=True).on_signal.remote(event)
            except (ray.exceptions.RayActorError, ValueError):
                log.warning(
                    "risk manager unavailable; signal left on the tape",
                    extra={"signal": str(event.event_id)},
                )

    async def stats(self) -> dict[str, Any]:
        return {"name": self.name, "signals": self.signals, "seen": dict(self.last_seen)}
