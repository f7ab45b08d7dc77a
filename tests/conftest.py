"""Session-wide fixtures: one local Ray cluster for the whole run, started only if needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[object]:
    """A real local Ray cluster (2 CPUs, small object store, no dashboard), shut down at the end."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    started = False
    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            object_store_memory=80 * 1024 * 1024,
            include_dashboard=False,
            namespace="tapeline-test",
            log_to_driver=False,
            configure_logging=False,
        )
        started = True
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture
def shared_market_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared market data not present at {SHARED_DATA}")
    return SHARED_DATA
