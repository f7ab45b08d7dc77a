"""The HTTP webhook ingress: TradingView and other senders POST alerts, we answer fast.

``create_app(settings, sink)`` builds the ASGI app; the caller supplies the sink that makes
each outcome durable (the event store, in the ingress actor).
"""

from ingress.app import create_app
from ingress.outcomes import AcceptedSignal, Outcome, RefusedRequest, SignalSink
from ingress.settings import IngressSettings

__all__ = [
    "AcceptedSignal",
    "IngressSettings",
    "Outcome",
    "RefusedRequest",
    "SignalSink",
    "create_app",
]
