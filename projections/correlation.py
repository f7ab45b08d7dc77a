"""Correlation matrix of strategies' returns, aligned on a common bar grid.

Strategies start, stop and report at different times, so their equity curves are first put on one
grid of bars (``interval_ns``, anchored at the Unix epoch): each bar takes a strategy's last equity
in it; a bar without an observation *inside* that strategy's span repeats the previous equity (a
zero return); bars before its first or after its last observation are missing (NaN). Each pair is
then correlated (Pearson) over the bars where both returns exist (pairwise-complete, like
``pandas.DataFrame.corr``); a pair with fewer than ``min_periods`` common returns, or with a
return series that does not vary over those bars, has no correlation (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from domain.values import Frozen
from projections.performance_inputs import EquityCurve
from projections.performance_returns import resample_last, simple_returns


class CorrelationMatrix(Frozen):
    names: list[str]
    values: list[list[float | None]]
    observations: list[list[int]]

    def get(self, a: str, b: str) -> float | None:
        return self.values[self.names.index(a)][self.names.index(b)]


def aligned_returns(
    curves: Mapping[str, EquityCurve], interval_ns: int
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(bar start times of the returns, names, returns matrix bars x strategies with NaN gaps)."""
    names = sorted(name for name, curve in curves.items() if len(curve))
    if not names:
        return np.zeros(0, dtype=np.int64), [], np.zeros((0, 0))
    first = min(int(curves[n].ts_ns[0] // interval_ns) for n in names)
    last = max(int(curves[n].ts_ns[-1] // interval_ns) for n in names)
    n_bars = last - first + 1
    equity = np.column_stack(
        [
            resample_last(curves[n].ts_ns, curves[n].equity, interval_ns, first, n_bars)
            for n in names
        ]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = simple_returns(equity)
        returns[~np.isfinite(returns)] = np.nan
    grid = (np.arange(1, n_bars, dtype=np.int64) + first) * interval_ns
    return grid, names, returns


def pairwise_correlation(
    returns: np.ndarray, min_periods: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of every column pair over their common non-NaN rows, vectorised.

    Returns (correlations with NaN where undefined, counts of common rows)."""
    valid = ~np.isnan(returns)
    m = valid.astype(np.float64)
    filled = np.where(valid, returns, 0.0)
    col_mean = filled.sum(axis=0) / np.maximum(m.sum(axis=0), 1.0)
    x = np.where(valid, filled - col_mean, 0.0)  # centring keeps the sums well conditioned
    n = m.T @ m
    sx = x.T @ m  # sx[i, j]: sum of column i over rows where i and j are both present
    sxx = (x * x).T @ m
    sxy = x.T @ x
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        var_j = var_i.T
        corr = cov / np.sqrt(var_i * var_j)
    scale = np.maximum(sxx, sxx.T)
    tiny = (var_i <= 1e-14 * scale) | (var_j <= 1e-14 * scale.T)
    corr[(n < max(min_periods, 2)) | tiny | ~np.isfinite(corr)] = np.nan
    corr = np.clip(corr, -1.0, 1.0)
    diagonal = np.diagonal(corr).copy()
    np.fill_diagonal(corr, np.where(np.isnan(diagonal), np.nan, 1.0))
    return corr, n.astype(np.int64)


def correlation_matrix(
    curves: Mapping[str, EquityCurve], interval_ns: int, min_periods: int = 3
) -> CorrelationMatrix:
    _, names, returns = aligned_returns(curves, interval_ns)
    if not names:
        return CorrelationMatrix(names=[], values=[], observations=[])
    corr, counts = pairwise_correlation(returns, min_periods)
    values = [[None if np.isnan(v) else float(v) for v in row] for row in corr]
    return CorrelationMatrix(names=names, values=values, observations=counts.tolist())
