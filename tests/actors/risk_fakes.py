"""An in-process stand-in for a venue gateway and a desk that records bars and signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from actors.tape_access import StreamWriter
from domain.events import (
    BarClosed,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderIntentApproved,
    OrderSubmitted,
    SignalReceived,
    bar_stream,
    order_stream,
    signal_stream,
)
from domain.signal import Intent, Signal, Size, SizeKind
from store import Tape


@dataclass
class FakeOrder:
    intent: OrderIntentApproved
    version: int
    open: bool = True
    fills: int = 0


@dataclass
class FakeGateway:
    """Records OrderSubmitted/Accepted on submit and OrderCanceled on cancel, like the real one;
    fills only when the test says so."""

    tape: Tape
    venue: str = "paper"
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    canceled: list[str] = field(default_factory=list)
    fail_next_submit: bool = False

    def __post_init__(self) -> None:
        self.writer = StreamWriter(self.tape, f"gateway.{self.venue}")

    def _append(self, coid: str, cls: type[Event], version: int, **fields: Any) -> None:
        meta = self.writer.meta()
        self.writer.append([cls(**meta.envelope(order_stream(coid), version), **fields)])

    async def submit(self, intent: OrderIntentApproved) -> str:
        if self.fail_next_submit:
            self.fail_next_submit = False
            raise ConnectionError("gateway unreachable")
        coid = intent.client_order_id
        if coid in self.orders:
            return "known"
        self._append(
            coid,
            OrderSubmitted,
            1,
            client_order_id=coid,
            intent_event_id=intent.event_id,
            strategy=intent.strategy,
            venue=self.venue,
            instrument=intent.instrument,
            side=intent.side,
            quantity=intent.quantity,
            order_type=intent.order_type,
            limit_price=intent.limit_price,
            stop_price=intent.stop_price,
            reduce_only=intent.reduce_only,
        )
        self._append(coid, OrderAccepted, 2, client_order_id=coid, venue_order_id=f"v{coid}")
        self.orders[coid] = FakeOrder(intent, 2)
        return "accepted"

    async def cancel(self, client_order_id: str, reason: str) -> str:
        order = self.orders.get(client_order_id)
        if order is None or not order.open:
            return "unknown" if order is None else "closed"
        order.version += 1
        order.open = False
        self._append(
            client_order_id,
            OrderCanceled,
            order.version,
            client_order_id=client_order_id,
            reason=reason,
        )
        self.canceled.append(client_order_id)
        return "canceled"

    def fill(self, coid: str, price: str, quantity: Decimal | None = None) -> None:
        order = self.orders[coid]
        order.version += 1
        order.fills += 1
        qty = order.intent.quantity if quantity is None else quantity
        self._append(
            coid,
            OrderFilled,
            order.version,
            client_order_id=coid,
            fill_id=f"f{order.fills}",
            strategy=order.intent.strategy,
            venue=self.venue,
            instrument=order.intent.instrument,
            side=order.intent.side,
            quantity=qty,
            price=Decimal(price),
            fee=Decimal(0),
            fill_ts_ns=0,
        )
        if qty >= order.intent.quantity:
            order.open = False

    def intents(self) -> list[OrderIntentApproved]:
        return [o.intent for o in self.orders.values()]


class Desk:
    """Records bars and signals on the tape, as market data and the ingress would."""

    def __init__(self, tape: Tape, instrument: str = "BTC-USDT") -> None:
        self.tape = tape
        self.instrument = instrument
        self.writer = StreamWriter(tape, "test")
        self.bars = 0

    def bar(self, close: str, *, high: str | None = None, low: str | None = None) -> None:
        self.bars += 1
        c = Decimal(close)
        stream = bar_stream("paper", self.instrument)
        meta = self.writer.meta()
        event = BarClosed(
            **meta.envelope(stream, self.writer.next_version(stream)),
            venue="paper",
            instrument=self.instrument,
            open_ts_ns=self.bars * 60_000_000_000,
            interval_s=60,
            open=c,
            high=Decimal(high) if high else c,
            low=Decimal(low) if low else c,
            close=c,
            volume=Decimal(1),
        )
        self.writer.append([event])

    def signal(
        self,
        intent: Intent = Intent.ENTER_LONG,
        *,
        price: str = "100",
        notional: str = "1000",
        **kwargs: Any,
    ) -> SignalReceived:
        stream = signal_stream("tv")
        signal = Signal(
            source="tv",
            instrument=self.instrument,
            intent=intent,
            ts_ns=0,
            price_hint=Decimal(price),
            size=Size(kind=SizeKind.NOTIONAL, value=Decimal(notional)),
            **kwargs,
        )
        meta = self.writer.meta()
        event = SignalReceived(
            **meta.envelope(stream, self.writer.next_version(stream)), signal=signal
        )
        self.writer.append([event])
        return event

    def events(self, cls: type[Event]) -> list[Any]:
        return [r.event for r in self.tape.iter_all() if isinstance(r.event, cls)]
