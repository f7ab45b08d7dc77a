"""``StreamWriter.meta(cause)`` builds what ``EventMeta.caused_by`` gives, in one go."""

from __future__ import annotations

from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from actors import tape_access
from actors.tape_access import StreamWriter
from domain.events.base import EventMeta
from store import open_tape
from tests.actors.risk_fakes import Desk

ids = st.one_of(st.none(), st.uuids().map(str))
parents = st.one_of(st.none(), st.just("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))


@given(cause_correlation=ids, cause_trace=parents, own_correlation=ids, own_trace=parents)
def test_meta_with_a_cause_is_caused_by(
    cause_correlation: str | None,
    cause_trace: str | None,
    own_correlation: str | None,
    own_trace: str | None,
) -> None:
    tape = open_tape("memory://")
    desk = Desk(tape)
    desk.bar("100")
    cause = desk.signal().model_copy(
        update={
            "event_id": uuid4(),
            "correlation_id": cause_correlation,
            "traceparent": cause_trace,
        }
    )
    writer = StreamWriter(tape, "risk.main")
    fields = {"correlation_id": own_correlation, "traceparent": own_trace}
    real = tape_access.now_ns
    tape_access.now_ns = lambda: 42
    try:
        got = writer.meta(cause, **fields)
    finally:
        tape_access.now_ns = real
    expected = EventMeta(ts_ns=42, source="risk.main", **fields).caused_by(cause)
    assert got == expected
