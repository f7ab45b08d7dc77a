"""Supervision: an actor that keeps crashing is stopped and an alert recorded on the tape
(``ActorQuarantined``) instead of being restarted forever; the rest of the system trades on."""

from __future__ import annotations

import time

import pytest
import ray

from cluster.config import TapelineConfig
from cluster.registry import MAX_RESTARTS_IN_WINDOW
from cluster.runtime import start_system, stop_system
from domain.events import ActorAdded, ActorQuarantined, SignalReceived
from store import open_tape
from tests.cluster import tape_invariants as inv

pytestmark = pytest.mark.ray

CRASHY = "strategy.crashy"


def wait_for(check, timeout_s: float = 60.0, every_s: float = 0.25):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def test_an_actor_that_keeps_crashing_is_quarantined(
    ray_cluster: object, small_config: TapelineConfig
) -> None:
    system = start_system(small_config)
    ns = small_config.ray.namespace
    try:
        ray.get(system.market_data.run.remote(max_steps=30), timeout=60)
        ray.get(
            system.registry.add.remote(
                "strategy", CRASHY, {"class": "tests.cluster.crashing_strategy:CrashOnBar"}
            ),
            timeout=60,
        )
        run = system.market_data.run.remote(max_steps=5)  # the next bar starts the crash loop

        def quarantined() -> bool:
            rows = ray.get(system.registry.list.remote(), timeout=30)
            return any(r["name"] == CRASHY and r["state"] == "QUARANTINED" for r in rows)

        assert wait_for(quarantined, timeout_s=90)

        def gone() -> bool:
            try:
                ray.get_actor(CRASHY, namespace=ns)
            except ValueError:
                return True
            return False

        assert wait_for(gone, timeout_s=30)  # stopped, not restarted forever
        ray.wait([run], timeout=60)
        # the rest keeps running: market data feeds the other strategy, which still signals
        ray.get(system.market_data.run.remote(), timeout=120)
        stats = ray.get(system.strategies["ma_cross"].stats.remote(), timeout=30)
        rows = {r["name"]: r for r in ray.get(system.registry.list.remote(), timeout=30)}
    finally:
        stop_system(system)

    assert rows[CRASHY]["state"] == "QUARANTINED"
    states = {n: r["state"] for n, r in rows.items() if n != CRASHY}
    assert set(states.values()) == {"ALIVE"}, states
    assert stats["signals"] > 0
    with open_tape(small_config.tape.url) as tape:
        events = inv.all_events(tape)
    (alert,) = [e for e in events if isinstance(e, ActorQuarantined)]
    assert alert.name == CRASHY and alert.restarts > MAX_RESTARTS_IN_WINDOW
    assert any(isinstance(e, ActorAdded) and e.name == CRASHY for e in events)
    assert not any(isinstance(e, SignalReceived) and e.signal.source == "crashy" for e in events)
    assert inv.decisions(events) == []
