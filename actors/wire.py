"""Events handed between actors as the tape's own rows: ``(topic, stream, version, state)``.

Ray pickles a pydantic event field by field (tens of microseconds per event, more on a cold
core); the row form is a few plain values that Ray serialises natively, and the receiver rebuilds
the event with the tape's trusted decoder, as it would reading it back from the tape. Only for
events built and validated by this system's own actors, like the rows on the tape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from domain.events import Event
from store.codec import decode_trusted, encode

Packed = tuple[str, str, int, bytes]
E = TypeVar("E", bound=Event)


def pack(events: Sequence[Event]) -> list[Packed]:
    out: list[Packed] = []
    for event in events:
        row = encode(event)
        out.append((row.topic, row.originator_id, row.originator_version, row.state))
    return out


def unpack(rows: Sequence[Packed], kind: type[E]) -> list[E]:
    """The events ``pack`` packed; a row of another kind is a ``TypeError``."""
    out: list[E] = []
    for topic, stream, version, state in rows:
        event = decode_trusted(topic, str(stream), int(version), bytes(state))
        if not isinstance(event, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(event).__name__}")
        out.append(event)
    return out
