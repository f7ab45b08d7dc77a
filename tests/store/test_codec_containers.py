"""The trusted decoder gives the same values as the validating one, inside containers too."""

from __future__ import annotations

from decimal import Decimal

from domain.events import EventMeta
from domain.events.venue import ReconciliationCompleted
from store.codec import decode, decode_trusted, encode


def test_money_inside_a_mapping_comes_back_as_decimal() -> None:
    event = ReconciliationCompleted(
        **EventMeta(ts_ns=1, source="gateway.kraken").envelope("venue.kraken", 1),
        venue="kraken",
        trigger="start",
        orders_checked=0,
        corrections=0,
        fills_since_ns=0,
        balances={"USD": Decimal("100380.761"), "BTC": Decimal("0.5")},
    )
    stored = encode(event)
    checked = decode(stored.topic, "venue.kraken", 1, stored.state)
    trusted = decode_trusted(stored.topic, "venue.kraken", 1, stored.state)
    assert trusted == checked == event
    assert all(isinstance(v, Decimal) for v in trusted.balances.values())  # type: ignore[attr-defined]
