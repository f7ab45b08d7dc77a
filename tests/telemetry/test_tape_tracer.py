"""Spans derived from the tape: one trace per signal, one span per hop, real durations."""

from __future__ import annotations

import uuid
from decimal import Decimal

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from domain.events import (
    EventMeta,
    OrderAccepted,
    OrderIntentApproved,
    OrderSubmitted,
    SignalReceived,
    derive_id,
)
from domain.signal import Intent, Signal
from domain.values import OrderType, Side
from projections.monitor import MonitorProjection
from telemetry.tape_tracer import TapeTracer
from telemetry.trace_context import parse, start_trace

MS = 1_000_000


def chain() -> list:
    sig_id = uuid.uuid4()
    tp = start_trace(sig_id)
    signal = SignalReceived(
        event_id=sig_id,
        stream="signals.tv",
        version=1,
        ts_ns=10 * MS,
        source="ingress",
        correlation_id=str(sig_id),
        traceparent=tp,
        signal=Signal(source="tv", instrument="BTC-USDT", intent=Intent.ENTER_LONG, ts_ns=9 * MS),
    )
    base = EventMeta(ts_ns=0, source="x")
    approval = OrderIntentApproved(
        **base.caused_by(signal, ts_ns=12 * MS, source="risk.main").envelope("risk.main", 1),
        signal_event_id=sig_id,
        strategy="tv",
        client_order_id="c1",
        instrument="BTC-USDT",
        side=Side.BUY,
        quantity=Decimal("0.1"),
        order_type=OrderType.MARKET,
    )
    submitted = OrderSubmitted(
        **base.caused_by(approval, ts_ns=13 * MS, source="gateway.paper").envelope("order.c1", 1),
        client_order_id="c1",
        intent_event_id=approval.event_id,
        strategy="tv",
        venue="paper",
        instrument="BTC-USDT",
        side=Side.BUY,
        quantity=Decimal("0.1"),
        order_type=OrderType.MARKET,
    )
    accepted = OrderAccepted(
        **base.caused_by(submitted, ts_ns=16 * MS, source="gateway.paper").envelope("order.c1", 2),
        client_order_id="c1",
        venue_order_id="v1",
    )
    return [signal, approval, submitted, accepted]


def test_one_trace_with_a_span_per_hop() -> None:
    exporter = InMemorySpanExporter()
    tracer = TapeTracer(exporter)
    events = chain()
    for e in events:
        tracer.on_event(e)
    tracer.flush()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"ingress", "risk", "route+gateway", "venue"}
    trace_ids = {s.context.trace_id for s in spans.values()}
    assert trace_ids == {parse(events[0].traceparent)[0]}
    assert spans["risk"].parent.span_id == spans["ingress"].context.span_id
    assert spans["venue"].parent.span_id == spans["route+gateway"].context.span_id
    assert (spans["risk"].end_time - spans["risk"].start_time) == 2 * MS
    assert (spans["venue"].end_time - spans["venue"].start_time) == 3 * MS
    assert spans["ingress"].start_time == 9 * MS


def test_events_without_trace_context_are_ignored() -> None:
    exporter = InMemorySpanExporter()
    tracer = TapeTracer(exporter)
    event = chain()[1].model_copy(update={"traceparent": None})
    tracer.on_event(event)
    tracer.flush()
    assert exporter.get_finished_spans() == ()


def test_sender_trace_is_continued() -> None:
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tp = start_trace(derive_id("x"), incoming)
    assert parse(tp)[0] == int("4bf92f3577b34da6a3ce929d0e0e4736", 16)
    assert parse("garbage") is None and parse(None) is None


def test_monitor_counts_and_latencies() -> None:
    monitor = MonitorProjection()
    for e in chain():
        monitor.apply(e)
    assert monitor.counts[("signals", "tv", "accepted")] == 1
    assert monitor.counts[("orders", "paper", "accepted")] == 1
    hops = dict(monitor.take_latencies())
    assert hops["SignalReceived->OrderIntentApproved"] == 2.0
    assert hops["OrderSubmitted->OrderAccepted"] == 3.0
    assert monitor.take_latencies() == []


def test_monitor_counts_what_reconciliation_found() -> None:
    from domain.events.venue import BalanceDiscrepancy, PositionDiscrepancy

    meta = EventMeta(ts_ns=20 * MS, source="gateway.binance")
    found = [
        BalanceDiscrepancy(
            **meta.envelope("venue.binance", 1),
            venue="binance",
            asset="USDT",
            previous=Decimal(100),
            expected=Decimal(100),
            observed=Decimal(150),
            difference=Decimal(50),
            since_ns=0,
            until_ns=20 * MS,
        ),
        PositionDiscrepancy(
            **meta.envelope("venue.binance", 2),
            venue="binance",
            instrument="BTC-USDT",
            tape_quantity=Decimal(0),
            venue_quantity=Decimal(1),
        ),
    ]
    monitor = MonitorProjection()
    for e in found:
        monitor.apply(e)
    assert monitor.counts[("reconciliation", "binance", "BalanceDiscrepancy")] == 1
    assert monitor.counts[("reconciliation", "binance", "PositionDiscrepancy")] == 1
