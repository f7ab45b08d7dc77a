"""A small configuration on a fresh SQLite tape, in its own Ray namespace per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cluster.config import MarketDataConfig, RayConfig, TapeConfig, TapelineConfig


@pytest.fixture
def small_config(tmp_path: Path) -> TapelineConfig:
    return TapelineConfig(
        tape=TapeConfig(url=f"sqlite:///{tmp_path}/tape.sqlite"),
        ray=RayConfig(namespace=f"t{uuid.uuid4().hex[:8]}", dashboard=False),
        market_data=MarketDataConfig(bars=240, seed=11),
    )
