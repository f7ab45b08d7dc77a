"""Replaying a fold through its row routes (light field views) equals replaying whole events.

``Tape.replay(fold)`` hands handlers that only read fields a named tuple of those fields;
``Tape.replay(fold.apply)`` hands every projection whole decoded events. On any generated tape
(valid and invalid order lifecycles, repeated fills, bars) both rebuild the same state.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from domain.events import BarClosed, Event, OrderFilled
from projections.base import FoldProjection, canonical_json
from projections.bundle import ProjectionBundle
from projections.default import default_bundle
from projections.equity import EquityProjection
from projections.field_reads import fields_read
from projections.orders import OrdersProjection
from projections.positions import PositionsProjection
from projections.trades import TradesProjection
from store import open_tape
from tests.projections.generators import tapes, trading_tapes

PROPERTY = settings(max_examples=60, deadline=None)


def on_tape(events: list[Event]) -> list[Event]:
    """The events renumbered per stream in order, so a repeated event is a new fact."""
    versions: dict[str, int] = defaultdict(int)
    out = []
    for e in events:
        versions[e.stream] += 1
        out.append(e.model_copy(update={"version": versions[e.stream]}))
    return out


def folds() -> list[Any]:
    return [
        PositionsProjection(),
        TradesProjection(),
        OrdersProjection(),
        default_bundle(Decimal("1000")),
        ProjectionBundle([PositionsProjection(), TradesProjection()]),
    ]


def states_both_ways(url: str, events: list[Event]) -> tuple[list[Any], list[Any]]:
    with open_tape(url) as tape:
        tape.append(on_tape(events))
        light, whole = folds(), folds()
        for fold in light:
            tape.replay(fold, batch=7)
        for fold in whole:
            tape.replay(fold.apply, batch=7)
    return [canonical_json(f.state()) for f in light], [canonical_json(f.state()) for f in whole]


@PROPERTY
@given(tapes)
def test_row_routes_equal_whole_events_in_memory(events: list[Event]) -> None:
    light, whole = states_both_ways("memory://", events)
    assert light == whole


@PROPERTY
@given(trading_tapes)
def test_row_routes_equal_whole_events_on_sqlite(events: list[Event]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        light, whole = states_both_ways(f"sqlite:///{tmp}/tape.sqlite", events)
    assert light == whole


# which fields a handler reads ------------------------------------------------------------------


class Probe(FoldProjection):
    name = "probe"
    topics = frozenset({"BarClosed", "OrderFilled"})

    def __init__(self) -> None:
        self.seen: list[Any] = []
        super().__init__()

    def handlers(self) -> dict[type[Event], Any]:
        return {BarClosed: self.on_bar, OrderFilled: self.on_fill}

    def on_bar(self, event: BarClosed) -> None:
        self.seen.append((event.instrument, event.close, event.close))

    def on_fill(self, event: OrderFilled) -> None:
        self.seen.append(event)  # keeps the event itself

    def state(self) -> dict[str, Any]:
        return {}


def test_fields_read_names_what_a_handler_reads() -> None:
    probe = Probe()
    assert fields_read(probe.on_bar, BarClosed) == ("close", "instrument")
    positions = PositionsProjection()
    assert fields_read(positions.on_bar_closed, BarClosed) == ("close", "instrument", "venue")
    assert probe.row_route("BarClosed") == (("close", "instrument"), (probe.on_bar,))
    assert probe.row_route("OrderCanceled") == ((), ())  # no handler: nothing to decode


def passes_it_on(event: BarClosed) -> None:
    print(event)


def calls_a_method(event: BarClosed) -> None:
    event.model_dump()


def reads_a_property(event: BarClosed) -> None:
    _ = event.topic


def rebinds_it(event: BarClosed) -> None:
    event = event.model_copy()
    _ = event.close


def captures_it(event: BarClosed) -> Any:
    return lambda: event.close


@pytest.mark.parametrize(
    "handler", [passes_it_on, calls_a_method, reads_a_property, rebinds_it, captures_it]
)
def test_a_handler_using_the_event_otherwise_gets_whole_events(handler: Any) -> None:
    assert fields_read(handler, BarClosed) is None


def test_folds_that_need_whole_events_say_so() -> None:
    assert Probe().row_route("OrderFilled") is None  # it stores the event
    assert EquityProjection().row_route("BarClosed") is None  # passes it to its positions
    bundle = ProjectionBundle([PositionsProjection(), EquityProjection()])
    assert bundle.row_route("BarClosed") is None
    names, handlers = ProjectionBundle([PositionsProjection(), Probe()]).row_route("BarClosed")
    assert names == ("close", "instrument", "venue") and len(handlers) == 2


def test_the_probe_sees_the_same_through_either_route(tmp_path: Any) -> None:
    from tests.store.test_tape_contract import bar

    with open_tape(f"sqlite:///{tmp_path}/tape.sqlite") as tape:
        tape.append([bar(v, close=str(100 + v)) for v in range(1, 6)])
        light, whole = Probe(), Probe()
        assert tape.replay(light) == tape.replay(whole.apply) == 5
    assert light.seen == whole.seen
    assert light.seen[-1] == ("BTC-USDT", Decimal("105"), Decimal("105"))
