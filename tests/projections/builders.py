"""Small builders for the events projection tests fold: envelope via ``EventMeta`` plus payload."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from domain.events import (
    BarClosed,
    EventMeta,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    bar_stream,
    order_stream,
)
from domain.values import OrderType, Side

INTENT = uuid.UUID(int=7)
SEC = 1_000_000_000


class Tape:
    """Hands out per-stream versions and increasing record times, like the real tape would."""

    def __init__(self, start_ns: int = 1_700_000_000 * SEC) -> None:
        self.ts_ns = start_ns
        self.versions: dict[str, int] = defaultdict(int)

    def envelope(self, stream: str) -> dict[str, object]:
        self.ts_ns += 1
        self.versions[stream] += 1
        return EventMeta(ts_ns=self.ts_ns, source="test").envelope(stream, self.versions[stream])

    def submitted(
        self,
        cid: str,
        side: Side,
        qty: str,
        *,
        instrument: str = "BTC-USDT",
        venue: str = "paper",
        strategy: str = "s1",
        limit: str | None = None,
    ) -> OrderSubmitted:
        return OrderSubmitted(
            **self.envelope(order_stream(cid)),
            client_order_id=cid,
            intent_event_id=INTENT,
            strategy=strategy,
            venue=venue,
            instrument=instrument,
            side=side,
            quantity=Decimal(qty),
            order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
            limit_price=None if limit is None else Decimal(limit),
        )

    def accepted(self, cid: str) -> OrderAccepted:
        return OrderAccepted(
            **self.envelope(order_stream(cid)), client_order_id=cid, venue_order_id=f"v-{cid}"
        )

    def rejected(self, cid: str, reason: str = "no") -> OrderRejected:
        return OrderRejected(**self.envelope(order_stream(cid)), client_order_id=cid, reason=reason)

    def canceled(self, cid: str) -> OrderCanceled:
        return OrderCanceled(**self.envelope(order_stream(cid)), client_order_id=cid)

    def expired(self, cid: str) -> OrderExpired:
        return OrderExpired(**self.envelope(order_stream(cid)), client_order_id=cid)

    def unknown(self, cid: str) -> OrderStatusUnknown:
        return OrderStatusUnknown(
            **self.envelope(order_stream(cid)), client_order_id=cid, reason="timeout"
        )

    def filled(
        self,
        cid: str,
        fill_id: str,
        side: Side,
        qty: str,
        price: str,
        *,
        fee: str = "0",
        instrument: str = "BTC-USDT",
        venue: str = "paper",
        strategy: str = "s1",
        fill_ts_ns: int | None = None,
    ) -> OrderFilled:
        env = self.envelope(order_stream(cid))
        return OrderFilled(
            **env,
            client_order_id=cid,
            fill_id=fill_id,
            strategy=strategy,
            venue=venue,
            instrument=instrument,
            side=side,
            quantity=Decimal(qty),
            price=Decimal(price),
            fee=Decimal(fee),
            fill_ts_ns=env["ts_ns"] if fill_ts_ns is None else fill_ts_ns,
        )

    def bar(
        self,
        close: str,
        *,
        open_ts_ns: int,
        instrument: str = "BTC-USDT",
        venue: str = "paper",
        interval_s: int = 60,
    ) -> BarClosed:
        price = Decimal(close)
        return BarClosed(
            **self.envelope(bar_stream(venue, instrument)),
            venue=venue,
            instrument=instrument,
            open_ts_ns=open_ts_ns,
            interval_s=interval_s,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=Decimal(10),
        )
