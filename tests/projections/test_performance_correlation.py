"""The strategies' return correlation matrix against pandas on aligned, gappy and real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from projections.correlation import correlation_matrix
from projections.performance import compute_performance
from projections.performance_inputs import Annualization, EquityCurve

pd = pytest.importorskip("pandas", reason="pandas is a test-only reference dependency")

MINUTE = 60 * 1_000_000_000


def pandas_corr(curves: dict[str, EquityCurve], interval_ns: int, min_periods: int) -> pd.DataFrame:
    """The documented alignment, written with pandas: last per bar, filled inside each span."""
    step = pd.Timedelta(interval_ns, unit="ns")
    columns = {}
    for name, curve in curves.items():
        equity = pd.Series(curve.equity, index=pd.to_datetime(curve.ts_ns, unit="ns"))
        columns[name] = equity.resample(step, origin="epoch").last().ffill(limit_area="inside")
    frame = pd.DataFrame(columns).sort_index()
    frame = frame.reindex(pd.date_range(frame.index[0], frame.index[-1], freq=step))
    return frame.pct_change(fill_method=None).corr(min_periods=min_periods)


def assert_matches(ours, theirs: pd.DataFrame) -> None:
    for a in ours.names:
        for b in ours.names:
            expected = theirs.loc[a, b]
            if np.isnan(expected):
                assert ours.get(a, b) is None, (a, b)
            else:
                assert ours.get(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-12), (a, b)


def curve(seed: int, start: int, n: int, every: int = 1, drop: slice | None = None) -> EquityCurve:
    rng = np.random.default_rng(seed)
    ts = (start + np.arange(n) * every) * MINUTE + rng.integers(0, MINUTE // 2, n)
    equity = 1000 * np.cumprod(1 + rng.normal(0, 0.01, n))
    keep = np.ones(n, dtype=bool)
    if drop is not None:
        keep[drop] = False
    return EquityCurve.from_columns(ts[keep], equity[keep])


def test_correlation_matches_pandas_on_overlapping_gappy_curves() -> None:
    base = curve(1, 1000, 600)
    rng = np.random.default_rng(9)
    mixed = EquityCurve.from_columns(
        base.ts_ns, base.equity * np.cumprod(1 + rng.normal(0, 0.004, len(base)))
    )
    curves = {
        "a": base,
        "b": mixed,  # strongly correlated with a
        "c": curve(2, 1200, 300, drop=slice(50, 80)),  # starts late, has a hole
        "d": curve(3, 900, 200, every=2),  # samples every other bar
        "e": curve(4, 5000, 50),  # never overlaps a
    }
    ours = correlation_matrix(curves, MINUTE, min_periods=3)
    assert_matches(ours, pandas_corr(curves, MINUTE, 3))
    assert ours.get("a", "b") > 0.8
    assert ours.get("a", "e") is None
    assert ours.get("a", "a") == 1.0


def test_constant_and_short_curves_have_no_correlation() -> None:
    ts = (np.arange(20) + 100) * MINUTE
    curves = {
        "flat": EquityCurve.from_columns(ts, np.full(20, 500.0)),
        "moving": curve(5, 100, 20),
        "short": EquityCurve.from_columns(ts[:2], [1.0, 1.1]),
    }
    ours = correlation_matrix(curves, MINUTE, min_periods=3)
    assert ours.get("flat", "moving") is None
    assert ours.get("flat", "flat") is None
    assert ours.get("short", "moving") is None
    assert ours.observations[ours.names.index("short")][ours.names.index("moving")] == 1


def test_report_carries_the_matrix_of_strategy_curves() -> None:
    curves = {"x": curve(6, 0, 100), "y": curve(7, 0, 100)}
    report = compute_performance(
        strategy_equity=curves, annualization=Annualization(interval_ns=MINUTE)
    )
    assert report.correlation is not None
    assert report.correlation.names == ["x", "y"]
    assert set(report.by_strategy) == {"x", "y"}
    assert report.by_strategy["x"].sharpe is not None


def test_real_candles_correlation_matches_pandas(shared_market_data: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    curves = {}
    for name in ("ADA-BTC_5m", "ETH-BTC_5m", "LTC-BTC_5m", "XRP-ETH_1m"):
        path = shared_market_data / f"binance_{name}.parquet"
        if not path.exists():
            pytest.skip(f"{path} is absent")
        table = pq.read_table(path, columns=["ts_ms", "close"])
        ts = table.column("ts_ms").to_numpy().astype(np.int64) * 1_000_000
        curves[name] = EquityCurve.from_columns(ts, table.column("close").to_numpy())
    five = 5 * MINUTE
    ours = correlation_matrix(curves, five, min_periods=10)
    assert_matches(ours, pandas_corr(curves, five, 10))
    assert ours.get("ETH-BTC_5m", "LTC-BTC_5m") is not None
