"""Property: whatever fills a reconciliation records, balances that moved exactly as they imply
(give or take less than the tolerance) record no BalanceDiscrepancy, and one injected
difference records exactly one, naming that asset."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events.venue import BalanceDiscrepancy
from domain.execution.balances import BalanceBaseline, BalanceTolerance, steps_of
from domain.execution.reports import FillReport
from domain.orders import Order
from domain.values import Side

from .test_balances import accepted, fill_of, run

D = Decimal
SPECS = [
    ("BTC-USDT", D("0.00001"), D("0.01")),
    ("ETH-USDT", D("0.0001"), D("0.01")),
    ("ETH-BTC", D("0.001"), D("0.000001")),
]
ASSETS = ["BTC", "ETH", "USDT", "BNB"]
TOLERANCE = BalanceTolerance(fraction=D("0.1"), steps=steps_of(SPECS), default=D("0.00000001"))

fills = st.lists(
    st.tuples(
        st.sampled_from([s[0] for s in SPECS]),
        st.sampled_from(list(Side)),
        st.integers(1, 10**6).map(lambda n: D(n) / 1000),  # quantity
        st.integers(1, 10**7).map(lambda n: D(n) / 100),  # price
        st.integers(0, 10**4).map(lambda n: D(n) / 10**4),  # fee
        st.sampled_from(["quote", "base", "BNB", None]),  # where the fee was charged
    ),
    max_size=12,
)
balances = st.dictionaries(
    st.sampled_from(ASSETS), st.integers(0, 10**9).map(lambda n: D(n) / 1000), max_size=4
)


Drawn = list[tuple[str, Side, Decimal, Decimal, Decimal, str | None]]


def scenario(
    drawn: Drawn, previous: dict[str, Decimal], noise: list[Decimal]
) -> tuple[dict[str, Order], list[FillReport], dict[str, Decimal]]:
    """Orders and fills, and the balances an honest venue would show afterwards."""
    orders: dict[str, Order] = {}
    reports: list[FillReport] = []
    moved: dict[str, Decimal] = defaultdict(Decimal, previous)
    for n, (instrument, side, qty, price, fee, where) in enumerate(drawn):
        base, quote = instrument.split("-")
        asset = {"quote": quote, "base": base}.get(where or "quote", where)
        order = accepted(f"o{n}", instrument=instrument, side=side, qty=str(qty))
        orders[order.client_order_id] = order
        reports.append(
            fill_of(order, str(qty), str(price), fee=str(fee), fee_currency=where and asset)
        )
        moved[base] += side.sign * qty
        moved[quote] -= side.sign * qty * price
        moved[asset or quote] -= fee
    for asset, wiggle in zip(ASSETS, noise, strict=False):
        moved[asset] += wiggle * TOLERANCE.of(asset)  # less than the tolerance either way
    return orders, reports, dict(moved)


noise = st.lists(st.sampled_from([D(0), D("0.5"), D("-0.9")]), min_size=4, max_size=4)


@settings(max_examples=150, deadline=None)
@given(fills, balances, noise)
def test_balances_that_moved_as_the_fills_imply_record_nothing(
    drawn: Drawn, previous: dict[str, Decimal], wiggle: list[Decimal]
) -> None:
    orders, reports, observed = scenario(drawn, previous, wiggle)
    baseline = BalanceBaseline(balances=previous, ts_ns=1)
    result = run(orders, reports, observed, baseline, tolerance=TOLERANCE)
    assert [e for e in result.events if isinstance(e, BalanceDiscrepancy)] == []
    assert len(result.moves) == len(drawn)


@settings(max_examples=150, deadline=None)
@given(
    fills,
    balances,
    noise,
    st.sampled_from(ASSETS),
    st.integers(2, 10**6).map(lambda n: D(n) / 1000),  # beyond any tolerance here, with noise
    st.booleans(),
)
def test_one_injected_difference_records_exactly_one_discrepancy_naming_its_asset(
    drawn: Drawn,
    previous: dict[str, Decimal],
    wiggle: list[Decimal],
    asset: str,
    amount: Decimal,
    withdrawn: bool,
) -> None:
    orders, reports, observed = scenario(drawn, previous, wiggle)
    injected = -amount if withdrawn else amount
    observed[asset] = observed.get(asset, D(0)) + injected
    result = run(
        orders, reports, observed, BalanceBaseline(balances=previous, ts_ns=1), tolerance=TOLERANCE
    )
    (found,) = [e for e in result.events if isinstance(e, BalanceDiscrepancy)]
    assert found.asset == asset
    assert abs(found.difference - injected) < TOLERANCE.of(asset)
    assert found.observed == observed[asset]
