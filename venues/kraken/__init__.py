"""Kraken spot through ccxt."""

from venues.kraken.adapter import KrakenAdapter

__all__ = ["KrakenAdapter"]
