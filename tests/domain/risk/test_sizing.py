"""Sizing policies through decide(), and the rounding helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.risk.config import RiskConfig, SizingConfig, SizingKind
from domain.risk.sizing import average_true_range, round_price, round_to_step
from domain.signal import Size, SizeKind
from domain.values import Side
from tests.domain.risk.factories import NS, T0, D, Desk, bar


def desk_sizing(**sizing: object) -> Desk:
    return Desk(config=RiskConfig(starting_equity=D("20000"), sizing=SizingConfig(**sizing)))


def test_fixed_quantity() -> None:
    desk = desk_sizing(kind=SizingKind.FIXED_QUANTITY, quantity=D("0.7"))
    assert desk.approved().quantity == D("0.7")


def test_percent_of_equity() -> None:
    desk = desk_sizing(kind=SizingKind.PERCENT_EQUITY, percent=D("10"))
    assert desk.approved(price="50").quantity == D("40")  # 2000 / 50


def test_fixed_fractional_risk_over_the_stop_distance() -> None:
    desk = desk_sizing(kind=SizingKind.FIXED_FRACTIONAL, percent=D("1"))
    approval = desk.approved(price="100", stop_loss=D("96"))
    assert approval.quantity == D("50")  # risk 200 over a distance of 4


def test_fixed_fractional_without_a_stop_is_refused() -> None:
    desk = desk_sizing(kind=SizingKind.FIXED_FRACTIONAL, percent=D("1"))
    assert desk.rejected().rule == "sizing"


def test_atr_scaled_from_bars_in_the_view() -> None:
    desk = desk_sizing(kind=SizingKind.ATR, percent=D("1"), atr_period=3, atr_multiple=D("2"))
    assert desk.rejected().rule == "sizing"  # no bars yet
    for n, (high, low, close) in enumerate([(101, 99, 100), (102, 98, 100), (103, 97, 100)]):
        desk.record(bar(close, high=high, low=low, ts_ns=T0 + n * NS, n=n))
    assert desk.rejected().observed == "3"
    desk.record(bar(100, high=104, low=96, ts_ns=T0 + 3 * NS, n=3))
    # true ranges 4, 6, 8 -> ATR 6, stop 12 away, risk 200
    assert desk.approved(price="100").quantity == D("16.66666666")


def test_signal_sizes_override_the_policy() -> None:
    desk = desk_sizing(kind=SizingKind.FIXED_QUANTITY, quantity=D("0.7"))
    assert desk.approved(notional="500", price="100").quantity == D("5")
    pct = Size(kind=SizeKind.PERCENT_EQUITY, value=D("5"))
    assert desk.approved(size=pct, price="100").quantity == D("10")


def test_sizing_config_demands_its_parameter() -> None:
    with pytest.raises(ValidationError):
        SizingConfig(kind=SizingKind.PERCENT_EQUITY)


def test_rounding_helpers() -> None:
    assert round_to_step(D("1.2399"), D("0.01")) == D("1.23")
    assert round_price(D("10.03"), D("0.05"), Side.BUY) == D("10.00")
    assert round_price(D("10.03"), D("0.05"), Side.SELL) == D("10.05")
    assert round_price(D("10.03"), D("0.05"), None) == D("10.05")


def test_average_true_range_uses_gaps() -> None:
    bars = [(D(10), D(9), D(10)), (D(15), D(14), D(15))]
    assert average_true_range(bars, 1) == Decimal(5)
