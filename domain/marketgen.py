"""A deterministic generator of realistic multi-symbol bars, for the demo, tests and backtests.

The same seed always gives the same bars (numpy ``Generator``, no clock). The model, per bar:

- a market regime (bear / flat / bull, a Markov chain) plus a per-instrument regime set the drift,
  so there are trends for a trend follower to catch and reversals for it to lose on;
- GARCH(1,1) variance per instrument gives volatility clusters; innovations are Student-t
  (fat tails) built from a common market factor and an idiosyncratic part (correlated symbols);
- the open is the previous close plus a small gap, and rarely a jump (price gaps);
- an instrument occasionally has an outage: its bars are missing for a few steps while its price
  keeps moving, so the next bar opens away from the last close (missing bars and a price gap);
- the range beyond the candle body and the volume both grow with volatility; volume also follows
  a daily cycle;
- prices are whole ticks (a power of ten per instrument), ``low <= min(open, close)``,
  ``high >= max(open, close)``, all positive; volumes are positive.

Random numbers are drawn in fixed chunks of steps, so a shorter run is a prefix of a longer run
with the same seed and settings.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from domain.bars import NS_PER_S, Bar

DEFAULT_INSTRUMENTS: tuple[str, ...] = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
DEFAULT_N_BARS = 3000
DEFAULT_INTERVAL_S = 60
DEFAULT_START_TS_NS = 1_704_067_200 * NS_PER_S  # 2024-01-01T00:00:00Z
_YEAR_S = 365 * 86_400
_DAY_S = 86_400
_CHUNK = 1024


@dataclass(frozen=True, slots=True)
class InstrumentProfile:
    """Starting level and character of one synthetic instrument."""

    price: float
    annual_vol: float
    tick_exp: int
    """Tick size is ``10 ** tick_exp``."""
    volume_per_minute: float
    beta: float


_KNOWN: dict[str, InstrumentProfile] = {
    "BTC": InstrumentProfile(42_000.0, 0.55, -2, 25.0, 1.0),
    "ETH": InstrumentProfile(2_300.0, 0.70, -2, 300.0, 1.15),
    "SOL": InstrumentProfile(100.0, 0.95, -2, 5_000.0, 1.4),
}


class MarketGenConfig(BaseModel):
    """Knobs of the model; the defaults give crypto-like 1-minute bars."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    regime_stay: float = Field(default=0.996, gt=0, lt=1, description="P(keep regime) per bar")
    trend_drift: float = Field(
        default=0.1, ge=0, description="drift of a bull/bear regime, in per-bar sigmas"
    )
    market_weight: float = Field(default=0.6, ge=0, le=1, description="market vs own regime")
    correlation: float = Field(default=0.7, ge=0, lt=1, description="loading on common factor")
    garch_alpha: float = Field(default=0.08, ge=0, lt=1)
    garch_beta: float = Field(default=0.90, ge=0, lt=1)
    t_dof: float = Field(default=5.0, gt=2)
    gap_sigma: float = Field(default=0.05, ge=0, description="open vs prev close, in sigmas")
    jump_prob: float = Field(default=0.002, ge=0, le=1)
    jump_sigma: float = Field(default=6.0, ge=0)
    outage_start_prob: float = Field(default=0.002, ge=0, le=1)
    outage_end_prob: float = Field(default=0.35, gt=0, le=1)
    wick_scale: float = Field(default=0.5, ge=0, description="wick length, in current sigmas")
    volume_noise: float = Field(default=0.35, ge=0)
    daily_volume_swing: float = Field(default=0.3, ge=0, lt=1)


def instrument_profile(instrument: str, seed: int) -> InstrumentProfile:
    """Known profiles for BTC, ETH and SOL; a seeded, name-stable one for anything else."""
    base = instrument.split("-")[0]
    if base in _KNOWN:
        return _KNOWN[base]
    rng = np.random.default_rng([seed, zlib.crc32(instrument.encode())])
    price = float(10 ** rng.uniform(-1.0, 3.0))
    return InstrumentProfile(
        price=price,
        annual_vol=float(rng.uniform(0.6, 1.2)),
        tick_exp=math.floor(math.log10(price)) - 4,
        volume_per_minute=200_000.0 / price,
        beta=float(rng.uniform(0.9, 1.5)),
    )


def generate_bars(
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
    n_bars: int = DEFAULT_N_BARS,
    interval_s: int = DEFAULT_INTERVAL_S,
    start_ts_ns: int = DEFAULT_START_TS_NS,
    seed: int = 7,
    venue: str = "paper",
    *,
    config: MarketGenConfig | None = None,
) -> list[list[Bar]]:
    """``n_bars`` time steps; each step lists the bars present at that time (in input order)."""
    return list(iter_bars(instruments, n_bars, interval_s, start_ts_ns, seed, venue, config=config))


def iter_bars(
    instruments: Sequence[str] = DEFAULT_INSTRUMENTS,
    n_bars: int = DEFAULT_N_BARS,
    interval_s: int = DEFAULT_INTERVAL_S,
    start_ts_ns: int = DEFAULT_START_TS_NS,
    seed: int = 7,
    venue: str = "paper",
    *,
    config: MarketGenConfig | None = None,
) -> Iterator[list[Bar]]:
    """Lazy form of ``generate_bars``: one list of simultaneous bars per step."""
    if interval_s <= 0 or n_bars < 0 or start_ts_ns < 0:
        raise ValueError("interval_s must be > 0, n_bars and start_ts_ns >= 0")
    if len(set(instruments)) != len(instruments):
        raise ValueError("instruments must be distinct")
    cfg = config or MarketGenConfig()
    if cfg.garch_alpha + cfg.garch_beta >= 1:
        raise ValueError("garch_alpha + garch_beta must be < 1")
    names = list(instruments)
    model = _Model(cfg, [instrument_profile(name, seed) for name in names], interval_s)
    rng = np.random.default_rng(seed)
    state = model.initial_state(rng)
    step_ns = interval_s * NS_PER_S
    for first in range(0, n_bars, _CHUNK):
        chunk = model.simulate(_draw_chunk(rng, len(names), cfg.t_dof), state, start_ts_ns, first)
        for k in range(min(_CHUNK, n_bars - first)):
            open_ts_ns = start_ts_ns + (first + k) * step_ns
            yield [
                Bar(
                    venue,
                    name,
                    open_ts_ns,
                    interval_s,
                    Decimal(chunk.open[k][i]).scaleb(exp),
                    Decimal(chunk.high[k][i]).scaleb(exp),
                    Decimal(chunk.low[k][i]).scaleb(exp),
                    Decimal(chunk.close[k][i]).scaleb(exp),
                    Decimal(chunk.volume[k][i]).scaleb(-4),
                )
                for i, (name, exp) in enumerate(zip(names, model.tick_exps, strict=True))
                if not chunk.missing[k][i]
            ]


@dataclass(slots=True)
class _State:
    var: np.ndarray
    eps: np.ndarray
    log_close: np.ndarray
    """Last close of every instrument, seen or not (prices move during an outage)."""
    market_regime: int
    own_regimes: list[int]
    missing: list[bool]


@dataclass(frozen=True, slots=True)
class _Chunk:
    """One chunk of bars as whole ticks (prices) and 1e-4 units (volume), row = time step."""

    open: list[list[int]]
    high: list[list[int]]
    low: list[list[int]]
    close: list[list[int]]
    volume: list[list[int]]
    missing: list[list[bool]]


class _Model:
    """Fixed parameters of one run, and the step from one chunk of draws to one chunk of bars."""

    def __init__(
        self, cfg: MarketGenConfig, profiles: list[InstrumentProfile], interval_s: int
    ) -> None:
        self.cfg = cfg
        self.profiles = profiles
        self.interval_s = interval_s
        self.sigma = np.array([p.annual_vol for p in profiles]) * math.sqrt(interval_s / _YEAR_S)
        self.beta = np.array([p.beta for p in profiles])
        self.tick_exps = [p.tick_exp for p in profiles]
        self.tick = np.array([10.0**p.tick_exp for p in profiles])
        self.base_volume = np.array([p.volume_per_minute for p in profiles]) * interval_s / 60.0
        self.omega = self.sigma**2 * (1.0 - cfg.garch_alpha - cfg.garch_beta)
        self.regime_drift = np.array([-cfg.trend_drift, 0.0, cfg.trend_drift])

    def initial_state(self, rng: np.random.Generator) -> _State:
        n = len(self.profiles)
        regimes = rng.integers(0, 3, n + 1).tolist()
        return _State(
            var=self.sigma**2,
            eps=np.zeros(n),
            log_close=np.log([p.price for p in self.profiles]),
            market_regime=regimes[0],
            own_regimes=regimes[1:],
            missing=[False] * n,
        )

    def simulate(self, d: _Draws, st: _State, start_ts_ns: int, first_step: int) -> _Chunk:
        cfg = self.cfg
        n = len(self.profiles)
        # Sequential parts: regime chains and GARCH variance.
        market = np.empty(_CHUNK, dtype=np.int64)
        own = np.empty((_CHUNK, n), dtype=np.int64)
        for k, row in enumerate(d.regime_u.tolist()):
            st.market_regime = _next_regime(st.market_regime, row[0], cfg.regime_stay)
            st.own_regimes = [
                _next_regime(r, u, cfg.regime_stay)
                for r, u in zip(st.own_regimes, row[1:], strict=True)
            ]
            market[k] = st.market_regime
            own[k] = st.own_regimes
        t_scale = math.sqrt((cfg.t_dof - 2.0) / cfg.t_dof)
        idio_load = math.sqrt(1.0 - cfg.correlation**2)
        z = (cfg.correlation * d.factor[:, None] + idio_load * d.idio) * t_scale
        var = np.empty((_CHUNK, n))
        v, e = st.var, st.eps
        for k in range(_CHUNK):
            v = self.omega + cfg.garch_alpha * e * e + cfg.garch_beta * v
            e = np.sqrt(v) * z[k]
            var[k] = v
        st.var, st.eps = v, e
        # Vectorised: prices, ranges, volumes.
        vol = np.sqrt(var)
        drift = (
            cfg.market_weight * self.beta * self.regime_drift[market][:, None]
            + (1.0 - cfg.market_weight) * self.regime_drift[own]
        ) * self.sigma
        jump = np.where(d.jump_u < cfg.jump_prob, d.jump_z * cfg.jump_sigma, 0.0)
        gap = (d.gap_z * cfg.gap_sigma + jump) * vol
        ret = drift - 0.5 * var + vol * z
        log_close = st.log_close + np.cumsum(gap + ret, axis=0)
        st.log_close = log_close[-1]
        close_f = np.exp(log_close)
        open_f = np.exp(log_close - ret)
        high_f = np.maximum(open_f, close_f) * np.exp(vol * cfg.wick_scale * d.wick[:, 0])
        low_f = np.minimum(open_f, close_f) * np.exp(-vol * cfg.wick_scale * d.wick[:, 1])
        seconds = start_ts_ns // NS_PER_S + (first_step + np.arange(_CHUNK)) * self.interval_s
        seasonal = 1.0 + cfg.daily_volume_swing * np.sin(2.0 * np.pi * (seconds % _DAY_S) / _DAY_S)
        volume_f = (
            self.base_volume
            * seasonal[:, None]
            * (vol / self.sigma)
            * (0.5 + 0.5 * np.abs(z) + np.abs(gap) / vol)
            * np.exp(cfg.volume_noise * d.volume_z - 0.5 * cfg.volume_noise**2)
        )
        missing = []
        for row in d.outage_u.tolist():
            st.missing = [
                (u >= cfg.outage_end_prob) if was else (u < cfg.outage_start_prob)
                for was, u in zip(st.missing, row, strict=True)
            ]
            missing.append(st.missing)
        # Whole ticks, with low <= open, close <= high and every price at least one tick.
        o = np.maximum(1, np.rint(open_f / self.tick)).astype(np.int64)
        c = np.maximum(1, np.rint(close_f / self.tick)).astype(np.int64)
        h = np.maximum(np.maximum(o, c), np.ceil(high_f / self.tick).astype(np.int64))
        lo = np.maximum(1, np.minimum(np.minimum(o, c), np.floor(low_f / self.tick)))
        return _Chunk(
            open=o.tolist(),
            high=h.tolist(),
            low=lo.astype(np.int64).tolist(),
            close=c.tolist(),
            volume=np.maximum(1, np.rint(volume_f * 10_000)).astype(np.int64).tolist(),
            missing=missing,
        )


@dataclass(frozen=True, slots=True)
class _Draws:
    regime_u: np.ndarray
    factor: np.ndarray
    idio: np.ndarray
    gap_z: np.ndarray
    jump_u: np.ndarray
    jump_z: np.ndarray
    outage_u: np.ndarray
    wick: np.ndarray
    volume_z: np.ndarray


def _draw_chunk(rng: np.random.Generator, n: int, dof: float) -> _Draws:
    """All random numbers for one chunk, always the full chunk (keeps runs prefix-stable)."""
    return _Draws(
        regime_u=rng.random((_CHUNK, n + 1)),
        factor=rng.standard_t(dof, _CHUNK),
        idio=rng.standard_t(dof, (_CHUNK, n)),
        gap_z=rng.standard_normal((_CHUNK, n)),
        jump_u=rng.random((_CHUNK, n)),
        jump_z=rng.standard_normal((_CHUNK, n)),
        outage_u=rng.random((_CHUNK, n)),
        wick=rng.exponential(1.0, (_CHUNK, 2, n)),
        volume_z=rng.standard_normal((_CHUNK, n)),
    )


def _next_regime(regime: int, u: float, stay: float) -> int:
    """Markov step over bear(0) / flat(1) / bull(2); a switch goes to one of the other two."""
    if u < stay:
        return regime
    other = (u - stay) / (1.0 - stay)  # uniform in [0, 1)
    return (regime + 1 + int(other * 2)) % 3
