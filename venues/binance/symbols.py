"""Canonical instruments <-> Binance spot symbols (``BTC-USDT`` is ``BTC/USDT``, id ``BTCUSDT``)."""

from __future__ import annotations

from typing import Any

from venues.ccxt_common import canonical_to_ccxt, ccxt_to_canonical


def to_ccxt(instrument: str) -> str:
    return canonical_to_ccxt(instrument)


def to_canonical(symbol: str) -> str:
    return ccxt_to_canonical(symbol)


def venue_symbol(market: dict[str, Any]) -> str:
    """Binance writes pairs as ``BTC/USDT`` in its UI; the REST id is ``market['id']``."""
    return f"{market['baseId']}/{market['quoteId']}"
