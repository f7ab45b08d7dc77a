"""Every event type on the tape. Importing this package registers them all by topic."""

from domain.events import venue as _venue  # noqa: F401  (registers the venue events)
from domain.events.base import Envelope, Event, EventMeta, derive_id, event_class, upcast, upcaster
from domain.events.market import BarClosed, bar_stream
from domain.events.orders import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
    OrderSubmitted,
    order_stream,
)
from domain.events.risk import (
    OrderIntentApproved,
    OrderIntentRejected,
    RiskConfigApplied,
    RiskLimitBreached,
    TradingStateChanged,
    decision_stream,
)
from domain.events.signals import SignalReceived, SignalRefused, signal_stream
from domain.events.system import (
    ALERTS_STREAM,
    SYSTEM_STREAM,
    ActorAdded,
    ActorQuarantined,
    ActorReconfigured,
    ActorRemoved,
    AlertFired,
    ConfigApplied,
    ProjectionRecorded,
    projection_stream,
)

__all__ = [
    "ALERTS_STREAM",
    "SYSTEM_STREAM",
    "ActorAdded",
    "ActorQuarantined",
    "ActorReconfigured",
    "ActorRemoved",
    "AlertFired",
    "BarClosed",
    "ConfigApplied",
    "Envelope",
    "Event",
    "EventMeta",
    "OrderAccepted",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    "OrderIntentApproved",
    "OrderIntentRejected",
    "OrderRejected",
    "OrderStatusUnknown",
    "OrderSubmitted",
    "ProjectionRecorded",
    "RiskConfigApplied",
    "RiskLimitBreached",
    "SignalReceived",
    "SignalRefused",
    "TradingStateChanged",
    "bar_stream",
    "decision_stream",
    "derive_id",
    "event_class",
    "order_stream",
    "projection_stream",
    "signal_stream",
    "upcast",
    "upcaster",
]
