"""Hypothesis strategies for tapes of order and bar events, valid and invalid alike.

Operations are drawn over a few order ids, strategies, venues and instruments so streams collide
often: fills on unknown orders, fills that mismatch or overfill, repeated fills (the very same
event, and a new event reusing a fill id), cancels after fills, bars on either venue.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from domain.events import Event
from domain.values import Side
from tests.projections.builders import SEC, Tape

ORDER_IDS = ("a", "b", "c", "d")
INSTRUMENTS = ("BTC-USDT", "ETH-USDT")
VENUES = ("paper", "other")
STRATEGIES = ("s1", "s2")
QTYS = ("0.5", "1", "2", "3", "0.3")
PRICES = st.integers(min_value=1, max_value=400).map(lambda n: str(n / 4))
FEES = st.sampled_from(("0", "0.1", "0.25", "-0.05"))
SIDES = st.sampled_from((Side.BUY, Side.SELL))


def _order_op() -> st.SearchStrategy[tuple[Any, ...]]:
    cid = st.sampled_from(ORDER_IDS)
    return st.one_of(
        st.tuples(
            st.just("submit"),
            cid,
            SIDES,
            st.sampled_from(QTYS),
            st.sampled_from(INSTRUMENTS),
            st.sampled_from(VENUES),
            st.sampled_from(STRATEGIES),
        ),
        st.tuples(st.sampled_from(("accept", "reject", "cancel", "expire", "unknown")), cid),
        st.tuples(
            st.just("fill"),
            cid,
            st.sampled_from(("f1", "f2", "f3")),
            st.booleans(),  # True: the order's own side and instrument when known
            SIDES,
            st.sampled_from(QTYS),
            PRICES,
            FEES,
        ),
        st.tuples(st.just("repeat"), st.integers(min_value=0, max_value=1000)),
        st.tuples(
            st.just("bar"),
            st.sampled_from(VENUES),
            st.sampled_from(INSTRUMENTS),
            PRICES,
            st.integers(min_value=0, max_value=2),
        ),
    )


def build(ops: list[tuple[Any, ...]]) -> list[Event]:
    """Turn drawn operations into events, with consistent per-stream versions."""
    tape = Tape()
    events: list[Event] = []
    submitted: dict[str, tuple[Side, str, str, str]] = {}
    clock = 0
    for op in ops:
        kind = op[0]
        if kind == "submit":
            _, cid, side, qty, instrument, venue, strategy = op
            submitted.setdefault(cid, (side, instrument, venue, strategy))
            events.append(
                tape.submitted(
                    cid, side, qty, instrument=instrument, venue=venue, strategy=strategy
                )
            )
        elif kind == "fill":
            _, cid, fill_id, matching, side, qty, price, fee = op
            instrument, venue, strategy = INSTRUMENTS[0], VENUES[0], STRATEGIES[0]
            if matching and cid in submitted:
                side, instrument, venue, strategy = submitted[cid]
            events.append(
                tape.filled(
                    cid,
                    fill_id,
                    side,
                    qty,
                    price,
                    fee=fee,
                    instrument=instrument,
                    venue=venue,
                    strategy=strategy,
                )
            )
        elif kind == "raw_fill":
            _, cid, fill_id, side, qty, price, fee, instrument, venue, strategy = op
            events.append(
                tape.filled(
                    cid,
                    fill_id,
                    side,
                    qty,
                    price,
                    fee=fee,
                    instrument=instrument,
                    venue=venue,
                    strategy=strategy,
                )
            )
        elif kind == "repeat":
            if events:
                events.append(events[op[1] % len(events)])
        elif kind == "bar":
            _, venue, instrument, price, step = op
            clock += step
            events.append(
                tape.bar(price, open_ts_ns=clock * 60 * SEC, venue=venue, instrument=instrument)
            )
        else:
            make = {
                "accept": tape.accepted,
                "reject": tape.rejected,
                "cancel": tape.canceled,
                "expire": tape.expired,
                "unknown": tape.unknown,
            }[kind]
            events.append(make(op[1]))
    return events


def _trading_op() -> st.SearchStrategy[tuple[Any, ...]]:
    """Mostly fills (any order, side, instrument, venue, strategy), some bars and repeats."""
    fill = st.tuples(
        st.just("raw_fill"),
        st.sampled_from(ORDER_IDS),
        st.sampled_from(("f1", "f2", "f3", "f4")),
        SIDES,
        st.sampled_from(QTYS),
        PRICES,
        FEES,
        st.sampled_from((*INSTRUMENTS, INSTRUMENTS[0])),
        st.sampled_from((*VENUES, VENUES[0])),
        st.sampled_from((*STRATEGIES, STRATEGIES[0])),
    )
    bar = st.tuples(
        st.just("bar"),
        st.sampled_from(VENUES),
        st.sampled_from(INSTRUMENTS),
        PRICES,
        st.integers(min_value=0, max_value=2),
    )
    repeat = st.tuples(st.just("repeat"), st.integers(min_value=0, max_value=1000))
    return st.one_of(fill, fill, fill, bar, repeat)


tapes: st.SearchStrategy[list[Event]] = st.lists(_order_op(), min_size=5, max_size=80).map(build)
"""Order lifecycles, valid and invalid, with bars."""

trading_tapes: st.SearchStrategy[list[Event]] = st.lists(
    _trading_op(), min_size=10, max_size=80
).map(build)
"""Fills from many orders and strategies (the P&L does not depend on order states) and bars."""
