"""Strategy actor: a Python signal source fed by market data.

It runs a ``domain.strategies`` plugin, records each signal as ``SignalReceived`` (durable), then
hands it to its risk manager. On restart it warms the strategy up by replaying the bars on the
tape (signals from that warm-up are dropped: they were recorded the first time).
"""

from __future__ import annotations

import logging
from typing import Any

import ray

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
        self.signals = 0
        self._warm_up()

    def _warm_up(self) -> None:
        for rec in self.tape.iter_all(topics=["BarClosed"]):
            ev = rec.event
            assert isinstance(ev, BarClosed)
            if self._wants(ev.instrument):
                self.strategy.on_bar(bar_from_event(ev))
                self.last_seen[ev.instrument] = ev.open_ts_ns

    def _wants(self, instrument: str) -> bool:
        return self.instruments is None or instrument in self.instruments

    def _risk_handle(self) -> Any:
        if self._risk is None:
            self._risk = ray.get_actor(self.risk_name, namespace=self.namespace)
        return self._risk

    async def on_bars(self, bars: list[Bar]) -> int:
        events: list[SignalReceived] = []
        for bar in bars:
            if not self._wants(bar.instrument):
                continue
            if bar.open_ts_ns <= self.last_seen.get(bar.instrument, -1):
                continue  # already seen (a re-sent step after a restart)
            self.last_seen[bar.instrument] = bar.open_ts_ns
            for signal in self.strategy.on_bar(bar):
                version = self.writer.next_version(self.stream) + len(events)
                meta = self.writer.meta(correlation_id=signal.alert_id)
                envelope = meta.envelope(self.stream, version)
                envelope["correlation_id"] = str(envelope["event_id"])
                envelope["traceparent"] = start_trace(envelope["event_id"])
                events.append(SignalReceived(**envelope, signal=signal, format="python"))
        if not events:
            return 0
        self.writer.append(events)
        self.signals += len(events)
        risk = self._risk_handle()
        for event in events:
            await risk.on_signal.remote(event)
        return len(events)

    async def stats(self) -> dict[str, Any]:
        return {"name": self.name, "signals": self.signals, "seen": dict(self.last_seen)}
