"""Hyperliquid names and number rules: coins, lots, the 5-significant-figure price rule, Cloids."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hyperliquid.utils.types import Cloid
from hypothesis import given
from hypothesis import strategies as st

from venues.hyperliquid.symbols import (
    SymbolMap,
    UnknownInstrument,
    cloid_for,
    finest_tick,
    is_valid_price,
    round_price,
    round_size,
)

prices = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("2000000"), places=8)
sz_decimals = st.integers(min_value=0, max_value=5)


@given(prices, sz_decimals, st.booleans())
def test_rounded_price_is_valid_and_on_the_right_side(
    price: Decimal, decimals: int, up: bool
) -> None:
    rounded = round_price(price, decimals, up=up)
    assert is_valid_price(rounded, decimals)
    assert rounded >= price if up else (rounded <= price or rounded == finest_tick(decimals))
    digits = rounded.normalize().as_tuple().digits
    assert len(digits) <= 5 or rounded == rounded.to_integral_value()


@given(st.decimals(min_value=0, max_value=10**6, places=10), sz_decimals)
def test_rounded_size_never_exceeds_the_request(size: Decimal, decimals: int) -> None:
    rounded = round_size(size, decimals)
    assert 0 <= rounded <= size
    assert size - rounded < Decimal(1).scaleb(-decimals)


@pytest.mark.parametrize(
    ("price", "decimals", "up", "expected"),
    [
        ("60123.456", 5, False, "60123"),
        ("123456.7", 5, True, "123457"),  # integers are always allowed
        ("1.234567", 2, True, "1.2346"),
        ("3000.55", 4, False, "3000.5"),
        ("0.0001234567", 0, False, "0.000123"),  # at most 6 - szDecimals decimals
        ("9.99995", 0, True, "10"),
    ],
)
def test_price_examples(price: str, decimals: int, up: bool, expected: str) -> None:
    assert round_price(Decimal(price), decimals, up=up) == Decimal(expected)


@given(st.text(min_size=1, max_size=80))
def test_cloid_is_deterministic_and_accepted_by_the_sdk(client_order_id: str) -> None:
    cloid = cloid_for(client_order_id)
    assert cloid == cloid_for(client_order_id)
    assert re.fullmatch(r"0x[0-9a-f]{32}", cloid)
    assert Cloid(cloid).to_raw() == cloid


def test_hex_client_ids_are_used_as_they_are() -> None:
    raw = "0x" + "AB" * 16
    assert cloid_for(raw) == raw.lower()
    assert cloid_for("ab" * 16) == "0x" + "ab" * 16
    assert cloid_for("a") != cloid_for("b")


def test_symbol_map_from_meta() -> None:
    symbols = SymbolMap(
        [
            {"name": "BTC", "szDecimals": 5},
            {"name": "kPEPE", "szDecimals": 0},
            {"name": "OLD", "szDecimals": 1, "isDelisted": True},
        ]
    )
    assert symbols.coin("BTC-USD-PERP") == "BTC"
    assert symbols.instrument("kPEPE") == "KPEPE-USD-PERP"
    assert symbols.coin("KPEPE-USD-PERP") == "kPEPE"
    assert symbols.instrument("OLD") is None
    with pytest.raises(UnknownInstrument):
        symbols.coin("BTC-USDT")
    [btc, pepe] = symbols.specs()
    assert btc.lot_size == Decimal("0.00001") and btc.tick_size == Decimal("0.1")
    assert pepe.lot_size == Decimal(1) and pepe.tick_size == Decimal("0.000001")
