"""Crash injection: while market data streams bars (and the strategy streams signals), the
strategy, risk manager, gateway and projector are killed at random points, many times; Ray
restarts each one and it rebuilds from the tape. Afterwards the tape must show: every signal has
one decision, no approved intent has more than one order at the venue (nor is over-filled), every
bar is recorded once, and the projections equal a fresh replay.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
import ray

from actors.market_data import load_steps
from cluster.config import MarketDataConfig, TapelineConfig
from cluster.runtime import start_system, stop_system, wait_caught_up
from domain.strategies.base import load_strategy
from store import open_tape
from tests.cluster import tape_invariants as inv

pytestmark = pytest.mark.ray

SEED = 20240601
BARS = 200
KILLS_PER_ACTOR = 4  # under the registry's quarantine threshold: every kill is restarted
TIME_BUDGET_S = 75.0


def kill_at_random(system: Any, run: Any, rng: random.Random) -> list[str]:
    """Kill a random victim after a random pause until the stream ends or each victim has died
    ``KILLS_PER_ACTOR`` times; returns the victims in order."""
    victims = {
        "strategy": system.strategies["ma_cross"],
        "risk": system.risks["main"],
        "gateway": system.gateways["paper"],
        "projector": system.projector,
    }
    left = dict.fromkeys(victims, KILLS_PER_ACTOR)
    killed: list[str] = []
    deadline = time.monotonic() + TIME_BUDGET_S / 2
    while any(left.values()) and time.monotonic() < deadline:
        done, _ = ray.wait([run], timeout=rng.uniform(0.1, 0.8))
        if done:
            break
        name = rng.choice(sorted(n for n, k in left.items() if k))
        ray.kill(victims[name], no_restart=False)
        left[name] -= 1
        killed.append(name)
    return killed


def test_random_kills_during_a_stream_keep_every_invariant(
    ray_cluster: object, small_config: TapelineConfig
) -> None:
    cfg = small_config.model_copy(
        update={"market_data": MarketDataConfig(bars=BARS, seed=small_config.market_data.seed)}
    )
    rng = random.Random(SEED)
    system = start_system(cfg)
    try:
        run = system.market_data.run.remote()
        killed = kill_at_random(system, run, rng)
        steps = ray.get(run, timeout=TIME_BUDGET_S)
        wait_caught_up(system, timeout_s=30)
        ray.get(system.projector.record.remote(), timeout=30)
        live = ray.get(system.projector.state.remote(), timeout=30)
        rows = {r["name"]: r for r in ray.get(system.registry.list.remote(), timeout=30)}
    finally:
        stop_system(system)

    assert steps == BARS
    assert len(killed) >= 8, f"too few kills to mean much: {killed}"
    assert not any(r["state"] == "QUARANTINED" for r in rows.values())
    assert rows["risk.main"]["restarts"] == killed.count("risk")
    with open_tape(cfg.tape.url) as tape:
        events = inv.all_events(tape)
        problems = inv.replay_agrees(tape, cfg.projections.starting_cash, live)
    problems += inv.bars_once(events, sum(map(len, load_steps(cfg.market_data))))
    problems += inv.decisions(events)
    problems += inv.orders(events, every_approval_sent=False)
    problems += inv.fills_within_orders(events)
    assert problems == [], f"after kills {killed}: {problems}"
    assert inv.summary(events).get("OrderFilled", 0) > 0


def test_strategy_killed_before_a_signalling_bar_still_sends_its_signal(
    ray_cluster: object, small_config: TapelineConfig
) -> None:
    cfg = small_config
    spec = cfg.strategies[0]
    oracle = load_strategy(spec.cls, spec.name, spec.params)
    steps = load_steps(cfg.market_data)
    signalling = [i for i, step in enumerate(steps) if [s for b in step for s in oracle.on_bar(b)]]
    assert len(signalling) > 3
    system = start_system(cfg)
    try:
        ray.get(system.market_data.run.remote(max_steps=signalling[2]), timeout=60)
        ray.kill(system.strategies[spec.name], no_restart=False)  # market data records the bar
        ray.get(system.market_data.run.remote(), timeout=120)  # while the strategy restarts
        ray.get(system.risks["main"].recover.remote(), timeout=30)
    finally:
        stop_system(system)
    with open_tape(cfg.tape.url) as tape:
        events = inv.all_events(tape)
    assert inv.decisions(events) == []
    assert inv.signals_match_strategy(events, spec.name, spec.cls, spec.params) == []
