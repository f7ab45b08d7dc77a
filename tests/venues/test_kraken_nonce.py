"""Kraken refuses a nonce not above the key's last one, before doing anything with the request.
Another client on the same key (a process being replaced, its last request still on the wire)
can get a later nonce in first: the adapter signs again and the order lands exactly once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from venues.base import OrderRefused, OrderRequest
from venues.fakes import FakeVenueHandle, start_fake
from venues.kraken.adapter import NONCE_RETRIES, KrakenAdapter

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeVenueHandle]:
    with start_fake("kraken") as handle:
        yield handle


@pytest.fixture
async def adapter(fake: FakeVenueHandle) -> AsyncIterator[KrakenAdapter]:
    venue = KrakenAdapter(fake.api_key, fake.secret, base_url=fake.base_url, timeout_s=5.0)
    await venue.instruments()
    yield venue
    await venue.close()


def order(cid: str) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid, instrument="BTC-USD", side="buy", quantity=Decimal("0.01")
    )


def key_of(fake: FakeVenueHandle) -> object:
    return fake.fake.keys[fake.api_key]  # type: ignore[attr-defined]


async def test_an_order_overtaken_by_a_later_nonce_is_signed_again(
    fake: FakeVenueHandle, adapter: KrakenAdapter
) -> None:
    key = key_of(fake)
    key.last_nonce = time.time_ns() // 1000 + 5_000  # type: ignore[attr-defined]
    placed = await adapter.place(order("n-1"))
    assert placed.client_order_id == "n-1"
    assert len(fake.engine.orders) == 1


async def test_a_nonce_far_ahead_is_refused_without_an_order(
    fake: FakeVenueHandle, adapter: KrakenAdapter
) -> None:
    key = key_of(fake)
    key.last_nonce = time.time_ns() // 1000 + 3_600_000_000  # another client an hour ahead
    with pytest.raises(OrderRefused) as refused:
        await adapter.place(order("n-2"))
    assert refused.value.code == "EAPI:Invalid nonce"
    assert len(fake.engine.orders) == 0
    assert NONCE_RETRIES > 1
