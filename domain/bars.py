"""The ``Bar`` value type and pure conversions to and from events and columns.

Bars flow through strategies, the paper matching engine and backtests millions of times, so a
``Bar`` is a frozen slots dataclass (not a pydantic model): cheap to build and to read. Validation
happens at the boundaries (``BarClosed`` events, file loaders) and in ``Bar.checked``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from domain.values import to_decimal

if TYPE_CHECKING:
    from domain.events.market import BarClosed

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar. ``open_ts_ns`` is the bar's open time (market time, UTC ns)."""

    venue: str
    instrument: str
    open_ts_ns: int
    interval_s: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def close_ts_ns(self) -> int:
        return self.open_ts_ns + self.interval_s * NS_PER_S

    def checked(self) -> Bar:
        """Return self after checking OHLC consistency; raise ``ValueError`` otherwise."""
        if self.interval_s <= 0 or self.open_ts_ns < 0:
            raise ValueError(f"bad bar timing for {self.instrument} at {self.open_ts_ns}")
        if min(self.open, self.high, self.low, self.close) <= 0 or self.volume < 0:
            raise ValueError(f"non-positive price or negative volume at {self.open_ts_ns}")
        if self.high < max(self.open, self.close, self.low) or self.low > min(
            self.open, self.close
        ):
            raise ValueError(f"inconsistent OHLC for {self.instrument} at {self.open_ts_ns}")
        return self


def bar_from_event(event: BarClosed) -> Bar:
    return Bar(
        venue=event.venue,
        instrument=event.instrument,
        open_ts_ns=event.open_ts_ns,
        interval_s=event.interval_s,
        open=event.open,
        high=event.high,
        low=event.low,
        close=event.close,
        volume=event.volume,
    )


def bar_to_event_fields(bar: Bar) -> dict[str, Any]:
    """The payload fields of a ``BarClosed`` for this bar (the caller adds the envelope)."""
    return {
        "venue": bar.venue,
        "instrument": bar.instrument,
        "open_ts_ns": bar.open_ts_ns,
        "interval_s": bar.interval_s,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
    }


def infer_interval_s(open_ts_ms: Sequence[int]) -> int:
    """The bar interval: the smallest positive step between consecutive open times.

    The smallest step (not the most common one) is right even when a series has many gaps,
    since a gap is always a multiple of the interval.
    """
    steps = [b - a for a, b in pairwise(open_ts_ms) if b > a]
    if not steps:
        raise ValueError("cannot infer the interval from fewer than two distinct timestamps")
    step_ms = min(steps)
    if step_ms % 1000:
        raise ValueError(f"bar interval of {step_ms} ms is not a whole number of seconds")
    return step_ms // 1000


def _dec(value: Any) -> Decimal:
    # numpy scalars subclass float but their repr is "np.float64(...)": go through float first.
    if isinstance(value, float) and type(value) is not float:
        value = float(value)
    return to_decimal(value)


def bars_from_columns(
    *,
    venue: str,
    instrument: str,
    interval_s: int,
    ts_ms: Iterable[int],
    open: Iterable[Any],
    high: Iterable[Any],
    low: Iterable[Any],
    close: Iterable[Any],
    volume: Iterable[Any],
    check: bool = True,
) -> list[Bar]:
    """Bars from parallel columns; floats become ``Decimal`` exactly via ``repr``."""
    bars: list[Bar] = []
    for t, o, h, lo, c, v in zip(ts_ms, open, high, low, close, volume, strict=True):
        bar = Bar(
            venue=venue,
            instrument=instrument,
            open_ts_ns=int(t) * NS_PER_MS,
            interval_s=interval_s,
            open=_dec(o),
            high=_dec(h),
            low=_dec(lo),
            close=_dec(c),
            volume=_dec(v),
        )
        bars.append(bar.checked() if check else bar)
    return bars


def bars_from_rows(
    rows: Iterable[dict[str, Any]],
    *,
    venue: str,
    instrument: str,
    interval_s: int,
    check: bool = True,
) -> list[Bar]:
    """Bars from row dicts with keys ``ts_ms, open, high, low, close, volume``."""
    rows = list(rows)
    return bars_from_columns(
        venue=venue,
        instrument=instrument,
        interval_s=interval_s,
        ts_ms=[r["ts_ms"] for r in rows],
        open=[r["open"] for r in rows],
        high=[r["high"] for r in rows],
        low=[r["low"] for r in rows],
        close=[r["close"] for r in rows],
        volume=[r["volume"] for r in rows],
        check=check,
    )
