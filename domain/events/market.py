"""Market data facts recorded on the tape, so marks and equity replay exactly."""

from __future__ import annotations

from pydantic import Field

from domain.events.base import Event
from domain.values import InstrumentId, NonNegative, Price, VenueId


def bar_stream(venue: str, instrument: str) -> str:
    return f"bars.{venue}.{instrument}"


class BarClosed(Event):
    """A bar closed. ``open_ts_ns`` is market time; the envelope's ``ts_ns`` is record time."""

    venue: VenueId
    instrument: InstrumentId
    open_ts_ns: int = Field(ge=0)
    interval_s: int = Field(gt=0)
    open: Price
    high: Price
    low: Price
    close: Price
    volume: NonNegative

    @property
    def close_ts_ns(self) -> int:
        return self.open_ts_ns + self.interval_s * 1_000_000_000
