"""Brackets: native children follow the parent's fills, OCO cancels, emulated levels fire."""

from __future__ import annotations

from domain.events import OrderIntentApproved
from domain.risk.brackets import (
    BracketBook,
    CancelChild,
    ChildRole,
    PlaceChild,
    TriggerExit,
    child_approval,
)
from domain.risk.view import fold
from domain.signal import Intent
from domain.values import OrderType, Side
from tests.domain.risk.factories import NS, T0, D, Desk, bar, cancel, fill


def entry(desk: Desk, **kwargs: object) -> OrderIntentApproved:
    return desk.approved(quantity="10", stop_loss=D("95"), take_profit=D("110"), **kwargs)


def test_plain_approvals_open_no_bracket() -> None:
    book = BracketBook()
    assert book.apply(Desk().approved()) == []
    assert book.brackets == {}


def test_native_children_track_parent_fills_and_cancel_each_other() -> None:
    desk, book = Desk(), BracketBook(native_venues=frozenset({"binance"}))
    parent = entry(desk, venue="binance")
    book.apply(parent)
    first = book.apply(fill(parent, quantity="4"))
    assert [(a.role, a.side, a.quantity, a.order_type, a.price) for a in first] == [
        (ChildRole.STOP_LOSS, Side.SELL, D("4"), OrderType.STOP_MARKET, D("95")),
        (ChildRole.TAKE_PROFIT, Side.SELL, D("4"), OrderType.LIMIT, D("110")),
    ]
    second = book.apply(fill(parent, quantity="6", fill_id="f2"))
    cancels = [a for a in second if isinstance(a, CancelChild)]
    places = [a for a in second if isinstance(a, PlaceChild)]
    assert {c.client_order_id for c in cancels} == {a.client_order_id for a in first}
    assert [p.quantity for p in places] == [D("10"), D("10")]
    stop, take = places
    # the take-profit fills partially: the stop shrinks to what is still open
    tp_fill = fill(child_approval(take, parent, desk.meta(), "risk.main", 50), quantity="3")
    resized = book.apply(tp_fill)
    assert CancelChild(stop.client_order_id, parent.client_order_id, "bracket resized") in resized
    new_stop = next(a for a in resized if isinstance(a, PlaceChild))
    assert (new_stop.role, new_stop.quantity) == (ChildRole.STOP_LOSS, D("7"))
    # the rest of the take-profit fills: flat, so the stop is canceled and the bracket closes
    rest = fill(child_approval(take, parent, desk.meta(), "risk.main", 51), quantity="7")
    done = book.apply(rest.model_copy(update={"fill_id": "f2"}))
    assert done == [
        CancelChild(new_stop.client_order_id, parent.client_order_id, "one cancels the other")
    ]
    assert book.brackets == {}


def test_emulated_stop_fires_on_the_bar_that_touches_it() -> None:
    desk, book = Desk(), BracketBook()
    parent = entry(desk)
    book.apply(parent)
    assert book.apply(fill(parent)) == []
    assert book.apply(bar("100", high="105", low="96")) == []
    fired = book.apply(bar("97", high="98", low="94", n=1))
    assert len(fired) == 1 and isinstance(fired[0], TriggerExit)
    trigger = fired[0]
    assert (trigger.role, trigger.side, trigger.quantity, trigger.trigger_price) == (
        ChildRole.STOP_LOSS,
        Side.SELL,
        D("10"),
        D("95"),
    )
    assert book.apply(bar("90", high="120", low="89", n=2)) == []  # fires once
    exit_order = child_approval(trigger, parent, desk.meta(), "risk.main", 60)
    assert exit_order.reduce_only and exit_order.order_type is OrderType.MARKET
    book.apply(fill(exit_order, price="94"))
    assert book.brackets == {}


def test_emulated_take_profit_for_a_short_and_stop_wins_ties() -> None:
    desk, book = Desk(), BracketBook()
    short = desk.approved(Intent.ENTER_SHORT, quantity="2", stop_loss=D("105"), take_profit=D("90"))
    book.apply(short)
    book.apply(fill(short))
    [tp] = book.apply(bar("90", high="99", low="89"))
    assert (tp.role, tp.side) == (ChildRole.TAKE_PROFIT, Side.BUY)

    desk2, book2 = Desk(), BracketBook()
    parent = entry(desk2)
    book2.apply(parent)
    book2.apply(fill(parent))
    [both] = book2.apply(bar("100", high="111", low="94"))
    assert both.role is ChildRole.STOP_LOSS


def test_an_unfilled_parent_that_is_canceled_closes_its_bracket() -> None:
    desk, book = Desk(), BracketBook()
    parent = entry(desk)
    book.apply(parent)
    book.apply(cancel(parent))
    assert book.brackets == {}


def test_bracket_children_are_deterministic_on_replay() -> None:
    desk = Desk()
    parent = entry(desk)
    desk.record(fill(parent, quantity="5"))
    desk.record(bar("94", low="93", ts_ns=T0 + NS))
    book_a, book_b = BracketBook(), BracketBook()
    a = [x for e in desk.tape for x in book_a.apply(e)]
    b = [x for e in desk.tape for x in book_b.apply(e)]
    assert a == b
    assert [(type(x), x.quantity) for x in a] == [(TriggerExit, D("5"))]
    assert fold(desk.tape) == desk.view


def test_the_mode_recorded_at_approval_holds_on_replay() -> None:
    """The approval records native or emulated; a replay under other venue settings (the
    venue no longer native, or the default changed) holds the bracket the same way."""
    desk = Desk()
    live = BracketBook(native_venues=frozenset({"paper"}), default_venue="paper")
    parent = live.stamp(entry(desk))  # names no venue: routed to the (native) default
    assert isinstance(parent, OrderIntentApproved) and parent.bracket == "native"
    assert live.stamp(Desk().approved()).bracket is None  # no stop, no take-profit: no mode
    later = BracketBook(native_venues=frozenset(), default_venue="other")
    for book in (live, later):
        book.apply(parent)
        placed = book.apply(fill(parent, quantity="10"))
        assert {type(a) for a in placed} == {PlaceChild}  # children rest at the venue


def test_an_approval_without_a_recorded_mode_follows_its_venue() -> None:
    desk = Desk()
    book = BracketBook(native_venues=frozenset({"paper"}), default_venue="paper")
    parent = entry(desk)  # older approvals carry no mode
    assert parent.bracket is None and book.mode_for(parent) == "native"
    assert book.mode_for(entry(desk, venue="binance")) == "emulated"
