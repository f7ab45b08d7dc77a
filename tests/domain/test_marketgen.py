"""The market generator: deterministic, well-formed bars with the features the demo relies on."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest

from domain.bars import NS_PER_S, Bar
from domain.marketgen import (
    DEFAULT_INSTRUMENTS,
    MarketGenConfig,
    generate_bars,
    instrument_profile,
    iter_bars,
)

START = 1_700_000_000 * NS_PER_S


@pytest.fixture(scope="module")
def steps() -> list[list[Bar]]:
    return generate_bars(list(DEFAULT_INSTRUMENTS), 3000, 60, START, seed=11)


def series(steps: list[list[Bar]], instrument: str) -> list[Bar]:
    return [b for step in steps for b in step if b.instrument == instrument]


def aligned_log_returns(steps: list[list[Bar]]) -> np.ndarray:
    """Intrabar log returns (close/open) on the steps where every instrument has a bar."""
    full = [step for step in steps if len(step) == len(DEFAULT_INSTRUMENTS)]
    close = np.array([[float(b.close) for b in step] for step in full])
    open_ = np.array([[float(b.open) for b in step] for step in full])
    return np.log(close / open_)


def test_same_seed_same_bars_and_different_seed_different_bars() -> None:
    a = generate_bars(["BTC-USDT", "ETH-USDT"], 300, 60, START, seed=5)
    b = generate_bars(["BTC-USDT", "ETH-USDT"], 300, 60, START, seed=5)
    c = generate_bars(["BTC-USDT", "ETH-USDT"], 300, 60, START, seed=6)
    assert a == b
    assert a != c


def test_a_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    short = generate_bars(["SOL-USDT"], 1500, 60, START, seed=2)
    long = generate_bars(["SOL-USDT"], 2600, 60, START, seed=2)
    assert long[:1500] == short
    assert list(iter_bars(["SOL-USDT"], 1500, 60, START, seed=2)) == short


def test_bars_are_well_formed(steps: list[list[Bar]]) -> None:
    assert len(steps) == 3000
    for i, step in enumerate(steps):
        for bar in step:
            assert bar.checked() is bar
            assert bar.open_ts_ns == START + i * 60 * NS_PER_S
            assert bar.venue == "paper" and bar.interval_s == 60
            assert bar.low > 0 and bar.volume > 0
            assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
            for price in (bar.open, bar.high, bar.low, bar.close):
                assert price.as_tuple().exponent == -2  # whole ticks of 0.01
        assert [b.instrument for b in step] == [
            name for name in DEFAULT_INSTRUMENTS if name in {b.instrument for b in step}
        ]


def test_realistic_price_levels(steps: list[list[Bar]]) -> None:
    levels = {name: float(series(steps, name)[0].open) for name in DEFAULT_INSTRUMENTS}
    assert 10_000 < levels["BTC-USDT"] < 100_000
    assert 1_000 < levels["ETH-USDT"] < 5_000
    assert 20 < levels["SOL-USDT"] < 500


def test_missing_bars_and_price_gaps(steps: list[list[Bar]]) -> None:
    assert any(len(step) < len(DEFAULT_INSTRUMENTS) for step in steps)
    btc = series(steps, "BTC-USDT")
    assert len(btc) < 3000
    gaps = [abs(b.open - a.close) / a.close for a, b in pairwise(btc)]
    assert max(gaps) > Decimal("0.001")  # some opens jump away from the last close
    assert sum(1 for g in gaps if g < Decimal("0.0002")) > len(gaps) * 0.8  # most do not


def test_symbols_are_correlated(steps: list[list[Bar]]) -> None:
    corr = np.corrcoef(aligned_log_returns(steps).T)
    off_diagonal = corr[~np.eye(len(DEFAULT_INSTRUMENTS), dtype=bool)]
    assert off_diagonal.min() > 0.3


def test_volatility_clusters_and_volume_follows_volatility(steps: list[list[Bar]]) -> None:
    for name in DEFAULT_INSTRUMENTS:
        bars = series(steps, name)
        r = np.abs(np.log([float(b.close / b.open) for b in bars]))
        autocorr = np.corrcoef(r[:-1], r[1:])[0, 1]
        assert autocorr > 0.05
        ranges = np.log([float(b.high / b.low) for b in bars])
        volumes = np.array([float(b.volume) for b in bars])
        assert np.corrcoef(ranges, volumes)[0, 1] > 0.2


def variance_ratio(steps: list[list[Bar]], instrument: str, window: int = 100) -> float:
    """var(window-bar log return) / (window * var(1-bar log return)): about 1 for a random walk,
    above 1 when drift persists (trends)."""
    logs = np.log([float(b.close) for b in series(steps, instrument)])
    one = np.diff(logs)
    many = logs[window:] - logs[:-window]
    return float(many.var() / (window * one.var()))


def test_regime_drift_makes_trends() -> None:
    diffs = []
    for seed in range(3):
        trending = generate_bars(list(DEFAULT_INSTRUMENTS), 2000, 60, START, seed)
        flat = generate_bars(
            list(DEFAULT_INSTRUMENTS), 2000, 60, START, seed, config=MarketGenConfig(trend_drift=0)
        )
        for name in DEFAULT_INSTRUMENTS:
            diffs.append(variance_ratio(trending, name) - variance_ratio(flat, name))
    assert float(np.mean(diffs)) > 0.1


def test_unknown_instruments_get_a_stable_profile() -> None:
    assert instrument_profile("DOGE-USDT", 1) == instrument_profile("DOGE-USDT", 1)
    bars = series(generate_bars(["DOGE-USDT"], 200, 300, START, seed=1), "DOGE-USDT")
    tick_exp = instrument_profile("DOGE-USDT", 1).tick_exp
    assert all(b.checked() and b.close.as_tuple().exponent == tick_exp for b in bars)


def test_empty_and_invalid_requests() -> None:
    assert generate_bars(["BTC-USDT"], 0, 60, START, seed=1) == []
    with pytest.raises(ValueError):
        generate_bars(["BTC-USDT"], 10, 0, START, seed=1)
    with pytest.raises(ValueError):
        generate_bars(["BTC-USDT", "BTC-USDT"], 10, 60, START, seed=1)
    with pytest.raises(ValueError):
        generate_bars(["BTC-USDT"], 10, 60, START, 1, config=MarketGenConfig(garch_beta=0.95))
