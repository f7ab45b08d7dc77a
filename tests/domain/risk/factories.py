"""Small builders for risk tests: signals, fills, bars and a decide() driver that records events."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.events import (
    BarClosed,
    Event,
    EventMeta,
    OrderCanceled,
    OrderFilled,
    OrderIntentApproved,
    OrderIntentRejected,
    SignalReceived,
    derive_id,
)
from domain.risk.config import RiskConfig
from domain.risk.engine import decide
from domain.risk.view import RiskView
from domain.signal import Intent, Signal, Size, SizeKind

T0 = 1_700_000_000 * 1_000_000_000
"""2023-11-14T22:13:20Z."""
NS = 1_000_000_000
INSTRUMENT = "BTC-USDT"


def D(value: object) -> Decimal:
    return Decimal(str(value))


def signal_event(
    intent: Intent = Intent.ENTER_LONG,
    *,
    instrument: str = INSTRUMENT,
    price: object | None = "100",
    ts_ns: int = T0,
    n: int = 0,
    quantity: object | None = None,
    notional: object | None = None,
    **kwargs: Any,
) -> SignalReceived:
    if quantity is not None:
        kwargs["size"] = Size(kind=SizeKind.QUANTITY, value=D(quantity))
    elif notional is not None:
        kwargs["size"] = Size(kind=SizeKind.NOTIONAL, value=D(notional))
    signal = Signal(
        source=kwargs.pop("source", "tv"),
        instrument=instrument,
        intent=intent,
        ts_ns=ts_ns,
        price_hint=None if price is None else D(price),
        **kwargs,
    )
    return SignalReceived(
        event_id=derive_id("signal", n, ts_ns),
        stream="signals.tv",
        version=n + 1,
        ts_ns=ts_ns,
        source="ingress",
        signal=signal,
    )


def fill(
    approval: OrderIntentApproved,
    *,
    quantity: object | None = None,
    price: object | None = None,
    fee: object = "0",
    ts_ns: int | None = None,
    fill_id: str = "f1",
) -> OrderFilled:
    ts = approval.ts_ns if ts_ns is None else ts_ns
    return OrderFilled(
        event_id=derive_id("fill", approval.client_order_id, fill_id),
        stream=f"order.{approval.client_order_id}",
        version=2,
        ts_ns=ts,
        source="gateway",
        client_order_id=approval.client_order_id,
        fill_id=fill_id,
        strategy=approval.strategy,
        venue="paper",
        instrument=approval.instrument,
        side=approval.side,
        quantity=approval.quantity if quantity is None else D(quantity),
        price=approval.reference_price if price is None else D(price),
        fee=D(fee),
        fill_ts_ns=ts,
    )


def cancel(approval: OrderIntentApproved, ts_ns: int | None = None) -> OrderCanceled:
    return OrderCanceled(
        event_id=derive_id("cancel", approval.client_order_id),
        stream=f"order.{approval.client_order_id}",
        version=3,
        ts_ns=approval.ts_ns if ts_ns is None else ts_ns,
        source="gateway",
        client_order_id=approval.client_order_id,
    )


def bar(
    close: object,
    *,
    instrument: str = INSTRUMENT,
    ts_ns: int = T0,
    high: object | None = None,
    low: object | None = None,
    n: int = 0,
) -> BarClosed:
    c = D(close)
    return BarClosed(
        event_id=derive_id("bar", instrument, ts_ns, n),
        stream=f"bars.paper.{instrument}",
        version=n + 1,
        ts_ns=ts_ns,
        source="md",
        venue="paper",
        instrument=instrument,
        open_ts_ns=ts_ns,
        interval_s=60,
        open=c,
        high=c if high is None else D(high),
        low=c if low is None else D(low),
        close=c,
        volume=D(1),
    )


@dataclass
class Desk:
    """Drives decide() like the actor would: decisions go on the tape and into the view."""

    config: RiskConfig = field(default_factory=RiskConfig)
    view: RiskView = field(default_factory=RiskView)
    tape: list[Event] = field(default_factory=list)
    version: int = 0
    ts_ns: int = T0

    def record(self, event: Event) -> Event:
        self.tape.append(event)
        self.view.apply(event)
        return event

    def meta(self, ts_ns: int | None = None) -> EventMeta:
        return EventMeta(ts_ns=self.ts_ns if ts_ns is None else ts_ns, source="risk")

    def signal(
        self, intent: Intent = Intent.ENTER_LONG, **kwargs: Any
    ) -> OrderIntentApproved | OrderIntentRejected:
        self.version += 1
        ts = kwargs.pop("ts_ns", self.ts_ns)
        se = signal_event(intent, n=self.version, ts_ns=ts, **kwargs)
        meta = EventMeta(ts_ns=ts, source="risk", causation_id=se.event_id)
        event = decide(se, self.view, self.config, meta, "risk.main", self.version)
        self.record(event)
        return event

    def approved(self, intent: Intent = Intent.ENTER_LONG, **kwargs: Any) -> OrderIntentApproved:
        event = self.signal(intent, **kwargs)
        assert isinstance(event, OrderIntentApproved), event
        return event

    def rejected(self, intent: Intent = Intent.ENTER_LONG, **kwargs: Any) -> OrderIntentRejected:
        event = self.signal(intent, **kwargs)
        assert isinstance(event, OrderIntentRejected), event
        return event
