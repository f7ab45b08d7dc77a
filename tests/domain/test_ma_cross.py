"""MA crossover: Pine semantics, checked against a plain reference on generated and real data."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.bars import Bar
from domain.marketgen import generate_bars
from domain.signal import Intent, SizeKind
from domain.strategies.base import Strategy, load_strategy
from domain.strategies.ma_cross import MACrossover
from store.bars_file import read_bars

PATH = "domain.strategies.ma_cross:MACrossover"
MINUTE_NS = 60 * 1_000_000_000


def bars_from_closes(closes: list[str | int], instrument: str = "BTC-USDT") -> list[Bar]:
    out = []
    for i, c in enumerate(closes):
        p = Decimal(c)
        out.append(Bar("paper", instrument, i * MINUTE_NS, 60, p, p, p, p, Decimal(1)))
    return out


def reference(closes: list[Decimal], fast: int, slow: int) -> list[tuple[int, str]]:
    """Straightforward SMA crossover over plain lists of exact integers (closes scaled up)."""
    exp = min(int(c.as_tuple().exponent) for c in closes)
    ints = [int(c.scaleb(-exp)) for c in closes]
    out: list[tuple[int, str]] = []
    long = False
    prev: tuple[Fraction, Fraction] | None = None
    for i in range(slow - 1, len(ints)):
        f = Fraction(sum(ints[i - fast + 1 : i + 1]), fast)
        s = Fraction(sum(ints[i - slow + 1 : i + 1]), slow)
        if prev is not None:
            pf, ps = prev
            if f > s and pf <= ps and not long:
                long = True
                out.append((i, Intent.ENTER_LONG.value))
            elif f < s and pf >= ps and long:
                long = False
                out.append((i, Intent.EXIT.value))
        prev = (f, s)
    return out


def strategy_signals(strategy: Strategy, bars: list[Bar]) -> dict[str, list[tuple[int, str]]]:
    """Signals per instrument as (index of the bar in that instrument's series, intent)."""
    index: dict[tuple[str, int], int] = {}
    counts: dict[str, int] = {}
    out: dict[str, list[tuple[int, str]]] = {}
    for bar in bars:
        n = counts.get(bar.instrument, 0)
        index[(bar.instrument, bar.open_ts_ns)] = n
        counts[bar.instrument] = n + 1
        for sig in strategy.on_bar(bar):
            assert sig.ts_ns == bar.close_ts_ns
            assert sig.alert_id == f"{strategy.name}:{bar.instrument}:{bar.open_ts_ns}"
            assert sig.price_hint == bar.close
            out.setdefault(bar.instrument, []).append((n, sig.intent.value))
    return out


def test_hand_computed_crossings() -> None:
    s = MACrossover("mac", {"fast": 2, "slow": 3})
    bars = bars_from_closes([10, 10, 10, 9, 8, 12, 13, 9, 7, 11, 12])
    sigs = s.replay(bars)
    # sign of fast - slow from bar 2 on: 0 - - + + - - 0 + (bar 9 ties: 9 == 27/3)
    assert [(sig.intent, sig.alert_id) for sig in sigs] == [
        (Intent.ENTER_LONG, f"mac:BTC-USDT:{5 * MINUTE_NS}"),
        (Intent.EXIT, f"mac:BTC-USDT:{7 * MINUTE_NS}"),
        (Intent.ENTER_LONG, f"mac:BTC-USDT:{10 * MINUTE_NS}"),
    ]
    first = sigs[0]
    assert first.size.kind is SizeKind.RISK
    assert first.ts_ns == 6 * MINUTE_NS
    assert first.price_hint == Decimal(12)
    assert first.source == "mac"
    assert s.is_long("BTC-USDT")


def test_cross_from_equal_counts_and_first_bar_cannot_cross() -> None:
    # fast == slow on the previous bar still makes a crossover (Pine: fast[1] <= slow[1]).
    s = MACrossover("mac", {"fast": 2, "slow": 3})
    assert [x.intent for x in s.replay(bars_from_closes([5, 5, 5, 6]))] == [Intent.ENTER_LONG]
    # The first bar with both SMAs has no previous value: no cross, whatever the values.
    s = MACrossover("mac", {"fast": 2, "slow": 3})
    assert s.replay(bars_from_closes([1, 1, 9])) == []


def test_cross_down_while_flat_signals_nothing() -> None:
    s = MACrossover("mac", {"fast": 2, "slow": 3})
    assert s.replay(bars_from_closes([10, 10, 10, 8, 7])) == []
    assert not s.is_long("BTC-USDT")


def test_old_or_repeated_bars_are_ignored() -> None:
    bars = bars_from_closes([10, 10, 10, 9, 8, 12, 13, 9, 7, 11, 12])
    once = MACrossover("mac", {"fast": 2, "slow": 3}).replay(bars)
    s = MACrossover("mac", {"fast": 2, "slow": 3})
    twice = s.replay(bars[:6]) + s.replay(bars[3:])  # an overlapping re-send after a restart
    assert twice == once


def test_warm_up_rebuilds_the_state_of_a_restarted_strategy() -> None:
    steps = generate_bars(n_bars=800, seed=3)
    bars = [b for step in steps for b in step]
    live = MACrossover("mac")
    live_signals = live.replay(bars)
    cut = len(bars) // 2
    restarted = MACrossover("mac")
    assert restarted.warm_up(bars[:cut]) == cut
    tail = restarted.replay(bars[cut:])
    after_cut = {b.open_ts_ns for b in bars[cut:]}
    assert tail == [s for s in live_signals if int(s.alert_id.rsplit(":")[-1]) in after_cut]
    assert restarted.state() == live.state()


@pytest.mark.parametrize(("fast", "slow", "seed"), [(9, 21, 1), (9, 21, 2), (5, 50, 3)])
def test_matches_reference_on_generated_multi_instrument_data(
    fast: int, slow: int, seed: int
) -> None:
    steps = generate_bars(n_bars=2500, seed=seed)
    bars = [b for step in steps for b in step]
    got = strategy_signals(MACrossover("mac", {"fast": fast, "slow": slow}), bars)
    instruments = sorted({b.instrument for b in bars})
    for instrument in instruments:
        closes = [b.close for b in bars if b.instrument == instrument]
        expected = reference(closes, fast, slow)
        assert got.get(instrument, []) == expected
    assert sum(len(v) for v in got.values()) > 30  # the generator gives it something to trade


@pytest.mark.parametrize(
    ("file", "instrument"),
    [
        ("binance_ETH-BTC_5m.parquet", "ETH-BTC"),
        ("binance_LTC-BTC_5m.parquet", "LTC-BTC"),
        ("binance_ADA-BTC_5m.parquet", "ADA-BTC"),
        ("binance_XRP-ETH_1m.parquet", "XRP-ETH"),
    ],
)
def test_matches_reference_on_real_data(
    shared_market_data: Path, file: str, instrument: str
) -> None:
    bars = read_bars(shared_market_data / file, instrument)
    got = strategy_signals(MACrossover("mac"), bars)
    expected = reference([b.close for b in bars], 9, 21)
    assert got.get(instrument, []) == expected
    assert expected


def test_gaps_are_simply_not_seen(shared_market_data: Path) -> None:
    bars = read_bars(shared_market_data / "binance_ADA-BTC_5m.parquet", "ADA-BTC")
    step = bars[0].interval_s * 1_000_000_000
    assert any(b.open_ts_ns - a.open_ts_ns > step for a, b in pairwise(bars))
    # The SMA is over the bars received, so the series with its gaps equals the gap-free
    # series re-timed onto consecutive slots.
    retimed = [
        Bar(b.venue, b.instrument, i * step, b.interval_s, b.open, b.high, b.low, b.close, b.volume)
        for i, b in enumerate(bars)
    ]
    intents = [s.intent for s in MACrossover("mac").replay(bars)]
    assert intents == [s.intent for s in MACrossover("mac").replay(retimed)]


def test_instruments_have_independent_state() -> None:
    a = bars_from_closes([10, 10, 10, 9, 8, 12, 13, 9, 7, 11, 12], "BTC-USDT")
    b = bars_from_closes([5, 5, 5, 6, 7, 3, 2, 2], "ETH-USDT")
    interleaved = [x for pair in zip(a, b, strict=False) for x in pair] + a[len(b) :]
    s = MACrossover("mac", {"fast": 2, "slow": 3})
    got = strategy_signals(s, interleaved)
    solo_a = strategy_signals(MACrossover("mac", {"fast": 2, "slow": 3}), a)
    solo_b = strategy_signals(MACrossover("mac", {"fast": 2, "slow": 3}), b)
    assert got == {**solo_a, **solo_b}
    assert set(s.state()) == {"BTC-USDT", "ETH-USDT"}


def test_load_strategy() -> None:
    s = load_strategy(PATH, "mac", {"fast": 3, "slow": 8})
    assert isinstance(s, MACrossover)
    assert (s.fast, s.slow, s.name, s.warmup_bars) == (3, 8, "mac", 9)
    assert isinstance(load_strategy(PATH, "default", {}), MACrossover)


@pytest.mark.parametrize(
    ("path", "params", "error"),
    [
        ("domain.strategies.ma_cross.MACrossover", {}, ValueError),
        ("domain.strategies.ma_cross:Nope", {}, ImportError),
        ("domain.no_such_module:X", {}, ImportError),
        ("domain.strategies.ma_cross:MACrossParams", {}, TypeError),
        (PATH, {"fast": 21, "slow": 9}, ValidationError),
        (PATH, {"fastt": 3}, ValidationError),
    ],
)
def test_load_strategy_refuses(path: str, params: dict[str, int], error: type[Exception]) -> None:
    with pytest.raises(error):
        load_strategy(path, "mac", params)


def test_on_trade_is_a_no_op_by_default() -> None:
    assert MACrossover("mac").on_trade(object()) == []
