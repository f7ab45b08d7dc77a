"""W3C trace context (``traceparent``) as carried inside events.

A signal starts a trace: its trace id is the signal event's id (or the sender's own trace id
when an HTTP request brought a ``traceparent`` header), so every later event of that signal,
which copies the traceparent of its cause, belongs to the same trace.
"""

from __future__ import annotations

import re
import uuid

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def parse(traceparent: str | None) -> tuple[int, int, int] | None:
    """``(trace_id, span_id, flags)`` of a valid traceparent, else None."""
    if not traceparent:
        return None
    m = _TRACEPARENT.match(traceparent.strip().lower())
    if not m:
        return None
    trace_id, span_id = int(m.group(1), 16), int(m.group(2), 16)
    if trace_id == 0 or span_id == 0:
        return None
    return trace_id, span_id, int(m.group(3), 16)


def format_traceparent(trace_id: int, span_id: int, sampled: bool = True) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-{'01' if sampled else '00'}"


def span_id_for(event_id: uuid.UUID) -> int:
    """A span id derived from an event id (64 bits, never zero)."""
    return (event_id.int & ((1 << 64) - 1)) or 1


def start_trace(event_id: uuid.UUID, incoming: str | None = None) -> str:
    """The traceparent for the first event of a signal: continue the sender's trace when it sent
    a valid one, else start a trace whose id is the event id."""
    parsed = parse(incoming)
    trace_id = parsed[0] if parsed else event_id.int
    return format_traceparent(trace_id, span_id_for(event_id))
