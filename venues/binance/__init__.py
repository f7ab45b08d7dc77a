"""Binance spot through ccxt."""

from venues.binance.adapter import BinanceAdapter

__all__ = ["BinanceAdapter"]
