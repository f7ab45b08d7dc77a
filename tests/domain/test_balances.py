"""Spot balances against the tape: what fills imply, tolerances, and the BalanceDiscrepancy events
reconciliation records (once per change, none when the venue agrees, none for derivatives)."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from domain.events import EventMeta, OrderAccepted, OrderSubmitted, order_stream
from domain.events.venue import BalanceDiscrepancy, ReconciliationCompleted
from domain.execution.balances import (
    BalanceBaseline,
    BalanceTolerance,
    FillMove,
    compare_balances,
    implied_changes,
    steps_of,
)
from domain.execution.reconcile import Reconciliation, reconcile
from domain.execution.reports import FillReport, PositionReport, VenueSnapshot
from domain.orders import Order
from domain.values import OrderType, Side

D = Decimal
BTC = "BTC-USDT"


def accepted(coid: str, instrument: str = BTC, side: Side = Side.BUY, qty: str = "1") -> Order:
    meta = EventMeta(ts_ns=1, source="t")
    submitted = OrderSubmitted(
        **meta.envelope(order_stream(coid), 1),
        client_order_id=coid,
        intent_event_id=uuid4(),
        strategy="s",
        venue="v",
        instrument=instrument,
        side=side,
        quantity=D(qty),
        order_type=OrderType.MARKET,
    )
    ack = OrderAccepted(
        **meta.envelope(order_stream(coid), 2), client_order_id=coid, venue_order_id=f"v-{coid}"
    )
    return Order(client_order_id=coid).apply(submitted).apply(ack)


def fill_of(
    order: Order,
    qty: str,
    price: str,
    fee: str = "0",
    fee_currency: str | None = None,
    fid: str | None = None,
) -> FillReport:
    return FillReport(
        fill_id=fid or f"f-{order.client_order_id}-{qty}",
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id or "",
        instrument=order.instrument,
        side=order.side,
        quantity=D(qty),
        price=D(price),
        fee=D(fee),
        fee_currency=fee_currency,
        ts_ns=5,
    )


def run(
    orders: dict[str, Order],
    fills: list[FillReport],
    balances: dict[str, Decimal],
    baseline: BalanceBaseline | None,
    *,
    positions: list[PositionReport] | None = None,
    ts_ns: int = 1000,
    tolerance: BalanceTolerance | None = None,
) -> Reconciliation:
    snapshot = VenueSnapshot(fills=fills, balances=balances, positions=positions)
    return reconcile(
        orders,
        snapshot,
        venue="v",
        meta=EventMeta(ts_ns=ts_ns, source="gateway.v"),
        venue_version=0,
        submitted_ns={},
        resend_window_ns=10**12,
        trigger="periodic",
        baseline=baseline,
        tolerance=tolerance,
    )


def discrepancies(result: Reconciliation) -> list[BalanceDiscrepancy]:
    return [e for e in result.events if isinstance(e, BalanceDiscrepancy)]


# what fills imply ------------------------------------------------------------------------------


def test_a_buy_adds_base_and_takes_quote_and_its_fee() -> None:
    move = FillMove(instrument=BTC, side=Side.BUY, quantity=D("0.5"), price=D(100), fee=D("0.05"))
    assert implied_changes([move]) == {"BTC": D("0.5"), "USDT": D("-50.05")}


def test_a_sell_does_the_reverse() -> None:
    move = FillMove(instrument=BTC, side=Side.SELL, quantity=D(2), price=D(10), fee=D("0.02"))
    assert implied_changes([move]) == {"BTC": D(-2), "USDT": D("19.98")}


def test_a_fee_is_taken_in_the_asset_it_was_charged_in() -> None:
    in_base = FillMove(
        instrument=BTC, side=Side.BUY, quantity=D(1), price=D(100), fee=D("0.001"), fee_asset="BTC"
    )
    in_bnb = FillMove(
        instrument=BTC, side=Side.BUY, quantity=D(1), price=D(100), fee=D("0.2"), fee_asset="BNB"
    )
    assert implied_changes([in_base]) == {"BTC": D("0.999"), "USDT": D(-100)}
    assert implied_changes([in_bnb]) == {"BTC": D(1), "USDT": D(-100), "BNB": D("-0.2")}


# tolerances and comparison ---------------------------------------------------------------------


def test_steps_are_the_lot_for_a_base_and_the_tick_for_a_quote_the_smaller_when_both() -> None:
    steps = steps_of([(BTC, D("0.001"), D("0.01")), ("ETH-BTC", D("0.01"), D("0.00001"))])
    assert steps == {"BTC": D("0.00001"), "USDT": D("0.01"), "ETH": D("0.01")}


def test_a_fixed_tolerance_wins_then_a_fraction_of_the_step_then_the_default() -> None:
    tolerance = BalanceTolerance(
        fraction=D("0.5"), steps={"BTC": D("0.001"), "USDT": D("0.01")}, fixed={"USDT": D(1)}
    )
    assert tolerance.of("USDT") == D(1)
    assert tolerance.of("BTC") == D("0.0005")
    assert tolerance.of("BNB") == D(0)


def test_differences_within_tolerance_do_not_count_and_missing_assets_are_zero() -> None:
    tolerance = BalanceTolerance(fraction=D("0.5"), steps={"BTC": D("0.001")})
    previous = {"BTC": D(1), "USDT": D(100)}
    changes = {"BTC": D("0.5"), "USDT": D(-100)}
    assert compare_balances(previous, {"BTC": D("1.5004")}, changes, tolerance) == []
    (diff,) = compare_balances(previous, {"BTC": D("1.5006")}, changes, tolerance)
    assert (diff.asset, diff.expected, diff.observed, diff.difference) == (
        "BTC",
        D("1.5"),
        D("1.5006"),
        D("0.0006"),
    )


# through reconciliation ------------------------------------------------------------------------


def test_fills_recorded_now_explain_the_change_with_a_fee_in_the_base_asset() -> None:
    order = accepted("a")
    fill = fill_of(order, "1", "100", fee="0.001", fee_currency="BTC")
    baseline = BalanceBaseline(balances={"USDT": D(1000)}, ts_ns=10)
    result = run({"a": order}, [fill], {"BTC": D("0.999"), "USDT": D(900)}, baseline)
    assert discrepancies(result) == []
    done = result.events[-1]
    assert isinstance(done, ReconciliationCompleted)
    assert done.balances == {"BTC": D("0.999"), "USDT": D(900)}


def test_a_deposit_is_one_discrepancy_and_the_next_reconciliation_does_not_repeat_it() -> None:
    order = accepted("a", side=Side.SELL)
    fill = fill_of(order, "1", "100", fee="0.1")
    baseline = BalanceBaseline(balances={"BTC": D(2), "USDT": D(0)}, ts_ns=10)
    observed = {"BTC": D(1), "USDT": D("99.9") + D(500)}  # the sale, and a deposit of 500
    first = run({"a": order}, [fill], observed, baseline, ts_ns=1000)
    (found,) = discrepancies(first)
    assert (found.asset, found.previous, found.expected, found.observed, found.difference) == (
        "USDT",
        D(0),
        D("99.9"),
        D("599.9"),
        D(500),
    )
    assert (found.since_ns, found.until_ns, found.venue) == (10, 1000, "v")
    assert first.corrections == 2  # the fill and the discrepancy

    done = first.events[-1]
    assert isinstance(done, ReconciliationCompleted)
    after = {"a": order}
    for event in first.events:
        if event.stream == order_stream("a"):
            after["a"] = after["a"].apply(event)
    again = run(after, [fill], observed, BalanceBaseline(balances=done.balances, ts_ns=1000))
    assert discrepancies(again) == []
    assert again.corrections == 0


def test_a_fill_already_on_the_tape_does_not_count_again() -> None:
    order = accepted("a")
    fill = fill_of(order, "1", "100")
    first = run({"a": order}, [fill], {"BTC": D(1)}, None)
    filled = order
    for event in first.events:
        if event.stream == order_stream("a"):
            filled = filled.apply(event)
    baseline = BalanceBaseline(balances={"BTC": D(1)}, ts_ns=1000)
    assert discrepancies(run({"a": filled}, [fill], {"BTC": D(1)}, baseline)) == []


def test_a_fill_the_tape_cannot_take_leaves_the_balance_difference_on_record() -> None:
    order = accepted("a", qty="1")
    overfill = fill_of(order, "2", "100")  # more than the order: an anomaly, not recorded
    baseline = BalanceBaseline(balances={"USDT": D(1000)}, ts_ns=10)
    result = run({"a": order}, [overfill], {"BTC": D(2), "USDT": D(800)}, baseline)
    assert result.anomalies
    assert {d.asset for d in discrepancies(result)} == {"BTC", "USDT"}


def test_nothing_to_compare_with_and_derivatives_are_not_checked() -> None:
    assert discrepancies(run({}, [], {"USDT": D(5)}, None)) == []
    baseline = BalanceBaseline(balances={"USDC": D(100)}, ts_ns=10)
    perp = run({}, [], {"USDC": D(90)}, baseline, positions=[])
    assert discrepancies(perp) == []
