"""Trade-based metrics and exposure, grouped with ``numpy.bincount`` over dictionary codes.

Definitions (``pnl`` is net of fees):

* a win is a trade with ``pnl > 0``, a loss ``pnl < 0``, a breakeven ``pnl == 0``;
* win rate = wins / all trades (a breakeven is a trade but not a win); ``None`` with no trades;
* profit factor = gross profit / |gross loss|; with no losing trade it is ``inf`` when there is a
  profit and ``None`` when there is none (no trades, or only breakevens);
* expectancy = mean ``pnl`` per trade (= win rate * average win + loss rate * average loss);
* average win / loss = mean ``pnl`` of the wins / of the losses (the loss is negative); ``None``
  when there are none.

Exposure is the notional ``quantity * price`` of the open positions: gross = sum of absolute
notionals, net = signed sum. It comes from position snapshots (last snapshot per instrument and
venue at or before ``as_of``) or, without snapshots, from fills (cumulative signed quantity per
strategy, instrument and venue, valued at the last fill price). Turnover = sum |quantity * price|
of the fills.
"""

from __future__ import annotations

import math

import numpy as np

from domain.values import Frozen
from projections.performance_inputs import Fills, PositionSnapshots


class TradeStats(Frozen):
    trades: int = 0
    wins: int = 0
    losses: int = 0
    breakeven: int = 0
    win_rate: float | None = None
    profit_factor: float | None = None
    expectancy: float | None = None
    avg_win: float | None = None
    avg_loss: float | None = None
    gross_profit: float = 0.0
    gross_loss: float = 0.0
    net_pnl: float = 0.0
    fees: float = 0.0


class Exposure(Frozen):
    gross: float = 0.0
    net: float = 0.0
    long: float = 0.0
    short: float = 0.0


class ExposureReport(Frozen):
    as_of_ns: int | None = None
    total: Exposure = Exposure()
    by_strategy: dict[str, Exposure] = {}
    by_instrument: dict[str, Exposure] = {}
    by_venue: dict[str, Exposure] = {}


def group_sum(values: np.ndarray, codes: np.ndarray | None, n_groups: int) -> np.ndarray:
    """Per-group sums; ``codes=None`` means one group."""
    if codes is None:
        return np.array([float(np.sum(values))])
    return np.bincount(codes, weights=values, minlength=n_groups)[:n_groups]


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def trade_stats(
    pnl: np.ndarray, fees: np.ndarray, codes: np.ndarray | None = None, n_groups: int = 1
) -> list[TradeStats]:
    """Trade statistics per group (one entry per code ``0 .. n_groups - 1``)."""
    win, loss = pnl > 0.0, pnl < 0.0
    # one pass for the three counts: each trade's class is 0 even, 1 win, 2 loss
    klass = win.astype(np.int64) + 2 * loss
    cells = klass if codes is None else codes * 3 + klass
    by_class = np.bincount(cells, minlength=3 * n_groups)[: 3 * n_groups].reshape(-1, 3)
    wins, losses = by_class[:, 1], by_class[:, 2]
    count = by_class.sum(axis=1)
    summed = np.bincount(cells, weights=pnl, minlength=3 * n_groups)[: 3 * n_groups]
    profit, lost = summed.reshape(-1, 3)[:, 1], summed.reshape(-1, 3)[:, 2]
    fee = group_sum(fees, codes, n_groups)
    out = []
    for g in range(n_groups):
        n, w, lo, gp, gl = int(count[g]), int(wins[g]), int(losses[g]), profit[g], lost[g]
        if lo:
            factor: float | None = gp / -gl
        else:
            factor = math.inf if gp > 0.0 else None
        out.append(
            TradeStats(
                trades=n,
                wins=w,
                losses=lo,
                breakeven=n - w - lo,
                win_rate=_ratio(w, n),
                profit_factor=factor,
                expectancy=_ratio(gp + gl, n),
                avg_win=_ratio(gp, w),
                avg_loss=_ratio(gl, lo),
                gross_profit=float(gp),
                gross_loss=float(gl),
                net_pnl=float(gp + gl),
                fees=float(fee[g]),
            )
        )
    return out


def _exposures(notional: np.ndarray, codes: np.ndarray, names: tuple[str, ...]) -> dict:
    n = len(names)
    long = np.bincount(codes, weights=np.maximum(notional, 0.0), minlength=n)
    short = np.bincount(codes, weights=np.minimum(notional, 0.0), minlength=n)
    return {
        name: Exposure(
            gross=float(long[i] - short[i]),
            net=float(long[i] + short[i]),
            long=float(long[i]),
            short=float(short[i]),
        )
        for i, name in enumerate(names)
    }


def _total(notional: np.ndarray) -> Exposure:
    long = float(np.sum(np.maximum(notional, 0.0)))
    short = float(np.sum(np.minimum(notional, 0.0)))
    return Exposure(gross=long - short, net=long + short, long=long, short=short)


def _last_per_key(keys: np.ndarray) -> np.ndarray:
    """Index of the last row of each distinct key (rows are in time order), by key.

    Keys are small non-negative codes: a stable radix sort groups them, each group's last
    element is the key's last row (no comparison sort, unlike ``np.unique``)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    small = int(keys.max()) < 2**16 and int(keys.min()) >= 0
    order = np.argsort(keys.astype(np.uint16) if small else keys, kind="stable")
    ordered = keys[order]
    ends = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])
    return order[ends]


def exposure_from_snapshots(
    snapshots: PositionSnapshots, as_of_ns: int | None = None
) -> ExposureReport:
    rows = len(snapshots)
    if as_of_ns is not None:
        rows = int(np.searchsorted(snapshots.ts_ns, as_of_ns, side="right"))
    n_venues = max(len(snapshots.venue.names), 1)
    keys = snapshots.instrument.codes[:rows] * n_venues + snapshots.venue.codes[:rows]
    last = _last_per_key(keys)
    notional = snapshots.quantity[last] * snapshots.mark_price[last]
    return ExposureReport(
        as_of_ns=as_of_ns,
        total=_total(notional),
        by_instrument=_exposures(notional, keys[last] // n_venues, snapshots.instrument.names),
        by_venue=_exposures(notional, keys[last] % n_venues, snapshots.venue.names),
    )


def exposure_from_fills(fills: Fills, as_of_ns: int | None = None) -> ExposureReport:
    rows = len(fills)
    if as_of_ns is not None:
        rows = int(np.searchsorted(fills.ts_ns, as_of_ns, side="right"))
    n_i, n_v = max(len(fills.instrument.names), 1), max(len(fills.venue.names), 1)
    keys = (fills.strategy.codes[:rows] * n_i + fills.instrument.codes[:rows]) * n_v
    keys += fills.venue.codes[:rows]
    last = _last_per_key(keys)
    uniq = keys[last]
    position = np.bincount(keys, weights=fills.quantity[:rows])[uniq] if rows else np.zeros(0)
    notional = position * fills.price[last]
    return ExposureReport(
        as_of_ns=as_of_ns,
        total=_total(notional),
        by_strategy=_exposures(notional, uniq // (n_i * n_v), fills.strategy.names),
        by_instrument=_exposures(notional, (uniq // n_v) % n_i, fills.instrument.names),
        by_venue=_exposures(notional, uniq % n_v, fills.venue.names),
    )
