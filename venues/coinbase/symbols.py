"""Canonical instruments <-> Coinbase Advanced Trade products.

``BTC-USD`` is the product ``BTC-USD`` on Coinbase; ccxt calls it ``BTC/USD``.
"""

from __future__ import annotations

from typing import Any

from venues.ccxt_common import canonical_to_ccxt, ccxt_to_canonical


def to_ccxt(instrument: str) -> str:
    return canonical_to_ccxt(instrument)


def to_canonical(symbol: str) -> str:
    return ccxt_to_canonical(symbol)


def venue_symbol(market: dict[str, Any]) -> str:
    """Coinbase's product id, e.g. ``BTC-USD``."""
    return str(market["id"])
