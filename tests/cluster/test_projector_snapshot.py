"""A projector killed after a snapshot comes back from it and agrees with a full replay."""

from __future__ import annotations

import time

import pytest
import ray

from cluster.config import TapelineConfig
from cluster.replay import rebuild
from cluster.runtime import start_system, stop_system, wait_caught_up
from store import open_tape

pytestmark = pytest.mark.ray


def test_projector_restarts_from_its_snapshot(ray_cluster: object, small_config: TapelineConfig):
    system = start_system(small_config)
    try:
        ray.get(system.market_data.run.remote(max_steps=120), timeout=240)
        wait_caught_up(system)
        at = ray.get(system.projector.save_snapshot.remote())
        ray.get(system.market_data.run.remote(), timeout=240)
        pid = ray.get(system.projector.stats.remote())
        ray.kill(system.projector, no_restart=False)
        deadline = time.monotonic() + 60
        while True:
            try:
                after = ray.get(system.projector.stats.remote(), timeout=30)
                break
            except ray.exceptions.RayActorError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        wait_caught_up(system)
        live = ray.get(system.projector.state.remote())
    finally:
        stop_system(system)
    assert at > 0 and after["position"] >= pid["position"]
    with open_tape(small_config.tape.url) as tape:
        assert tape.latest_snapshot("projector")[0] == at
        assert rebuild(tape, small_config.projections.starting_cash).bundle.state() == live
