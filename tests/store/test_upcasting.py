"""An event written in an older shape is read back in the current one through its upcaster."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import orjson
from eventsourcing.persistence import StoredEvent

from domain.events import Event, EventMeta, upcaster
from store import open_tape


class MarkNoted(Event):
    """v1 had ``px`` (a float) and no ``venue``; v2 has ``price`` (Decimal) and ``venue``."""

    SCHEMA_VERSION: ClassVar[int] = 2
    instrument: str
    price: Decimal
    venue: str


@upcaster("MarkNoted", from_version=1)
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data["price"] = repr(data.pop("px"))
    data.setdefault("venue", "paper")
    return data


def test_v1_event_reads_as_v2(tmp_path) -> None:
    tape = open_tape(f"sqlite:///{tmp_path}/tape.sqlite")
    old_state = {
        "event_id": "2b8e9a35-64a4-4f5d-9bd5-7a5a0e2d0c11",
        "ts_ns": 7,
        "source": "legacy",
        "schema_version": 1,
        "instrument": "BTC-USDT",
        "px": 101.25,
    }
    tape._recorder.insert_events([StoredEvent("marks", 1, "MarkNoted", orjson.dumps(old_state))])
    for trusted in (True, False):
        (rec,) = tape.read(0, 10, trusted=trusted)
        assert isinstance(rec.event, MarkNoted)
        assert rec.event.price == Decimal("101.25")
        assert rec.event.venue == "paper"
        assert rec.event.schema_version == 2
    assert tape.read_stream("marks")[0].price == Decimal("101.25")


def test_new_events_carry_current_schema_version() -> None:
    e = MarkNoted(
        **EventMeta(ts_ns=1, source="t").envelope("marks", 1),
        instrument="BTC-USDT",
        price=Decimal(1),
        venue="paper",
    )
    assert e.schema_version == 2
