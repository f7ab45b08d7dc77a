"""The tape keeps fees in quote currency; what a venue charged in another asset is kept as
charged, and never booked as if it were quote currency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.execution.reconcile import fee_in_quote
from domain.execution.reports import FillReport


def fill(instrument: str, fee: str, currency: str | None) -> FillReport:
    return FillReport(
        fill_id="f1",
        client_order_id="c1",
        venue_order_id="v1",
        instrument=instrument,
        side="buy",
        quantity=Decimal("0.5"),
        price=Decimal("60000"),
        fee=Decimal(fee),
        fee_currency=currency,
    )


@pytest.mark.parametrize(
    ("instrument", "fee", "currency", "in_quote"),
    [
        ("BTC-USDT", "6", "USDT", "6"),  # quote
        ("BTC-USDT", "0.0001", "BTC", "6.0000"),  # base (a Binance buy): at the fill price
        ("BTC-USDT", "0.01", "BNB", "0"),  # a third asset: no price here, kept as charged
        ("BTC-USD-PERP", "6", "USDC", "6"),  # a perp settles fees in its collateral
        ("BTC-USD", "6", None, "6"),  # the venue did not say: quote
    ],
)
def test_fee_in_quote(instrument: str, fee: str, currency: str | None, in_quote: str) -> None:
    assert fee_in_quote(fill(instrument, fee, currency)) == Decimal(in_quote)
