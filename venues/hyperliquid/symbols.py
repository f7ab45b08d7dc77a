"""Hyperliquid's names and number rules, kept apart from the I/O so they can be tested alone.

Canonical perpetuals are ``BASE-USD-PERP``; on Hyperliquid the same market is the coin
``BASE`` (``BTC-USD-PERP`` <-> ``BTC``). Sizes are multiples of ``10**-szDecimals``; prices
carry at most five significant figures and at most ``6 - szDecimals`` decimals (integers are
always allowed). Our client order ids become a ``Cloid``: ``0x`` + 32 hex digits (16 bytes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from venues.base import InstrumentSpec

PERP_MAX_DECIMALS = 6
MAX_SIGNIFICANT_FIGURES = 5
MIN_ORDER_VALUE = Decimal(10)
_CLOID_HEX = re.compile(r"^(0x)?([0-9a-fA-F]{32})$")
_CANONICAL = re.compile(r"^[A-Z0-9]{1,20}$")


class UnknownInstrument(ValueError):
    """The instrument is not a Hyperliquid perpetual we know."""


def cloid_for(client_order_id: str) -> str:
    """The raw Cloid for one of our client order ids; the same id always gives the same Cloid."""
    match = _CLOID_HEX.match(client_order_id)
    if match:
        return "0x" + match.group(2).lower()
    return "0x" + hashlib.sha256(client_order_id.encode()).hexdigest()[:32]


def lot_size(sz_decimals: int) -> Decimal:
    return Decimal(1).scaleb(-sz_decimals)


def finest_tick(sz_decimals: int) -> Decimal:
    return Decimal(1).scaleb(-max(PERP_MAX_DECIMALS - sz_decimals, 0))


def round_size(size: Decimal, sz_decimals: int) -> Decimal:
    """Round a size down to the lot, so we never trade more than asked."""
    return size.quantize(lot_size(sz_decimals), rounding=ROUND_DOWN)


def price_decimals(price: Decimal, sz_decimals: int) -> int:
    """How many decimals a price of this magnitude may carry."""
    if price <= 0:
        raise ValueError("price must be positive")
    integer_digits = price.adjusted() + 1  # digits before the point (<= 0 for prices below 1)
    by_figures = MAX_SIGNIFICANT_FIGURES - integer_digits
    return max(min(by_figures, PERP_MAX_DECIMALS - sz_decimals), 0)


def round_price(price: Decimal, sz_decimals: int, *, up: bool) -> Decimal:
    """Round a price to what Hyperliquid accepts, up or down (never to zero)."""
    decimals = price_decimals(price, sz_decimals)
    quantum = Decimal(1).scaleb(-decimals)
    rounded = price.quantize(quantum, rounding=ROUND_UP if up else ROUND_DOWN)
    if rounded <= 0:
        rounded = quantum
    if rounded.adjusted() != price.adjusted():  # crossed a power of ten: re-check the figures
        rounded = rounded.quantize(
            Decimal(1).scaleb(-price_decimals(rounded, sz_decimals)),
            rounding=ROUND_UP if up else ROUND_DOWN,
        )
    return rounded.to_integral_value() if rounded == rounded.to_integral_value() else rounded


def is_valid_price(price: Decimal, sz_decimals: int) -> bool:
    if price <= 0:
        return False
    if price == price.to_integral_value():
        return True
    return price == price.quantize(Decimal(1).scaleb(-price_decimals(price, sz_decimals)))


class SymbolMap:
    """Canonical instruments <-> Hyperliquid coins, built from the venue's ``meta`` universe."""

    def __init__(self, universe: Iterable[Mapping[str, object]]) -> None:
        self._coin_by_instrument: dict[str, str] = {}
        self._instrument_by_coin: dict[str, str] = {}
        self._sz_decimals: dict[str, int] = {}
        for asset in universe:
            coin = str(asset["name"])
            base = coin.upper()
            if asset.get("isDelisted") or not _CANONICAL.match(base):
                continue
            instrument = f"{base}-USD-PERP"
            self._coin_by_instrument[instrument] = coin
            self._instrument_by_coin[coin] = instrument
            self._sz_decimals[coin] = int(str(asset["szDecimals"]))

    def coin(self, instrument: str) -> str:
        try:
            return self._coin_by_instrument[instrument]
        except KeyError:
            raise UnknownInstrument(f"not a Hyperliquid perpetual: {instrument}") from None

    def instrument(self, coin: str) -> str | None:
        return self._instrument_by_coin.get(coin)

    def sz_decimals(self, coin: str) -> int:
        return self._sz_decimals[coin]

    def specs(self) -> list[InstrumentSpec]:
        return [
            InstrumentSpec(
                instrument=instrument,
                venue_symbol=coin,
                lot_size=lot_size(self._sz_decimals[coin]),
                tick_size=finest_tick(self._sz_decimals[coin]),
                min_quantity=lot_size(self._sz_decimals[coin]),
                min_notional=MIN_ORDER_VALUE,
            )
            for instrument, coin in sorted(self._coin_by_instrument.items())
        ]
