"""Documented edge cases of the performance metrics, input validation and grouping properties."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.performance import GroupMetrics, PerformanceReport, compute_performance
from projections.performance_inputs import (
    NS_PER_DAY,
    Annualization,
    EquityCurve,
    Labels,
    TradeLog,
    split_equity,
)
from projections.performance_returns import return_metrics

DAY = NS_PER_DAY


def trades_with(pnl: list[float], strategy: list[str] | None = None) -> TradeLog:
    n = len(pnl)
    return TradeLog.from_columns(
        strategy=strategy or ["s"] * n,
        instrument=["BTC-USDT"] * n,
        venue=["paper"] * n,
        entry_ts_ns=np.arange(n) * DAY,
        exit_ts_ns=np.arange(n) * DAY + DAY // 2,
        side=[1] * n,
        quantity=[1.0] * n,
        entry_price=[100.0] * n,
        exit_price=[100.0] * n,
        pnl=pnl,
        fees=[0.5] * n,
    )


def daily(equity: list[float]) -> EquityCurve:
    return EquityCurve.from_columns(np.arange(len(equity)) * DAY, equity)


def test_no_trades_leaves_ratios_undefined() -> None:
    report = compute_performance()
    assert report.total.trades == 0
    assert report.total.win_rate is None
    assert report.total.profit_factor is None
    assert report.total.expectancy is None
    assert report.total.sharpe is None
    assert report.by_strategy == {}


def test_no_losses_gives_infinite_profit_factor_and_only_breakevens_none() -> None:
    winners = compute_performance(trades=trades_with([5.0, 3.0, 0.0])).total
    assert winners.profit_factor == math.inf
    assert winners.avg_loss is None
    assert winners.win_rate == pytest.approx(2 / 3)  # a breakeven is a trade but not a win
    assert winners.breakeven == 1
    flat = compute_performance(trades=trades_with([0.0, 0.0])).total
    assert flat.profit_factor is None
    assert flat.win_rate == 0.0
    assert flat.expectancy == 0.0


def test_infinite_ratios_survive_a_json_round_trip() -> None:
    report = compute_performance(trades=trades_with([1.0]))
    again = PerformanceReport.model_validate_json(report.model_dump_json())
    assert again.total.profit_factor == math.inf


def test_constant_equity_has_no_sharpe_sortino_or_calmar_and_no_drawdown() -> None:
    metrics = return_metrics(daily([100.0] * 10), Annualization())
    assert metrics.sharpe is None
    assert metrics.sortino is None
    assert metrics.calmar is None
    assert metrics.volatility == 0.0
    assert metrics.total_return == 0.0
    assert metrics.max_drawdown is not None
    assert metrics.max_drawdown.amount == 0.0
    assert metrics.max_drawdown.duration_ns == 0


def test_constant_equity_with_a_risk_free_rate_has_a_negative_sortino() -> None:
    metrics = return_metrics(daily([100.0] * 10), Annualization(risk_free_rate=0.05))
    assert metrics.sharpe is None
    assert metrics.sortino == pytest.approx(-math.sqrt(365))


def test_rising_equity_without_a_dip_gives_infinite_sortino_and_calmar() -> None:
    metrics = return_metrics(daily([100.0, 101.0, 103.0, 104.0]), Annualization())
    assert metrics.sortino == math.inf
    assert metrics.calmar == math.inf
    assert metrics.max_drawdown is not None and metrics.max_drawdown.pct == 0.0


def test_single_sample_and_empty_curves() -> None:
    one = return_metrics(daily([100.0]), Annualization())
    assert one.periods == 0
    assert one.sharpe is None and one.cagr is None
    assert return_metrics(daily([]), Annualization()).periods == 0


def test_non_positive_equity_keeps_the_drawdown_amount_but_no_ratios() -> None:
    metrics = return_metrics(daily([100.0, -20.0, 50.0]), Annualization())
    assert metrics.sharpe is None
    assert metrics.max_drawdown is not None and metrics.max_drawdown.amount == 120.0


def test_drawdown_duration_runs_peak_to_recovery_or_to_the_last_sample() -> None:
    recovered = return_metrics(daily([100, 120, 90, 100, 121, 119, 120]), Annualization())
    assert recovered.max_drawdown is not None
    assert recovered.max_drawdown.duration_ns == 3 * DAY  # 120 on day 1 until 121 on day 4
    assert recovered.max_drawdown.amount == 30.0
    assert recovered.max_drawdown.pct == pytest.approx(0.25)
    assert recovered.max_drawdown.peak_ts_ns == DAY
    assert recovered.max_drawdown.trough_ts_ns == 2 * DAY
    open_ended = return_metrics(daily([100, 110, 105, 106, 107, 108, 109]), Annualization())
    assert open_ended.max_drawdown is not None
    assert open_ended.max_drawdown.duration_ns == 5 * DAY


def test_annualisation_follows_the_bar_interval() -> None:
    assert Annualization(interval_ns=DAY).periods_per_year == 365
    assert Annualization(interval_ns=5 * 60 * 10**9).periods_per_year == 365 * 288
    assert Annualization(days_per_year=252).periods_per_year == 252
    rf = Annualization(risk_free_rate=0.05).risk_free_per_period
    assert (1 + rf) ** 365 == pytest.approx(1.05)


def test_inputs_are_validated_sorted_and_dictionary_encoded() -> None:
    with pytest.raises(ValueError, match="length"):
        EquityCurve.from_columns([1, 2], [1.0])
    with pytest.raises(ValueError, match="side"):
        TradeLog.from_columns(**{**_columns(), "side": ["sideways"]})
    curve = EquityCurve.from_columns([3, 1, 2], [30.0, 10.0, 20.0])
    assert curve.equity.tolist() == [10.0, 20.0, 30.0]
    labels = Labels.of(pa.array(["b", "a", "b"]).dictionary_encode())
    assert labels.names == ("a", "b")
    assert labels.codes.tolist() == [1, 0, 1]
    trades = TradeLog.from_arrow(pa.table(_columns()))
    assert trades.side.tolist() == [-1]


def _columns() -> dict[str, list]:
    return {
        "strategy": ["s"],
        "instrument": ["BTC-USDT"],
        "venue": ["paper"],
        "entry_ts_ns": [1],
        "exit_ts_ns": [2],
        "side": ["sell"],
        "quantity": [1.0],
        "entry_price": [1.0],
        "exit_price": [1.0],
        "pnl": [1.0],
        "fees": [0.1],
    }


def test_split_equity_makes_one_curve_per_strategy() -> None:
    curves = split_equity([2, 1, 1, 2], [11.0, 10.0, 20.0, 21.0], ["a", "a", "b", "b"])
    assert curves["a"].equity.tolist() == [10.0, 11.0]
    assert curves["b"].ts_ns.tolist() == [1, 2]


def test_groups_without_a_curve_use_realised_pnl_only_with_starting_capital() -> None:
    trades = trades_with([10.0, -5.0, 20.0, -1.0])
    without = compute_performance(trades=trades).by_instrument["BTC-USDT"]
    assert without.sharpe is None
    with_capital = compute_performance(trades=trades, starting_capital=1000.0)
    group = with_capital.by_instrument["BTC-USDT"]
    assert group.start_equity == 1000.0
    assert group.end_equity == 1024.0
    assert group.max_drawdown == 5.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_group_metrics_add_up_to_the_total(rows: list[tuple[str, float]]) -> None:
    report = compute_performance(trades=trades_with([p for _, p in rows], [s for s, _ in rows]))
    groups: list[GroupMetrics] = list(report.by_strategy.values())
    total = report.total
    assert sum(g.trades for g in groups) == total.trades == len(rows)
    assert sum(g.wins for g in groups) == total.wins
    assert sum(g.net_pnl for g in groups) == pytest.approx(total.net_pnl, abs=1e-6)
    assert total.expectancy == pytest.approx(total.net_pnl / total.trades, abs=1e-9)
    if total.avg_win is not None and total.avg_loss is not None:
        n = total.trades
        recombined = total.wins / n * total.avg_win + total.losses / n * total.avg_loss
        assert recombined == pytest.approx(total.expectancy, abs=1e-6)
