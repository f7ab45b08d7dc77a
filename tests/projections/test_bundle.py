"""The bundle routes each event to the projections whose topics name it."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from domain.events import Event
from domain.values import Side
from projections.base import FoldProjection, Handler, Projection, digest_of
from projections.bundle import ProjectionBundle, fold
from projections.equity import EquityProjection
from projections.orders import OrdersProjection
from projections.positions import PositionsProjection
from projections.trades import TradesProjection
from tests.projections.builders import Tape

BUY = Side.BUY


class Recorder:
    """A projection that only records what it was given."""

    name: ClassVar[str] = "recorder"
    topics: ClassVar[frozenset[str]] = frozenset({"BarClosed"})

    def __init__(self) -> None:
        self.seen: list[str] = []

    def apply(self, event: Event) -> None:
        self.seen.append(type(event).__name__)

    def state(self) -> dict[str, Any]:
        return {"seen": list(self.seen)}

    def digest(self) -> str:
        return digest_of(self.state())


def test_every_projection_satisfies_the_protocol() -> None:
    for projection in (
        OrdersProjection(),
        PositionsProjection(),
        TradesProjection(),
        EquityProjection(),
        Recorder(),
    ):
        assert isinstance(projection, Projection)
        assert projection.topics
        assert len(projection.digest()) == 64


def test_routes_only_wanted_topics_and_exposes_states_by_name() -> None:
    t = Tape()
    recorder = Recorder()
    bundle = ProjectionBundle([OrdersProjection(), PositionsProjection(), recorder])
    assert bundle.topics == OrdersProjection.topics | {"BarClosed"}
    bundle.fold(
        [
            t.submitted("a", BUY, "1"),
            t.filled("a", "f1", BUY, "1", "100"),
            t.bar("110", open_ts_ns=0),
        ]
    )
    assert recorder.seen == ["BarClosed"]
    state = bundle.state()
    assert list(state) == ["orders", "positions", "recorder"]
    assert state["positions"]["totals"]["unrealized_pnl"] == "10"
    assert state["orders"]["counts"]["filled"] == 1
    assert bundle.digests()["positions"] == bundle["positions"].digest()
    assert "orders" in bundle
    assert len(bundle.digest()) == 64


def test_fold_helper_skips_other_topics() -> None:
    t = Tape()
    recorder = fold(Recorder(), [t.submitted("a", BUY, "1"), t.bar("1", open_ts_ns=0)])
    assert isinstance(recorder, Recorder)
    assert recorder.seen == ["BarClosed"]


def test_duplicate_names_refused() -> None:
    with pytest.raises(ValueError, match="positions"):
        ProjectionBundle([PositionsProjection(), PositionsProjection()])


def test_fold_projection_subclass_ignores_unhandled_events() -> None:
    class Bars(FoldProjection):
        name: ClassVar[str] = "bars"
        topics: ClassVar[frozenset[str]] = frozenset({"BarClosed"})

        def __init__(self) -> None:
            self.count = 0
            super().__init__()

        def handlers(self) -> dict[type[Event], Handler]:
            from domain.events import BarClosed

            return {BarClosed: self.on_bar}

        def on_bar(self, event: Event) -> None:
            self.count += 1

        def state(self) -> dict[str, Any]:
            return {"count": self.count}

    t = Tape()
    bars = Bars()
    bars.apply(t.submitted("a", BUY, "1"))
    bars.fold([t.bar("1", open_ts_ns=0), t.bar("2", open_ts_ns=1)])
    assert bars.state() == {"count": 2}
