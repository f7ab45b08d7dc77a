"""Every performance metric checked against quantstats, empyrical and pandas on the same data.

The convention translations are spelled out where the references differ from ours (quantstats
reads a drawdown episode as its under-water days; we measure peak to recovery in time).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from projections.performance import compute_performance, realised_equity
from projections.performance_inputs import (
    NS_PER_DAY,
    Annualization,
    EquityCurve,
    Fills,
    PositionSnapshots,
    TradeLog,
)
from projections.performance_returns import return_metrics

pd = pytest.importorskip("pandas", reason="pandas is a test-only reference dependency")
qs = pytest.importorskip("quantstats", reason="quantstats is a test-only reference dependency")
ep = pytest.importorskip("empyrical", reason="empyrical-reloaded is a test-only reference")

START_NS = 1_600_000_000 * 1_000_000_000 // NS_PER_DAY * NS_PER_DAY
STRATEGIES = ["breakout", "mean_rev", "tv_alert"]
INSTRUMENTS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
VENUES = ["binance", "paper"]


def random_equity(seed: int, n: int, interval_ns: int, drift: float = 3e-4) -> EquityCurve:
    rng = np.random.default_rng(seed)
    returns = rng.normal(drift, 0.02, n)
    equity = 10_000.0 * np.cumprod(np.r_[1.0, 1.0 + returns])
    return EquityCurve.from_columns(START_NS + np.arange(n + 1) * interval_ns, equity)


def random_trades(seed: int, n: int) -> TradeLog:
    rng = np.random.default_rng(seed)
    entry = START_NS + np.sort(rng.integers(0, 300 * NS_PER_DAY, n))
    pnl = np.round(rng.normal(5.0, 40.0, n), 2)
    pnl[pnl == 0.0] = 0.01
    return TradeLog.from_columns(
        strategy=rng.choice(STRATEGIES, n),
        instrument=rng.choice(INSTRUMENTS, n),
        venue=rng.choice(VENUES, n),
        entry_ts_ns=entry,
        exit_ts_ns=entry + rng.integers(1, 5 * NS_PER_DAY, n),
        side=rng.choice(["buy", "sell"], n),
        quantity=rng.uniform(0.1, 2.0, n),
        entry_price=rng.uniform(90, 110, n),
        exit_price=rng.uniform(90, 110, n),
        pnl=pnl,
        fees=rng.uniform(0.0, 1.0, n),
    )


def as_series(curve: EquityCurve, interval_ns: int) -> tuple[pd.Series, pd.Series]:
    """(raw equity, bar returns) with pandas: last equity per epoch-anchored bar, gaps filled."""
    equity = pd.Series(curve.equity, index=pd.to_datetime(curve.ts_ns, unit="ns"))
    bars = equity.resample(pd.Timedelta(interval_ns, unit="ns"), origin="epoch").last().ffill()
    return equity, bars.pct_change().iloc[1:]


def assert_close(ours: float | None, theirs: float, rel: float = 1e-9) -> None:
    assert ours is not None
    assert ours == pytest.approx(float(theirs), rel=rel, abs=1e-12)


def check_return_metrics(curve: EquityCurve, ann: Annualization) -> None:
    ours = return_metrics(curve, ann)
    equity, returns = as_series(curve, ann.interval_ns)
    ppy = ann.periods_per_year
    rf = ann.risk_free_per_period
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_close(ours.sharpe, qs.stats.sharpe(returns, rf=ann.risk_free_rate, periods=ppy))
        assert_close(ours.sharpe, ep.sharpe_ratio(returns, risk_free=rf, annualization=ppy))
        assert_close(ours.sortino, qs.stats.sortino(returns, rf=ann.risk_free_rate, periods=ppy))
        assert_close(ours.sortino, ep.sortino_ratio(returns, required_return=rf, annualization=ppy))
        assert_close(ours.cagr, ep.annual_return(returns, annualization=ppy))
        assert_close(ours.volatility, ep.annual_volatility(returns, annualization=ppy))
        assert_close(ours.calmar, ep.calmar_ratio(returns, annualization=ppy))
        assert_close(ours.calmar, qs.stats.calmar(returns, periods=ppy))
        assert ours.max_drawdown is not None
        assert_close(ours.max_drawdown.pct, -ep.max_drawdown(returns))
        assert_close(ours.max_drawdown.pct, -qs.stats.max_drawdown(returns))
        assert_close(ours.max_drawdown.amount, (equity.cummax() - equity).max())
        assert ours.max_drawdown.duration_ns == longest_drawdown_pandas(equity)
        if ann.interval_ns == NS_PER_DAY:  # quantstats reports episodes by calendar date
            assert ours.max_drawdown.duration_ns == longest_drawdown_ns(returns, equity)


def longest_drawdown_pandas(equity: pd.Series) -> int:
    """Longest peak-to-recovery time: episodes split where equity makes a new high."""
    at_peak = equity >= equity.cummax()
    episode = at_peak.cumsum()
    starts = equity.index.to_series().groupby(episode.to_numpy()).first()
    under = (~at_peak).groupby(episode.to_numpy()).any()
    ends = starts.shift(-1).fillna(equity.index[-1])
    durations = (ends - starts)[under.to_numpy()]
    return int(durations.max().value) if len(durations) else 0


def longest_drawdown_ns(returns: pd.Series, equity: pd.Series) -> int:
    """Longest peak-to-recovery time from quantstats' drawdown episodes.

    quantstats reports each episode by its first and last under-water bar; the peak is the bar
    before the first, and the recovery the bar after the last (or the last bar if never)."""
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(returns))
    if details.empty:
        return 0
    index = equity.index
    longest = 0
    for start, end in zip(details["start"], details["end"], strict=True):
        first = index.searchsorted(pd.Timestamp(start))
        last = index.searchsorted(pd.Timestamp(end))
        peak = index[first - 1]
        recovery = index[min(last + 1, len(index) - 1)]
        longest = max(longest, int((recovery - peak).value))
    return longest


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("risk_free", [0.0, 0.04])
def test_return_metrics_match_quantstats_and_empyrical_on_daily_bars(
    seed: int, risk_free: float
) -> None:
    ann = Annualization(interval_ns=NS_PER_DAY, risk_free_rate=risk_free)
    check_return_metrics(random_equity(seed, 400, NS_PER_DAY), ann)


def test_return_metrics_match_references_on_hourly_bars_with_365_day_years() -> None:
    hour = NS_PER_DAY // 24
    ann = Annualization(interval_ns=hour)
    assert ann.periods_per_year == pytest.approx(365 * 24)
    check_return_metrics(random_equity(42, 2000, hour, drift=1e-4), ann)


@pytest.mark.parametrize("seed", range(5))
def test_trade_metrics_match_quantstats_per_group_and_in_total(seed: int) -> None:
    trades = random_trades(seed, 500)
    report = compute_performance(trades=trades)
    frame = pd.DataFrame(
        {
            "strategy": np.array(trades.strategy.names)[trades.strategy.codes],
            "instrument": np.array(trades.instrument.names)[trades.instrument.codes],
            "venue": np.array(trades.venue.names)[trades.venue.codes],
            "pnl": trades.pnl,
            "fees": trades.fees,
        }
    )
    groups = [("total", report.total, frame)]
    for dim in ("strategy", "instrument", "venue"):
        for name, rows in frame.groupby(dim):
            groups.append((name, report.groups(dim)[name], rows))
    for name, ours, rows in groups:
        pnl = rows["pnl"].reset_index(drop=True)
        win_rate = qs.stats.win_rate(pnl, prepare_returns=False)
        avg_win = qs.stats.avg_win(pnl, prepare_returns=False)
        avg_loss = qs.stats.avg_loss(pnl, prepare_returns=False)
        assert ours.trades == len(rows), name
        assert_close(ours.win_rate, win_rate)
        assert_close(ours.avg_win, avg_win)
        assert_close(ours.avg_loss, avg_loss)
        assert_close(ours.profit_factor, qs.stats.profit_factor(pnl, prepare_returns=False))
        assert_close(ours.expectancy, win_rate * avg_win + (1 - win_rate) * avg_loss)
        assert_close(ours.net_pnl, pnl.sum())
        assert_close(ours.fees_paid, rows["fees"].sum())


def test_realised_equity_metrics_per_instrument_match_references() -> None:
    trades = random_trades(7, 800)
    ann = Annualization()
    report = compute_performance(trades=trades, annualization=ann, starting_capital=50_000.0)
    code = trades.instrument.names.index("ETH-USDT")
    curve = realised_equity(trades, 50_000.0, np.flatnonzero(trades.instrument.codes == code))
    daily = pd.Series(curve.equity, index=pd.to_datetime(curve.ts_ns, unit="ns"))
    daily = daily.resample("1D", origin="epoch").last().ffill()
    returns = daily.pct_change().iloc[1:]
    ours = report.by_instrument["ETH-USDT"]
    assert_close(ours.sharpe, ep.sharpe_ratio(returns, annualization=365))
    assert_close(ours.sortino, ep.sortino_ratio(returns, annualization=365))
    assert_close(ours.cagr, ep.annual_return(returns, annualization=365))
    assert ours.max_drawdown == pytest.approx((curve_cummax(curve) - curve.equity).max())


def curve_cummax(curve: EquityCurve) -> np.ndarray:
    return pd.Series(curve.equity).cummax().to_numpy()


def test_turnover_fees_and_exposure_match_pandas_groupby() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "ts_ns": START_NS + np.sort(rng.integers(0, NS_PER_DAY, n)),
            "strategy": rng.choice(STRATEGIES, n),
            "instrument": rng.choice(INSTRUMENTS, n),
            "venue": rng.choice(VENUES, n),
            "quantity": rng.normal(0, 1, n),
            "price": rng.uniform(90, 110, n),
            "fee": rng.uniform(0, 0.1, n),
        }
    )
    fills = Fills.from_columns(**{c: frame[c].to_numpy() for c in frame.columns})
    report = compute_performance(fills=fills)
    frame["notional"] = (frame["quantity"] * frame["price"]).abs()
    keys = ["strategy", "instrument", "venue"]
    pos = frame.groupby(keys).agg(qty=("quantity", "sum"), price=("price", "last"))
    pos["value"] = pos["qty"] * pos["price"]
    assert_close(report.total.turnover, frame["notional"].sum())
    assert_close(report.total.fees_paid, frame["fee"].sum())
    assert_close(report.total.gross_exposure, pos["value"].abs().sum())
    assert_close(report.total.net_exposure, pos["value"].sum())
    for dim in keys:
        by = frame.groupby(dim)
        value = pos.groupby(level=dim)["value"]
        for name, ours in report.groups(dim).items():
            assert_close(ours.turnover, by["notional"].sum()[name])
            assert_close(ours.fees_paid, by["fee"].sum()[name])
            assert_close(ours.gross_exposure, value.apply(lambda v: v.abs().sum())[name])
            assert_close(ours.net_exposure, value.sum()[name])


def test_exposure_from_snapshots_takes_the_last_snapshot_at_or_before_as_of() -> None:
    rng = np.random.default_rng(5)
    n = 500
    frame = pd.DataFrame(
        {
            "ts_ns": START_NS + np.sort(rng.integers(0, 1000, n)),
            "instrument": rng.choice(INSTRUMENTS, n),
            "venue": rng.choice(VENUES, n),
            "quantity": rng.normal(0, 3, n),
            "mark_price": rng.uniform(90, 110, n),
        }
    )
    as_of = START_NS + 600
    snaps = PositionSnapshots.from_columns(**{c: frame[c].to_numpy() for c in frame.columns})
    report = compute_performance(positions=snaps, as_of_ns=as_of)
    seen = frame[frame["ts_ns"] <= as_of].groupby(["instrument", "venue"]).last()
    seen["value"] = seen["quantity"] * seen["mark_price"]
    assert_close(report.exposure.total.gross, seen["value"].abs().sum())
    assert_close(report.exposure.total.net, seen["value"].sum())
    for venue, rows in seen.groupby(level="venue"):
        assert_close(report.by_venue[venue].gross_exposure, rows["value"].abs().sum())
        assert_close(report.by_venue[venue].net_exposure, rows["value"].sum())


def read_closes(market: Path, name: str) -> EquityCurve:
    pq = pytest.importorskip("pyarrow.parquet")
    path = market / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    table = pq.read_table(path, columns=["ts_ms", "close"])
    ts = table.column("ts_ms").to_numpy().astype(np.int64) * 1_000_000
    return EquityCurve.from_columns(ts, 1_000.0 * table.column("close").to_numpy())


@pytest.mark.parametrize(
    ("name", "minutes"),
    [
        ("binance_ETH-BTC_5m.parquet", 5),
        ("binance_ADA-BTC_5m.parquet", 5),
        ("binance_LTC-BTC_5m.parquet", 5),
        ("binance_XRP-ETH_1m.parquet", 1),
    ],
)
def test_return_metrics_match_references_on_real_candles(
    shared_market_data: Path, name: str, minutes: int
) -> None:
    curve = read_closes(shared_market_data, name)
    interval = minutes * 60 * 1_000_000_000
    ann = Annualization(interval_ns=interval)
    check_return_metrics(curve, ann)


def test_gaps_are_forward_filled_like_pandas_resample(shared_market_data: Path) -> None:
    curve = read_closes(shared_market_data, "binance_XRP-ETH_1m.parquet")
    keep = np.ones(len(curve), dtype=bool)
    keep[100:140] = False
    keep[500:503] = False
    gappy = EquityCurve.from_columns(curve.ts_ns[keep], curve.equity[keep])
    ann = Annualization(interval_ns=60 * 1_000_000_000)
    check_return_metrics(gappy, ann)
    _, returns = as_series(gappy, ann.interval_ns)
    assert return_metrics(gappy, ann).periods == len(returns)
