"""Moving-average crossover, with the semantics of the classic PineScript strategy.

    fast = ta.sma(close, 9)
    slow = ta.sma(close, 21)
    if ta.crossover(fast, slow)
        strategy.entry("Long", strategy.long)
    if ta.crossunder(fast, slow)
        strategy.close("Long")

``crossover`` means fast > slow on this bar and fast <= slow on the previous one (both SMAs
defined on both bars, so the first possible cross is on the ``slow + 1``-th bar). An entry is
only signalled when the strategy's own view is flat (no pyramiding), a close only when it is long.

One instance trades several instruments with independent state. Bars are per instrument and
only the bars received count: a missing bar (a gap in the data) is simply not seen, so the SMA is
over the last N bars received, not the last N intervals of time. A bar not newer than the last
one seen for its instrument is ignored, which makes an overlapping replay after a restart harmless.

The running sums are exact ``Decimal`` arithmetic (a deque and a running sum, no float), and the
averages are compared without dividing: ``sum_fast * slow`` against ``sum_slow * fast``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact
from typing import Any

from pydantic import Field, model_validator

from domain.bars import Bar
from domain.signal import Intent, Signal
from domain.strategies.base import Strategy, StrategyParams

# Wide enough for any real price series; Inexact traps so a rounding can never pass silently.
_EXACT = Context(prec=120, traps=[Inexact])
_ZERO = Decimal(0)


class MACrossParams(StrategyParams):
    fast: int = Field(default=9, ge=1, le=10_000)
    slow: int = Field(default=21, ge=2, le=10_000)

    @model_validator(mode="after")
    def _check(self) -> MACrossParams:
        if self.fast >= self.slow:
            raise ValueError("fast must be shorter than slow")
        return self


@dataclass(slots=True)
class _Instrument:
    """Per-instrument state: the last ``slow`` closes, two running sums, the previous diff."""

    closes: deque[Decimal]
    fast_sum: Decimal = _ZERO
    slow_sum: Decimal = _ZERO
    prev_sign: int | None = None
    """Sign of (fast - slow) on the previous bar; ``None`` until both SMAs exist."""
    long: bool = False
    last_open_ts_ns: int = -1
    bars: int = 0


class MACrossover(Strategy):
    """Enter long when the fast SMA crosses above the slow one; close when it crosses below."""

    Params = MACrossParams

    def __init__(self, name: str, params: Any = None) -> None:
        super().__init__(name, params)
        assert isinstance(self.params, MACrossParams)
        self.fast = self.params.fast
        self.slow = self.params.slow
        self._fast_d = Decimal(self.fast)
        self._slow_d = Decimal(self.slow)
        self._state: dict[str, _Instrument] = {}

    @property
    def warmup_bars(self) -> int:
        return self.slow + 1

    def on_bar(self, bar: Bar) -> list[Signal]:
        st = self._state.get(bar.instrument)
        if st is None:
            st = self._state[bar.instrument] = _Instrument(closes=deque(maxlen=self.slow))
        if bar.open_ts_ns <= st.last_open_ts_ns:
            return []
        st.last_open_ts_ns = bar.open_ts_ns
        st.bars += 1
        closes = st.closes
        close = bar.close
        add, sub = _EXACT.add, _EXACT.subtract
        if len(closes) == self.slow:
            st.slow_sum = sub(st.slow_sum, closes[0])
        if len(closes) >= self.fast:
            st.fast_sum = sub(st.fast_sum, closes[-self.fast])
        closes.append(close)
        st.fast_sum = add(st.fast_sum, close)
        st.slow_sum = add(st.slow_sum, close)
        if len(closes) < self.slow:
            return []
        diff = sub(
            _EXACT.multiply(st.fast_sum, self._slow_d), _EXACT.multiply(st.slow_sum, self._fast_d)
        )
        sign = (diff > 0) - (diff < 0)
        prev, st.prev_sign = st.prev_sign, sign
        if prev is None:
            return []
        if sign > 0 and prev <= 0 and not st.long:
            st.long = True
            return [self._signal(bar, Intent.ENTER_LONG)]
        if sign < 0 and prev >= 0 and st.long:
            st.long = False
            return [self._signal(bar, Intent.EXIT)]
        return []

    def _signal(self, bar: Bar, intent: Intent) -> Signal:
        return Signal(
            source=self.name,
            instrument=bar.instrument,
            intent=intent,
            ts_ns=bar.close_ts_ns,
            price_hint=bar.close,
            alert_id=f"{self.name}:{bar.instrument}:{bar.open_ts_ns}",
            tags=("ma_cross", "cross_up" if intent is Intent.ENTER_LONG else "cross_down"),
        )

    def is_long(self, instrument: str) -> bool:
        st = self._state.get(instrument)
        return bool(st and st.long)

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for instrument, st in sorted(self._state.items()):
            n = len(st.closes)
            out[instrument] = {
                "bars": st.bars,
                "last_open_ts_ns": st.last_open_ts_ns,
                "long": st.long,
                "fast_sma": str(st.fast_sum / self._fast_d) if n >= self.fast else None,
                "slow_sma": str(st.slow_sum / self._slow_d) if n == self.slow else None,
            }
        return out
