"""Shared report inputs: a small multi-strategy book with trades, fills and equity curves."""

from __future__ import annotations

import numpy as np
import pytest

from projections.performance import PerformanceReport, compute_performance
from projections.performance_inputs import Annualization, EquityCurve, Fills, TradeLog

HOUR = 3_600 * 1_000_000_000
START = 1_700_000_000 * 1_000_000_000


class Book:
    def __init__(self) -> None:
        rng = np.random.default_rng(11)
        n = 3_000
        ts = START + np.arange(n) * HOUR
        self.equity = EquityCurve.from_columns(
            ts, 10_000 * np.cumprod(1 + rng.normal(2e-4, 0.01, n))
        )
        self.per_strategy = {
            name: EquityCurve.from_columns(ts, 1_000 * np.cumprod(1 + rng.normal(1e-4, 0.01, n)))
            for name in ("breakout", "mean_rev", "<tv&alert>")
        }
        m = 400
        entry = START + np.sort(rng.integers(0, n * HOUR, m))
        self.trades = TradeLog.from_columns(
            strategy=rng.choice(list(self.per_strategy), m),
            instrument=rng.choice(["BTC-USDT", "ETH-USDT"], m),
            venue=rng.choice(["binance", "paper"], m),
            entry_ts_ns=entry,
            exit_ts_ns=entry + HOUR,
            side=rng.choice([1, -1], m),
            quantity=np.ones(m),
            entry_price=np.full(m, 100.0),
            exit_price=np.full(m, 101.0),
            pnl=rng.normal(1, 10, m),
            fees=np.full(m, 0.1),
        )
        self.fills = Fills.from_columns(
            ts_ns=entry,
            strategy=rng.choice(list(self.per_strategy), m),
            instrument=rng.choice(["BTC-USDT", "ETH-USDT"], m),
            venue=rng.choice(["binance", "paper"], m),
            quantity=rng.normal(0, 1, m),
            price=rng.uniform(90, 110, m),
            fee=np.full(m, 0.05),
        )
        self.metrics: PerformanceReport = compute_performance(
            trades=self.trades,
            equity=self.equity,
            strategy_equity=self.per_strategy,
            fills=self.fills,
            annualization=Annualization(interval_ns=HOUR),
            starting_capital=10_000.0,
        )


@pytest.fixture(scope="session")
def book() -> Book:
    return Book()
