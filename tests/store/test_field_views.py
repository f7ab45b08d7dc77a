"""Light field views of stored rows read exactly as the whole decoded events do."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from domain.events import EventMeta
from store.codec import decode_trusted, encode, fields_decoder
from tests.store.test_tape_contract import bar
from tests.store.test_upcasting import MarkNoted

ROW_NAMES = ("stream", "version", "close", "volume", "instrument", "event_id", "traceparent")


def test_a_view_holds_the_fields_of_the_decoded_event() -> None:
    event = bar(3, close="101.125")
    row = encode(event)
    view = fields_decoder("BarClosed", ROW_NAMES)(row.originator_id, 3, row.state)
    full = decode_trusted("BarClosed", row.originator_id, 3, row.state)
    assert full == event
    for name in ROW_NAMES:
        assert getattr(view, name) == getattr(full, name)
        assert type(getattr(view, name)) is type(getattr(full, name))
    assert view.close == Decimal("101.125") and view.traceparent is None


def test_a_row_in_an_older_shape_is_decoded_whole_and_upcast() -> None:
    old = {
        "event_id": "2b8e9a35-64a4-4f5d-9bd5-7a5a0e2d0c11",
        "ts_ns": 7,
        "source": "legacy",
        "schema_version": 1,
        "instrument": "BTC-USDT",
        "px": 101.25,
    }
    view = fields_decoder("MarkNoted", ("price", "venue"))("marks", 1, orjson.dumps(old))
    assert isinstance(view, MarkNoted)
    assert (view.price, view.venue) == (Decimal("101.25"), "paper")
    current = MarkNoted(
        **EventMeta(ts_ns=1, source="t").envelope("marks", 2),
        instrument="BTC-USDT",
        price=Decimal("7.5"),
        venue="kraken",
    )
    view = fields_decoder("MarkNoted", ("price", "venue"))("marks", 2, encode(current).state)
    assert not isinstance(view, MarkNoted)
    assert (view.price, view.venue) == (Decimal("7.5"), "kraken")


def test_a_name_that_is_no_field_is_refused() -> None:
    with pytest.raises(ValueError, match="no field"):
        fields_decoder("BarClosed", ("close", "topic"))
