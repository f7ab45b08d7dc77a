from __future__ import annotations

import pytest

from domain.signals import RefusalCode, SymbolMap
from domain.signals.refusal import Refused


@pytest.mark.parametrize(
    ("ticker", "instrument"),
    [
        ("BTCUSDT", "BTC-USDT"),
        ("btcusdt", "BTC-USDT"),
        ("BINANCE:BTCUSDT", "BTC-USDT"),
        ("BTCUSDT.P", "BTC-USDT-PERP"),
        ("BYBIT:ETHUSDT.P", "ETH-USDT-PERP"),
        ("BTC/USDT", "BTC-USDT"),
        ("BTC-USDT", "BTC-USDT"),
        ("BTC_USDT", "BTC-USDT"),
        ("BTC-USD-PERP", "BTC-USD-PERP"),
        ("BTC/USDT:USDT", "BTC-USDT-PERP"),
        ("BTCUSDTPERP", "BTC-USDT-PERP"),
        ("XBTUSD", "BTC-USD"),
        ("KRAKEN:XBTEUR", "BTC-EUR"),
        ("ETHBTC", "ETH-BTC"),
        ("SOLUSDC", "SOL-USDC"),
        ("1000PEPEUSDT", "1000PEPE-USDT"),
    ],
)
def test_usual_spellings(ticker: str, instrument: str) -> None:
    assert SymbolMap().resolve(ticker).instrument == instrument


def test_overrides_win_and_may_name_an_exchange() -> None:
    symbols = SymbolMap(
        overrides={"bitmex:xbtusd": "BTC-USD-PERP", "WIFUSDT": "WIF-USDT"},
        venues={"BINANCE": "binance"},
    )
    assert symbols.resolve("BITMEX:XBTUSD").instrument == "BTC-USD-PERP"
    assert symbols.resolve("KRAKEN:XBTUSD").instrument == "BTC-USD"
    resolved = symbols.resolve("BTCUSDT", exchange="BINANCE")
    assert resolved.venue == "binance"


def test_extra_quote_currencies() -> None:
    assert SymbolMap(quotes=("TRY",)).resolve("BTCTRY").instrument == "BTC-TRY"


@pytest.mark.parametrize(
    "ticker", ["", "USDT", "FOOBAR", "BTC/USDT/ETH", "BTC-", "BTC$USDT", "A" * 100, "BTC:"]
)
def test_unknown_tickers_are_refused_clearly(ticker: str) -> None:
    with pytest.raises(Refused) as caught:
        SymbolMap().resolve(ticker)
    assert caught.value.code is RefusalCode.UNKNOWN_SYMBOL
    assert caught.value.reason


def test_allowed_instruments() -> None:
    symbols = SymbolMap(instruments=frozenset({"BTC-USDT"}))
    assert symbols.resolve("BINANCE:BTCUSDT").instrument == "BTC-USDT"
    with pytest.raises(Refused) as caught:
        symbols.resolve("ETHUSDT")
    assert "ETH-USDT" in caught.value.reason
