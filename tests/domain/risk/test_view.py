"""RiskView: positions and P&L from fills, pending bookkeeping, marks, and rebuild from the tape."""

from __future__ import annotations

from domain.risk.view import fold
from domain.signal import Intent
from tests.domain.risk.factories import NS, T0, D, Desk, bar, cancel, fill


def test_average_price_realized_and_unrealized_pnl() -> None:
    desk = Desk()
    desk.record(fill(desk.approved(quantity="2"), price="100"))
    desk.record(fill(desk.approved(quantity="2"), price="110", fee="1"))
    pos = desk.view.position("BTC-USDT")
    assert (pos.quantity, pos.avg_price) == (D("4"), D("105"))
    desk.record(bar("120", ts_ns=T0 + NS))
    assert desk.view.unrealized == D("60")
    desk.record(fill(desk.approved(Intent.ENTER_SHORT, quantity="1"), price="120"))
    # 4 long closed at 120 (+60), 1 short opened at 120
    pos = desk.view.position("BTC-USDT")
    assert (pos.quantity, pos.avg_price) == (D("-1"), D("120"))
    assert desk.view.realized == D("59")
    assert desk.view.unrealized == D("0")
    assert desk.view.equity(desk.config) == D("10059")


def test_partial_fills_reduce_pending_and_cancel_releases_the_rest() -> None:
    desk = Desk()
    order = desk.approved(quantity="10")
    desk.record(fill(order, quantity="4"))
    pos = desk.view.position("BTC-USDT")
    assert (pos.quantity, pos.pending_buy) == (D("4"), D("6"))
    desk.record(cancel(order))
    assert (pos.quantity, pos.pending_buy) == (D("4"), D("0"))
    assert desk.view.pending == {}


def test_a_repeated_fill_counts_once() -> None:
    desk = Desk()
    order = desk.approved(quantity="10")
    desk.record(fill(order, quantity="4"))
    desk.record(fill(order, quantity="4"))
    assert desk.view.position("BTC-USDT").quantity == D("4")


def test_exposure_totals_follow_pending_and_marks() -> None:
    desk = Desk()
    desk.approved(quantity="10")
    desk.approved(Intent.ENTER_SHORT, instrument="ETH-USDT", quantity="5", price="20")
    assert desk.view.gross_exposure == D("1100")
    assert (desk.view.net_hi, desk.view.net_lo) == (D("1000"), D("-100"))
    desk.record(bar("200", ts_ns=T0 + NS))
    assert desk.view.gross_exposure == D("2100")


def test_view_rebuilt_from_the_tape_equals_the_live_view() -> None:
    desk = Desk()
    a = desk.approved(quantity="3")
    desk.record(fill(a, quantity="1"))
    desk.record(bar("104", ts_ns=T0 + NS))
    desk.approved(Intent.ENTER_SHORT, instrument="ETH-USDT", quantity="2", price="50")
    desk.record(fill(a, quantity="2", fill_id="f2", price="103"))
    desk.approved(Intent.EXIT)
    rebuilt = fold(desk.tape)
    assert rebuilt == desk.view
    assert desk.view.copy() == desk.view


def test_a_trial_folds_decisions_as_the_view_would_and_leaves_it_as_it_was() -> None:
    desk = Desk()
    first = desk.approved(quantity="1")  # at T0: outside the rate window of what follows
    desk.ts_ns = T0 + 61 * NS
    desk.record(bar("100", ts_ns=desk.ts_ns))
    before = desk.view.copy()
    later = Desk(view=desk.view.copy(), version=desk.version, ts_ns=desk.ts_ns)
    second = later.approved(quantity="2")  # what folding it into the view itself gives
    with desk.view.trial() as trial:
        trial.apply(second)
        assert trial.pending.keys() == later.view.pending.keys()
        assert trial.position("BTC-USDT") == later.view.position("BTC-USDT")
        assert trial.gross_exposure == later.view.gross_exposure
        assert trial.orders_since(T0 + NS) == later.view.orders_since(T0 + NS) == 1
        assert trial.orders_since(T0) == 2  # the old one stays in a trial, never counted late
    assert desk.view == before
    assert list(desk.view.pending) == [first.client_order_id]


def test_a_trial_ended_by_an_error_still_leaves_the_view_as_it_was() -> None:
    desk = Desk()
    desk.approved(quantity="1")
    before = desk.view.copy()
    decision = Desk(view=desk.view.copy(), version=desk.version).approved(quantity="3")
    try:
        with desk.view.trial() as trial:
            trial.apply(decision)
            raise RuntimeError("the append failed")
    except RuntimeError:
        pass
    assert desk.view == before
