"""OpenTelemetry spans for every hop of a signal, derived from the tape.

Each event names its cause (``causation_id``) and carries its signal's trace context
(``traceparent``); the time between a cause and its consequence is a hop (ingress, risk,
routing and gateway, venue, fill). Following the tape and turning those pairs into spans with
their real start and end times gives one trace per signal across every actor, with nothing
added to the trading path, and works the same on a replay of history.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from domain.events import Event, SignalReceived
from telemetry.trace_context import parse

HOPS: dict[tuple[str, str], str] = {
    ("SignalReceived", "OrderIntentApproved"): "risk",
    ("SignalReceived", "OrderIntentRejected"): "risk",
    ("OrderIntentApproved", "OrderSubmitted"): "route+gateway",
    ("OrderSubmitted", "OrderAccepted"): "venue",
    ("OrderSubmitted", "OrderRejected"): "venue",
    ("OrderSubmitted", "OrderStatusUnknown"): "venue",
    ("OrderSubmitted", "OrderFilled"): "fill",
    ("OrderAccepted", "OrderFilled"): "fill",
}
"""Span name for each (cause, consequence) pair; other pairs are named ``cause->event``."""


def hop_name(cause_topic: str, topic: str) -> str:
    return HOPS.get((cause_topic, topic), f"{cause_topic}->{topic}")


def build_exporter(kind: str, endpoint: str | None = None) -> SpanExporter | None:
    """``none`` | ``console`` | ``otlp`` (HTTP/protobuf to ``endpoint``)."""
    if kind == "none":
        return None
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    raise ValueError(f"unknown tracing exporter {kind!r}: use none, console or otlp")


class TapeTracer:
    """Turns followed events into spans. ``on_event`` is cheap for events outside a trace."""

    def __init__(self, exporter: SpanExporter, service: str = "tapeline", memory: int = 50_000):
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.provider.get_tracer("tapeline.tape")
        self.memory = memory
        # event id -> (topic, ts_ns, span context of the span that ended at that event)
        self._recent: OrderedDict[Any, tuple[str, int, SpanContext]] = OrderedDict()

    def on_event(self, event: Event) -> None:
        parsed = parse(event.traceparent)
        if parsed is None:
            return
        trace_id, parent_span_id, flags = parsed
        cause = self._recent.get(event.causation_id) if event.causation_id else None
        if cause is not None:
            cause_topic, start_ns, parent = cause
            name = hop_name(cause_topic, event.topic)
        elif isinstance(event, SignalReceived):
            parent = SpanContext(
                trace_id, parent_span_id, is_remote=True, trace_flags=TraceFlags(flags)
            )
            start_ns = min(event.signal.ts_ns or event.ts_ns, event.ts_ns)
            name = "ingress"
        else:
            return
        ctx = trace.set_span_in_context(NonRecordingSpan(parent))
        span = self.tracer.start_span(
            name,
            context=ctx,
            start_time=start_ns,
            attributes={
                "tapeline.event": event.topic,
                "tapeline.stream": event.stream,
                "tapeline.source": event.source,
                "tapeline.correlation_id": event.correlation_id or "",
                "tapeline.hop_ms": (event.ts_ns - start_ns) / 1e6,
            },
        )
        span.end(end_time=max(event.ts_ns, start_ns))
        self._remember(event, span.get_span_context())

    def _remember(self, event: Event, ctx: SpanContext) -> None:
        self._recent[event.event_id] = (event.topic, event.ts_ns, ctx)
        if len(self._recent) > self.memory:
            self._recent.popitem(last=False)

    def flush(self) -> None:
        self.provider.force_flush()

    def shutdown(self) -> None:
        self.provider.shutdown()
