"""Local, protocol-faithful fake venues for tests and benchmarks.

``start_fake("binance")`` serves a fake on an ephemeral port of 127.0.0.1 and returns a handle
with its base URL, a valid key pair, the in-memory engine and the fault switch::

    with start_fake("binance") as fake:
        adapter = BinanceAdapter(fake.api_key, fake.secret, base_url=fake.base_url)
        fake.faults.add("response_lost", on="place")
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from venues.fakes.engine import Engine
from venues.fakes.faults import Fault, FaultKind, FaultSwitch
from venues.fakes.server import FakeServer, FakeVenue

__all__ = ["FakeVenueHandle", "Fault", "FaultKind", "FaultSwitch", "start_fake"]

FAKE_MODULES = {
    "binance": "venues.fakes.binance",
    "kraken": "venues.fakes.kraken",
    "coinbase": "venues.fakes.coinbase",
}


@dataclass
class FakeVenueHandle:
    """A running fake venue. ``secret`` is a throwaway test secret, still kept out of reprs."""

    venue: str
    base_url: str
    api_key: str
    secret: str = field(repr=False)
    fake: FakeVenue = field(repr=False)
    server: FakeServer = field(repr=False)

    @property
    def engine(self) -> Engine:
        return self.fake.engine

    @property
    def faults(self) -> FaultSwitch:
        return self.fake.faults

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeVenueHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_fake(venue: str, **options: Any) -> FakeVenueHandle:
    """Start the fake for ``venue`` (binance, kraken, coinbase) on 127.0.0.1:<ephemeral>."""
    try:
        module = importlib.import_module(FAKE_MODULES[venue])
    except KeyError:
        raise ValueError(f"no fake for venue {venue!r}") from None
    fake, api_key, secret = module.create(**options)
    server = FakeServer(fake)
    base_url = server.start()
    return FakeVenueHandle(venue, base_url, api_key, secret, fake, server)
