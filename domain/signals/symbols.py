"""Ticker spellings (``BINANCE:BTCUSDT``, ``BTCUSDT.P``, ``BTC/USDT``, ``XBTUSD``) to instruments.

Senders spell one market many ways; the rest of the system knows one canonical ``BASE-QUOTE``
(``-PERP`` for perpetuals). The map is configuration: known quote currencies (to split glued
tickers such as ``ETHBTC``), base aliases (``XBT`` is ``BTC``), explicit overrides that win over
every rule, and optionally the closed set of instruments the source may trade.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from domain.signals.refusal import RefusalCode, Refused, show
from domain.values import Frozen, InstrumentId, VenueId

DEFAULT_QUOTES: tuple[str, ...] = ("USDT", "USDC", "FDUSD", "USD", "EUR", "GBP", "BTC", "ETH")
_PART = re.compile(r"^[A-Z0-9]{1,20}$")
_PERP_SUFFIXES = (".P", "-PERP", "_PERP", "PERP", "-SWAP", "_SWAP")
_MAX_TICKER_CHARS = 64


class ResolvedSymbol(Frozen):
    instrument: InstrumentId
    venue: VenueId | None = None


class SymbolMap(Frozen):
    quotes: tuple[str, ...] = Field(
        default=DEFAULT_QUOTES, description="quote currencies used to split glued tickers"
    )
    base_aliases: dict[str, str] = Field(default_factory=lambda: {"XBT": "BTC"})
    overrides: dict[str, InstrumentId] = Field(
        default_factory=dict,
        description="ticker (optionally with 'EXCHANGE:') to instrument; wins over the rules",
    )
    instruments: frozenset[InstrumentId] | None = Field(
        default=None, description="if set, only these instruments are accepted"
    )
    venues: dict[str, VenueId] = Field(
        default_factory=dict, description="exchange prefix (e.g. 'BINANCE') to preferred venue"
    )

    @field_validator("quotes")
    @classmethod
    def _quotes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        upper = tuple(q.upper() for q in value)
        for q in upper:
            if not _PART.match(q):
                raise ValueError(f"quote currency {q!r} must be 1-20 letters or digits")
        return tuple(sorted(upper, key=len, reverse=True))

    @field_validator("base_aliases", "overrides", "venues")
    @classmethod
    def _upper_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().upper(): v for k, v in value.items()}

    @field_validator("base_aliases")
    @classmethod
    def _upper_values(cls, value: dict[str, str]) -> dict[str, str]:
        return {k: v.upper() for k, v in value.items()}

    def resolve(self, ticker: str, exchange: str | None = None) -> ResolvedSymbol:
        """The canonical instrument for a ticker, or ``Refused(unknown_symbol)`` saying why."""
        raw = ticker.strip().upper()
        if not raw:
            raise Refused(RefusalCode.UNKNOWN_SYMBOL, "the ticker is empty")
        if len(raw) > _MAX_TICKER_CHARS:
            raise Refused(RefusalCode.UNKNOWN_SYMBOL, f"ticker {show(raw)} is too long")
        prefix, rest = _split_exchange(raw)
        if exchange and not prefix:
            prefix = exchange.strip().upper()
        venue = self.venues.get(prefix) if prefix else None
        for key in (f"{prefix}:{rest}" if prefix else None, rest, raw):
            if key and key in self.overrides:
                return self._allowed(ticker, self.overrides[key], venue)
        core, perp = _strip_perp(rest)
        base, quote = self._split(core, ticker)
        base = self.base_aliases.get(base, base)
        quote = self.base_aliases.get(quote, quote)
        if not (_PART.match(base) and _PART.match(quote)):
            raise Refused(
                RefusalCode.UNKNOWN_SYMBOL,
                f"ticker {show(ticker)} has characters other than letters and digits",
            )
        instrument = f"{base}-{quote}-PERP" if perp else f"{base}-{quote}"
        return self._allowed(ticker, instrument, venue)

    def _split(self, core: str, ticker: str) -> tuple[str, str]:
        parts = [p for p in re.split(r"[/\-_]", core)]
        if len(parts) == 2 and all(parts):
            return parts[0], parts[1]
        if len(parts) > 2 or (len(parts) == 2 and not all(parts)):
            raise Refused(
                RefusalCode.UNKNOWN_SYMBOL,
                f"ticker {show(ticker)} does not split into one base and one quote",
            )
        for quote in self.quotes:
            if core.endswith(quote) and len(core) > len(quote):
                return core[: -len(quote)], quote
        raise Refused(
            RefusalCode.UNKNOWN_SYMBOL,
            f"unknown ticker {show(ticker)}: no known quote currency ({', '.join(self.quotes)}) "
            "at its end; add it to the symbol map's quotes or overrides",
        )

    def _allowed(self, ticker: str, instrument: str, venue: str | None) -> ResolvedSymbol:
        if self.instruments is not None and instrument not in self.instruments:
            raise Refused(
                RefusalCode.UNKNOWN_SYMBOL,
                f"ticker {show(ticker)} means {instrument}, which this source may not trade",
            )
        return ResolvedSymbol(instrument=instrument, venue=venue)


def _split_exchange(raw: str) -> tuple[str | None, str]:
    """``BINANCE:BTCUSDT`` -> (``BINANCE``, ``BTCUSDT``); ccxt's ``BTC/USDT:USDT`` is kept whole."""
    if ":" not in raw:
        return None, raw
    head, tail = raw.split(":", 1)
    if "/" in head:
        return None, raw
    return (head or None), tail


def _strip_perp(symbol: str) -> tuple[str, bool]:
    if "/" in symbol and ":" in symbol:
        return symbol.split(":", 1)[0], True
    for suffix in _PERP_SUFFIXES:
        if symbol.endswith(suffix) and len(symbol) > len(suffix):
            return symbol[: -len(suffix)], True
    return symbol, False
