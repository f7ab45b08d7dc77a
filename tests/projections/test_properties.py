"""Properties of the folds over any generated tape, valid and invalid events alike.

(a) folding never raises and the orders projection equals each order stream folded on its own
through ``domain.orders``; (b) one by one, in batches, through the bundle, and after an encode /
decode round trip through the store codec, the fold gives the same deterministic state (replay
equals the live fold); (c) positions' P&L equals the cash flows computed independently.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.events import BarClosed, Event, OrderFilled
from domain.orders import Order, OrderStateError
from domain.values import Side
from projections.base import canonical_json
from projections.bundle import ProjectionBundle, fold
from projections.equity import EquityProjection
from projections.orders import OrdersProjection
from projections.positions import PositionsProjection
from projections.trades import TradesProjection
from store.codec import decode_trusted, encode
from tests.projections.generators import tapes, trading_tapes

TOLERANCE = Decimal("1e-12")
PROPERTY = settings(max_examples=150, deadline=None)


def all_projections() -> list[
    OrdersProjection | PositionsProjection | TradesProjection | EquityProjection
]:
    return [OrdersProjection(), PositionsProjection(), TradesProjection(), EquityProjection()]


@PROPERTY
@given(tapes)
def test_orders_match_each_stream_folded_alone(events: list[Event]) -> None:
    projection = OrdersProjection()
    for event in events:
        projection.apply(event)

    expected: dict[str, Order] = {}
    refused = 0
    for event in events:
        cid = getattr(event, "client_order_id", None)
        if cid is None:
            continue
        order = expected.get(cid, Order(client_order_id=cid))
        try:
            expected[cid] = order.apply(event)
        except OrderStateError:
            refused += 1
    assert projection.orders == expected
    assert len(projection.anomalies) == refused
    assert {o.client_order_id for o in projection.open_orders()} == {
        cid for cid, o in expected.items() if o.status.is_open
    }
    assert sum(projection.counts().values()) == len(expected)


@PROPERTY
@given(
    st.one_of(tapes, trading_tapes), st.lists(st.integers(min_value=0, max_value=60), max_size=6)
)
def test_replay_in_any_batching_equals_the_live_fold(events: list[Event], cuts: list[int]) -> None:
    live = all_projections()
    for event in events:  # the live actor: one event at a time, every event offered
        for projection in live:
            projection.apply(event)
    live_states = {p.name: canonical_json(p.state()) for p in live}

    bounds = [0, *sorted(c % (len(events) + 1) for c in cuts), len(events)]
    batched = ProjectionBundle(all_projections())
    for lo, hi in pairwise(bounds):
        batched.fold(events[lo:hi])

    decoded = [
        decode_trusted(r.topic, r.originator_id, r.originator_version, r.state)
        for r in map(encode, events)
    ]
    replayed = ProjectionBundle(all_projections()).fold(
        e for e in decoded if type(e).__name__ in batched.topics
    )
    singles = {p.name: fold(p, decoded).digest() for p in all_projections()}

    for bundle in (batched, replayed):
        assert {n: canonical_json(s) for n, s in bundle.state().items()} == live_states
        assert bundle.digests() == {p.name: p.digest() for p in live}
        assert bundle.digests() == singles
    assert batched.digest() == replayed.digest()
    assert batched.state() == batched.state()


def independent_pnl(events: list[Event]) -> dict[tuple[str, str], Decimal]:
    """Cash-flow P&L per venue and instrument: -side*qty*price - fee, plus position * mark."""
    seen: set[tuple[str, str]] = set()
    cash: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    position: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    last_fill: dict[tuple[str, str], Decimal] = {}
    venue_mark: dict[tuple[str, str], Decimal] = {}
    any_mark: dict[str, Decimal] = {}
    for e in events:
        if isinstance(e, BarClosed):
            venue_mark[(e.venue, e.instrument)] = e.close
            any_mark[e.instrument] = e.close
        elif isinstance(e, OrderFilled) and (e.client_order_id, e.fill_id) not in seen:
            seen.add((e.client_order_id, e.fill_id))
            key = (e.venue, e.instrument)
            sign = 1 if e.side is Side.BUY else -1
            cash[key] += -sign * e.quantity * e.price - e.fee
            position[key] += sign * e.quantity
            last_fill[key] = e.price
    result = {}
    for key, flow in cash.items():
        mark = venue_mark.get(key, any_mark.get(key[1], last_fill[key]))
        result[key] = flow + position[key] * mark
    return result


@PROPERTY
@given(trading_tapes)
def test_realized_plus_unrealized_equals_cash_flows(events: list[Event]) -> None:
    positions = fold(PositionsProjection(), events)
    equity = fold(EquityProjection(starting_cash=1000), events)
    trades = fold(TradesProjection(), events)
    assert isinstance(positions, PositionsProjection)
    assert isinstance(equity, EquityProjection)
    assert isinstance(trades, TradesProjection)

    expected = independent_pnl(events)
    views = {(v.venue, v.instrument): v for v in positions.positions()}
    assert set(views) == set(expected)
    for key, flow in expected.items():
        assert abs(views[key].net_pnl - flow) <= TOLERANCE
    total = sum(expected.values(), Decimal(0))
    assert abs(positions.totals()["net_pnl"] - total) <= TOLERANCE
    assert abs(equity.current_equity() - 1000 - total) <= TOLERANCE

    # the trade log splits the same P&L and fees into round trips per strategy; the realised
    # part differs from the per-venue books when strategies net against each other
    all_trades = [*trades.closed, *trades.open.values()]
    gross = sum((t.gross_pnl for t in all_trades), Decimal(0))
    fees = sum((t.fees for t in all_trades), Decimal(0))
    unrealized = sum(
        (book.unrealized(positions.mark(v, i)) for (_, v, i), book in trades.books.items()),
        Decimal(0),
    )
    assert abs(fees - positions.totals()["fees"]) <= TOLERANCE
    assert abs(gross - fees + unrealized - total) <= TOLERANCE
