"""Performance analytics of a run, from the tape (exact ``Decimal`` folds) or from the archive.

Both routes end in the same columnar inputs (trade log, equity curve, fills, final positions)
and the same ``performance_of``, so they give the same metrics: the tape route folds every event
through the standard projections (the reference), the archive route rebuilds them with the
columnar replay (fast). ``write_report`` prints the metrics as a table and writes the HTML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from rich.console import Console

from domain.events import BarClosed, Event, OrderFilled
from domain.values import Side
from projections.base import FoldProjection, Handler
from projections.bundle import ProjectionBundle
from projections.columnar import (
    ColumnarReplay,
    default_annualization,
    performance_of,
    replay_archive,
    strategy_curves,
)
from projections.default import default_bundle
from projections.equity import EquityProjection
from projections.performance import PerformanceReport
from projections.performance_inputs import (
    Annualization,
    EquityCurve,
    Fills,
    PositionSnapshots,
    TradeLog,
)
from projections.positions import PositionsProjection
from projections.trades import TradesProjection
from reports import render_table, write_html_report
from store import Tape
from store.archive_arrays import bar_interval

NS = 1_000_000_000
SAMPLE = 10_000


class FillLog(FoldProjection):
    """Every distinct execution as columns (for fees, turnover and exposure), and bar intervals."""

    name: ClassVar[str] = "fill_log"
    topics: ClassVar[frozenset[str]] = frozenset({"OrderFilled", "BarClosed"})

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {
            k: [] for k in ("ts_ns", "strategy", "venue", "instrument", "quantity", "price", "fee")
        }
        self._market: tuple[str, str] | None = None  # the first market whose bars close
        self._closes: list[int] = []
        self._seen: set[tuple[str, str]] = set()
        super().__init__()

    def handlers(self) -> dict[type[Event], Handler]:
        return {OrderFilled: self.on_order_filled, BarClosed: self.on_bar_closed}

    def on_order_filled(self, event: OrderFilled) -> None:
        key = (event.client_order_id, event.fill_id)
        if key in self._seen:
            return
        self._seen.add(key)
        c = self.columns
        c["ts_ns"].append(event.fill_ts_ns)
        c["strategy"].append(event.strategy)
        c["venue"].append(event.venue)
        c["instrument"].append(event.instrument)
        qty = float(event.quantity)
        c["quantity"].append(qty if event.side is Side.BUY else -qty)
        c["price"].append(float(event.price))
        c["fee"].append(float(event.fee))

    def on_bar_closed(self, event: BarClosed) -> None:
        market = (event.venue, event.instrument)
        if self._market is None:
            self._market = market
        if market == self._market and len(self._closes) < SAMPLE:
            self._closes.append(event.open_ts_ns + event.interval_s * NS)

    def fills(self) -> Fills:
        return Fills.from_columns(**self.columns)

    def interval_ns(self) -> int | None:
        """The usual spacing of bar closes, measured as the archive route measures it."""
        closes = np.array(self._closes, dtype=np.int64)
        return bar_interval(np.zeros(len(closes), dtype=np.int64), closes, SAMPLE)

    def state(self) -> dict[str, Any]:
        return {"fills": len(self.columns["ts_ns"]), "bar_interval_ns": self.interval_ns()}


@dataclass(frozen=True)
class Analytics:
    """Everything a report shows."""

    source: str
    events: int
    starting_cash: float
    metrics: PerformanceReport
    equity: EquityCurve
    per_strategy: dict[str, EquityCurve]
    totals: dict[str, float]


def trade_log(trades: TradesProjection) -> TradeLog:
    closed = trades.trades()
    return TradeLog.from_columns(
        strategy=[t.strategy for t in closed],
        instrument=[t.instrument for t in closed],
        venue=[t.venue for t in closed],
        entry_ts_ns=[t.entry_ts_ns for t in closed],
        exit_ts_ns=[t.exit_ts_ns for t in closed],
        side=np.array([1 if t.side == "long" else -1 for t in closed], dtype=np.int8),
        quantity=[float(t.max_quantity) for t in closed],
        entry_price=[float(t.entry_price or 0) for t in closed],
        exit_price=[float(t.exit_price or 0) for t in closed],
        pnl=[float(t.net_pnl) for t in closed],
        fees=[float(t.fees) for t in closed],
    )


def snapshots(positions: PositionsProjection, equity: EquityCurve) -> PositionSnapshots:
    views = positions.positions()
    ts = int(equity.ts_ns[-1]) if len(equity) else 0
    return PositionSnapshots.from_columns(
        ts_ns=np.full(len(views), ts, dtype=np.int64),
        instrument=[v.instrument for v in views],
        venue=[v.venue for v in views],
        quantity=[float(v.quantity) for v in views],
        mark_price=[float(v.mark) if v.mark is not None else 0.0 for v in views],
    )


def analytics_from_bundle(
    bundle: ProjectionBundle,
    fill_log: FillLog,
    starting_cash: float,
    annualization: Annualization | None = None,
    events: int = 0,
    risk_free_rate: float = 0.0,
) -> Analytics:
    equity_projection = bundle["equity"]
    assert isinstance(equity_projection, EquityProjection)
    ts, values = equity_projection.curve()
    equity = EquityCurve.from_columns(ts, values)
    positions = bundle["positions"]
    trades = bundle["trades"]
    assert isinstance(positions, PositionsProjection) and isinstance(trades, TradesProjection)
    log = trade_log(trades)
    ann = annualization or default_annualization(fill_log.interval_ns(), equity, risk_free_rate)
    metrics = performance_of(
        log, equity, fill_log.fills(), snapshots(positions, equity), starting_cash, ann
    )
    return Analytics(
        source="tape",
        events=events,
        starting_cash=starting_cash,
        metrics=metrics,
        equity=equity,
        per_strategy=strategy_curves(log, starting_cash),
        totals={k: float(v) for k, v in positions.totals().items()},
    )


def analytics_from_tape(
    tape: Tape,
    starting_cash: Decimal,
    annualization: Annualization | None = None,
    stop: int | None = None,
    risk_free_rate: float = 0.0,
) -> Analytics:
    """Fold the tape through the ``Decimal`` projections (the reference route)."""
    bundle = default_bundle(starting_cash)
    fill_log = FillLog()
    both = ProjectionBundle([*bundle.projections.values(), fill_log])
    n = tape.replay(both.apply, stop=stop, topics=sorted(both.topics))
    return analytics_from_bundle(
        both, fill_log, float(starting_cash), annualization, n, risk_free_rate
    )


def analytics_from_replay(
    result: ColumnarReplay, annualization: Annualization | None = None, risk_free_rate: float = 0.0
) -> Analytics:
    ann = annualization or default_annualization(result.interval_ns, result.equity, risk_free_rate)
    return Analytics(
        source="archive",
        events=result.events,
        starting_cash=result.starting_cash,
        metrics=result.performance(ann),
        equity=result.equity,
        per_strategy=strategy_curves(result.trades, result.starting_cash),
        totals=result.totals(),
    )


def analytics_from_archive(
    root: str | Path,
    starting_cash: Decimal,
    annualization: Annualization | None = None,
    risk_free_rate: float = 0.0,
) -> Analytics:
    """Rebuild from the Parquet archive with the columnar replay (the fast route)."""
    result = replay_archive(root, float(starting_cash))
    return analytics_from_replay(result, annualization, risk_free_rate)


def write_report(
    analytics: Analytics,
    html: str | Path | None,
    console: Console | None = None,
    title: str = "Tapeline performance report",
) -> Path | None:
    """Print the metrics table (when given a console) and write the HTML report (when asked)."""
    if console is not None:
        console.print(render_table(analytics.metrics, title=title))
        t = analytics.totals
        console.print(
            f"realised {t['realized_pnl']:,.2f} · unrealised {t['unrealized_pnl']:,.2f} · "
            f"fees {t['fees']:,.2f} · net {t['net_pnl']:,.2f} "
            f"(from the {analytics.source}, {analytics.events:,} events)"
        )
    if html is None:
        return None
    return write_html_report(
        html, analytics.metrics, analytics.equity, None, analytics.per_strategy, title
    )
