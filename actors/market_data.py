"""Market data actor: records each step of bars on the tape, then hands them to subscribers.

Bars come from a file (Parquet/CSV) or the deterministic generator. In ``lockstep`` pacing the
actor waits for every subscriber to finish a step before the next (a replay at full speed that
still fills orders on the next bar); in ``realtime`` it paces steps by the clock. A restarted
actor resumes after the last step on the tape, re-sending that step: subscribers ignore bars
they have already seen, so nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ray

from actors.process import tune_gc
from actors.settings import MarketDataConfig
from actors.tape_access import StreamWriter
from domain.bars import Bar, bar_to_event_fields
from domain.events import BarClosed, bar_stream
from store import open_tape

log = logging.getLogger("tapeline.market_data")


def load_steps(cfg: MarketDataConfig) -> list[list[Bar]]:
    if cfg.source == "file":
        from store.bars_file import read_bars

        bars: list[Bar] = []
        for instrument in cfg.instruments:
            bars += read_bars(cfg.files[instrument], instrument, venue=cfg.venue)
        by_time: dict[int, list[Bar]] = {}
        for bar in bars:
            by_time.setdefault(bar.open_ts_ns, []).append(bar)
        return [by_time[ts] for ts in sorted(by_time)]
    from domain.marketgen import generate_bars

    return [
        list(step)
        for step in generate_bars(
            cfg.instruments,
            n_bars=cfg.bars,
            interval_s=cfg.interval_s,
            start_ts_ns=cfg.start_ts_ns,
            seed=cfg.seed,
            venue=cfg.venue,
        )
    ]


@ray.remote(max_restarts=-1, max_task_retries=-1)
class MarketDataActor:
    def __init__(self, cfg: dict[str, Any], tape_url: str, name: str = "market_data") -> None:
        self.cfg = MarketDataConfig.model_validate(cfg)
        self.name = name
        self.tape = open_tape(tape_url)
        self.writer = StreamWriter(self.tape, name)
        self.steps = load_steps(self.cfg)
        self.subscribers: dict[str, Any] = {}
        self._last_ts: dict[str, int] = {}
        self.step = self._resume_step()
        self.done = False
        tune_gc()

    def _resume_step(self) -> int:
        """Index of the first step not fully on the tape (the last recorded one is re-sent)."""
        last: dict[str, int] = {}
        for instrument in self.cfg.instruments:
            head = self.tape.stream_head(bar_stream(self.cfg.venue, instrument))
            if head:
                (ev,) = self.tape.read_stream(bar_stream(self.cfg.venue, instrument), head - 1)
                last[instrument] = ev.open_ts_ns
        if not last:
            return 0
        newest = max(last.values())
        for i, step in enumerate(self.steps):
            if step and step[0].open_ts_ns >= newest:
                return i
        return len(self.steps)

    async def subscribe(self, name: str, handle: Any) -> None:
        self.subscribers[name] = handle

    async def unsubscribe(self, name: str) -> None:
        self.subscribers.pop(name, None)

    def _record(self, step: list[Bar]) -> None:
        events = []
        for bar in step:
            stream = bar_stream(bar.venue, bar.instrument)
            if self._recorded(stream, bar):
                continue
            envelope = self.writer.meta().envelope(stream, self.writer.next_version(stream))
            events.append(BarClosed(**envelope, **bar_to_event_fields(bar)))
        self.writer.append(events)

    def _recorded(self, stream: str, bar: Bar) -> bool:
        head = self.writer.head(stream)
        if not head:
            return False
        last = self._last_ts.get(stream)
        if last is None:
            (ev,) = self.tape.read_stream(stream, head - 1)
            last = self._last_ts[stream] = ev.open_ts_ns
        return bar.open_ts_ns <= last

    async def run(self, max_steps: int | None = None) -> int:
        """Play steps until the end (or ``max_steps``); returns the index reached."""
        interval = 1.0 / self.cfg.bars_per_second
        played = 0
        while self.step < len(self.steps) and (max_steps is None or played < max_steps):
            step = self.steps[self.step]
            self._record(step)
            for bar in step:
                self._last_ts[bar_stream(bar.venue, bar.instrument)] = bar.open_ts_ns
            await self._publish(step)
            self.step += 1
            played += 1
            if self.cfg.pacing == "realtime":
                await asyncio.sleep(interval)
        self.done = self.step >= len(self.steps)
        return self.step

    async def _publish(self, step: list[Bar]) -> None:
        # Venues first (fills against this bar), then signal sources.
        ordered = sorted(self.subscribers.items(), key=lambda kv: not kv[0].startswith("gateway"))
        for name, handle in ordered:
            try:
                await handle.on_bars.remote(step)
            except ray.exceptions.RayActorError:
                # removed or quarantined (a restarting actor is retried by Ray, not seen here)
                log.warning("subscriber gone; dropped", extra={"subscriber": name})
                self.subscribers.pop(name, None)

    async def progress(self) -> dict[str, int | bool]:
        return {"step": self.step, "steps": len(self.steps), "done": self.done}
