"""A local Hyperliquid (``/info`` and ``/exchange``) the real SDK talks to: ``venue`` serves it,
``book`` keeps its accounts, agents, nonces and orders."""

from venues.fakes.hyperliquid.venue import FakeHyperliquid

__all__ = ["FakeHyperliquid"]
