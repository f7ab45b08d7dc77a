"""Ray metrics of a running system reach Ray's Prometheus endpoint."""

from __future__ import annotations

import time
import urllib.request

import pytest
import ray

from cluster.config import TapelineConfig
from cluster.runtime import start_system, stop_system, wait_caught_up

pytestmark = pytest.mark.ray


WANTED_HOPS = {"SignalReceived->OrderIntentApproved", "OrderIntentApproved->OrderSubmitted"}


def _hops(body: str) -> set[str]:
    return {part.split('"')[1] for part in body.split("hop=")[1:]}


def _complete(body: str) -> bool:
    return (
        _hops(body) >= WANTED_HOPS
        and 'kind="fills"' in body
        and "ray_tapeline_position" in body
        and 'instrument="BTC-USDT"' in body
    )


def _scrape() -> str:
    port = ray._private.worker.global_worker.node.metrics_export_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def test_tapeline_metrics_are_exported(ray_cluster: object, small_config: TapelineConfig) -> None:
    system = start_system(small_config)
    try:
        ray.get(system.market_data.run.remote(), timeout=240)
        wait_caught_up(system)
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            body = _scrape()
            if _complete(body):  # counters and gauges reach the endpoint in separate flushes
                break
            time.sleep(2)
    finally:
        stop_system(system)
    assert _hops(body) >= WANTED_HOPS
    assert "ray_tapeline_events_total" in body and 'kind="fills"' in body
    assert "ray_tapeline_position" in body and 'instrument="BTC-USDT"' in body
