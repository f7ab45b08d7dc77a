"""Coinbase Advanced Trade through ccxt."""

from venues.coinbase.adapter import CoinbaseAdapter

__all__ = ["CoinbaseAdapter"]
