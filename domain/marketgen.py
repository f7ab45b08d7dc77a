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
    names = list(instruments)
    n = len(names)
    profiles = [instrument_profile(name, seed) for name in names]
    rng = np.random.default_rng(seed)

    sigma = np.array([p.annual_vol for p in profiles]) * math.sqrt(interval_s / _YEAR_S)
    beta = np.array([p.beta for p in profiles])
    tick_exps = [p.tick_exp for p in profiles]
    tick_f = np.array([10.0**p.tick_exp for p in profiles])
    base_volume = np.array([p.volume_per_minute for p in profiles]) * interval_s / 60.0
    persistence = cfg.garch_alpha + cfg.garch_beta
    if persistence >= 1:
        raise ValueError("garch_alpha + garch_beta must be < 1")
    omega = sigma**2 * (1.0 - persistence)
    t_scale = math.sqrt((cfg.t_dof - 2.0) / cfg.t_dof)
    idio_load = math.sqrt(1.0 - cfg.correlation**2)
    regime_drift = np.array([-cfg.trend_drift, 0.0, cfg.trend_drift])

    # State.
    var = sigma**2
    last_eps = np.zeros(n)
    latent = np.array([p.price for p in profiles])  # last close, seen or not
    start_regimes = rng.integers(0, 3, n + 1)
    market_regime = int(start_regimes[0])
    own_regime = start_regimes[1:].astype(np.int64)
    in_outage = np.zeros(n, dtype=bool)

    step = 0
    while step < n_bars:
        draws = _draw_chunk(rng, n, cfg.t_dof)
        for k in range(min(_CHUNK, n_bars - step)):
            market_regime = _next_regime(market_regime, draws.regime_u[k, 0], cfg.regime_stay)
            for i in range(n):
                own_regime[i] = _next_regime(
                    int(own_regime[i]), draws.regime_u[k, i + 1], cfg.regime_stay
                )
            var = omega + cfg.garch_alpha * last_eps**2 + cfg.garch_beta * var
            vol = np.sqrt(var)
            z = (cfg.correlation * draws.factor[k] + idio_load * draws.idio[k]) * t_scale
            last_eps = vol * z
            drift = (
                cfg.market_weight * beta * regime_drift[market_regime]
                + (1.0 - cfg.market_weight) * regime_drift[own_regime]
            ) * sigma
            jump = np.where(draws.jump_u[k] < cfg.jump_prob, draws.jump_z[k] * cfg.jump_sigma, 0.0)
            gap = (draws.gap_z[k] * cfg.gap_sigma + jump) * vol
            open_f = latent * np.exp(gap)
            close_f = open_f * np.exp(drift - 0.5 * var + last_eps)
            high_f = np.maximum(open_f, close_f) * np.exp(vol * cfg.wick_scale * draws.wick[k, 0])
            low_f = np.minimum(open_f, close_f) * np.exp(-vol * cfg.wick_scale * draws.wick[k, 1])
            latent = close_f

            open_ts_ns = start_ts_ns + (step + k) * interval_s * NS_PER_S
            day_phase = 2.0 * math.pi * ((open_ts_ns // NS_PER_S) % _DAY_S) / _DAY_S
            seasonal = 1.0 + cfg.daily_volume_swing * math.sin(day_phase)
            volume_f = (
                base_volume
                * seasonal
                * (vol / sigma)
                * (0.5 + 0.5 * np.abs(z) + np.abs(gap) / vol)
                * np.exp(cfg.volume_noise * draws.volume_z[k] - 0.5 * cfg.volume_noise**2)
            )

            in_outage = np.where(
                in_outage,
                draws.outage_u[k] >= cfg.outage_end_prob,
                draws.outage_u[k] < cfg.outage_start_prob,
            )
            bars: list[Bar] = []
            for i in range(n):
                if in_outage[i]:
                    continue
                bars.append(
                    _make_bar(
                        venue,
                        names[i],
                        open_ts_ns,
                        interval_s,
                        tick_exps[i],
                        float(tick_f[i]),
                        float(open_f[i]),
                        float(high_f[i]),
                        float(low_f[i]),
                        float(close_f[i]),
                        float(volume_f[i]),
                    )
                )
            yield bars
        step += _CHUNK


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


def _make_bar(
    venue: str,
    instrument: str,
    open_ts_ns: int,
    interval_s: int,
    tick_exp: int,
    tick_f: float,
    open_f: float,
    high_f: float,
    low_f: float,
    close_f: float,
    volume_f: float,
) -> Bar:
    o = max(1, round(open_f / tick_f))
    c = max(1, round(close_f / tick_f))
    h = max(o, c, math.ceil(high_f / tick_f))
    lo = max(1, min(o, c, math.floor(low_f / tick_f)))
    exp = tick_exp
    return Bar(
        venue=venue,
        instrument=instrument,
        open_ts_ns=open_ts_ns,
        interval_s=interval_s,
        open=Decimal(o).scaleb(exp),
        high=Decimal(h).scaleb(exp),
        low=Decimal(lo).scaleb(exp),
        close=Decimal(c).scaleb(exp),
        volume=Decimal(max(1, round(volume_f * 10_000))).scaleb(-4),
    )
