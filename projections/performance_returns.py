"""Return-based metrics of an equity curve: bar resampling, drawdown, Sharpe, Sortino, Calmar.

Conventions (all explicit, all tested against quantstats / empyrical on the same returns):

* Equity is put on a regular bar grid (``Annualization.interval_ns``, bars anchored at the Unix
  epoch): each bar holds the last equity observed in it; a bar with no observation inside the
  curve's span repeats the previous bar (no change observed, so a zero return). The first sample
  is the opening equity (if later samples fall in its bar, it stands as the bar before).
  Returns are simple bar-to-bar returns ``E[t] / E[t-1] - 1``.
* Sharpe = mean(excess) / std(excess, ddof=1) * sqrt(periods_per_year).
* Sortino = mean(excess) / sqrt(mean(min(excess, 0) ** 2)) * sqrt(periods_per_year)
  (downside deviation over *all* periods, target = the risk-free rate).
* CAGR = (E_last / E_first) ** (periods_per_year / n_returns) - 1; Calmar = CAGR / max drawdown %.
* Max drawdown: amount (peak minus trough, quote currency), percent (of the running peak) and
  duration (longest time from a peak until equity is back at that peak, or until the last sample
  if it never recovers), each maximised independently, measured on every sample of the curve
  (not only bar closes, so an intra-bar trough is not missed).

Edge cases: fewer than two returns, or returns with no variation (constant equity), give ``None``
for Sharpe and Sortino; no downside gives Sortino ``inf`` when the mean excess return is positive
(``None`` otherwise); no drawdown gives Calmar ``inf`` when CAGR is positive (``None`` otherwise);
equity that is zero or negative anywhere makes the ratio metrics ``None`` (returns undefined).
"""

from __future__ import annotations

import math

import numpy as np

from domain.values import Frozen
from projections.performance_inputs import Annualization, EquityCurve


class DrawdownStats(Frozen):
    amount: float
    pct: float
    duration_ns: int
    peak_ts_ns: int | None = None
    trough_ts_ns: int | None = None


class ReturnMetrics(Frozen):
    periods: int
    start_equity: float | None = None
    end_equity: float | None = None
    total_return: float | None = None
    cagr: float | None = None
    volatility: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    calmar: float | None = None
    max_drawdown: DrawdownStats | None = None


def ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs; leading NaNs stay NaN."""
    valid = ~np.isnan(values)
    idx = np.where(valid, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    return values[idx]


def resample_last(
    ts_ns: np.ndarray, values: np.ndarray, interval_ns: int, first_bar: int, n_bars: int
) -> np.ndarray:
    """Bars ``first_bar .. first_bar + n_bars - 1`` (in units of ``interval_ns``): last value per
    bar, forward-filled inside the series' own span and NaN outside it."""
    out = np.full(n_bars, np.nan)
    if len(ts_ns) == 0:
        return out
    bar = ts_ns // interval_ns
    last = np.flatnonzero(np.r_[bar[1:] != bar[:-1], True])
    out[bar[last] - first_bar] = values[last]
    filled = ffill(out)
    filled[bar[-1] - first_bar + 1 :] = np.nan
    return filled


def bar_equity(curve: EquityCurve, interval_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """The curve on its own bar grid: (bar start times in ns, equity).

    The first sample is the opening equity: when later samples share its bar, it is kept as
    the close of the bar before, so the first bar's change is not lost."""
    if len(curve) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    first = int(curve.ts_ns[0] // interval_ns)
    opening = len(curve) > 1 and int(curve.ts_ns[1] // interval_ns) == first
    first -= opening
    n = int(curve.ts_ns[-1] // interval_ns) - first + 1
    grid = (np.arange(n, dtype=np.int64) + first) * interval_ns
    equity = resample_last(curve.ts_ns, curve.equity, interval_ns, first, n)
    if opening:
        equity[0] = curve.equity[0]
    return grid, equity


def simple_returns(equity: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return equity[1:] / equity[:-1] - 1.0


def drawdown_series(equity: np.ndarray) -> np.ndarray:
    """Fractional drawdown from the running peak at each sample (<= 0)."""
    if len(equity) == 0:
        return np.zeros(0)
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, equity / peak - 1.0, 0.0)
    return dd


def max_drawdown(ts_ns: np.ndarray, equity: np.ndarray) -> DrawdownStats:
    if len(equity) == 0:
        return DrawdownStats(amount=0.0, pct=0.0, duration_ns=0)
    peak = np.maximum.accumulate(equity)
    under = peak - equity
    trough = int(np.argmax(under))
    amount = float(under[trough])
    # = max(-drawdown_series(equity)) without a second running peak (1 - x is -(x - 1) exactly)
    pct = float(np.max(1.0 - equity / peak)) if bool(np.all(peak > 0)) else math.nan
    at_peak = equity >= peak
    peak_idx = np.where(at_peak, np.arange(len(equity)), 0)
    np.maximum.accumulate(peak_idx, out=peak_idx)
    # time since the peak that held one sample earlier, counted where either sample is under water
    since = ts_ns[1:] - ts_ns[peak_idx[:-1]]
    since = since[~at_peak[1:] | ~at_peak[:-1]]
    duration = int(since.max()) if len(since) else 0
    if amount <= 0.0:
        return DrawdownStats(amount=0.0, pct=0.0, duration_ns=duration)
    return DrawdownStats(
        amount=amount,
        pct=0.0 if math.isnan(pct) else pct,
        duration_ns=duration,
        peak_ts_ns=int(ts_ns[peak_idx[trough]]),
        trough_ts_ns=int(ts_ns[trough]),
    )


def _varies(x: np.ndarray, sd: float) -> bool:
    return sd > 1e-12 * max(1e-12, float(np.max(np.abs(x))))


def sharpe_ratio(returns: np.ndarray, ann: Annualization) -> float | None:
    if len(returns) < 2:
        return None
    excess = returns - ann.risk_free_per_period
    sd = float(np.std(excess, ddof=1))
    if not _varies(excess, sd):
        return None
    return float(np.mean(excess) / sd * math.sqrt(ann.periods_per_year))


def sortino_ratio(returns: np.ndarray, ann: Annualization) -> float | None:
    if len(returns) < 2:
        return None
    excess = returns - ann.risk_free_per_period
    mean = float(np.mean(excess))
    downside = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0.0:
        return math.inf if mean > 0.0 else None
    return float(mean / downside * math.sqrt(ann.periods_per_year))


def cagr(start: float, end: float, periods: int, ann: Annualization) -> float | None:
    if periods < 1 or start <= 0.0 or end < 0.0:
        return None
    return float((end / start) ** (ann.periods_per_year / periods) - 1.0)


def calmar_ratio(growth: float | None, dd_pct: float) -> float | None:
    if growth is None:
        return None
    if dd_pct <= 0.0:
        return math.inf if growth > 0.0 else None
    return growth / dd_pct


def return_metrics(curve: EquityCurve, ann: Annualization) -> ReturnMetrics:
    """Every return-based metric of one equity curve, on the ``ann.interval_ns`` bar grid."""
    _grid, equity = bar_equity(curve, ann.interval_ns)
    if len(equity) == 0:
        return ReturnMetrics(periods=0)
    dd = max_drawdown(curve.ts_ns, curve.equity)
    start, end = float(equity[0]), float(equity[-1])
    base = {"periods": len(equity) - 1, "start_equity": start, "end_equity": end}
    if not bool(np.all(equity > 0)):
        return ReturnMetrics(**base, max_drawdown=dd)
    returns = simple_returns(equity)
    growth = cagr(start, end, len(returns), ann)
    vol = (
        float(np.std(returns, ddof=1) * math.sqrt(ann.periods_per_year))
        if len(returns) > 1
        else None
    )
    return ReturnMetrics(
        **base,
        total_return=end / start - 1.0,
        cagr=growth,
        volatility=vol,
        sharpe=sharpe_ratio(returns, ann),
        sortino=sortino_ratio(returns, ann),
        calmar=calmar_ratio(growth, dd.pct),
        max_drawdown=dd,
    )
