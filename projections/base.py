"""The contract every read model follows, so one fold serves the live actor and a replay.

A projection is a mutable fold: ``apply`` takes one event (the replay hot path, so it must be
cheap), ``state`` returns a JSON-safe, deterministic summary, and ``digest`` hashes that summary
so a live projection and its replay can be compared by one string. ``topics`` names the event
topics the projection reads, so a reader can skip the rest before decoding them.

A fold may also offer ``row_route(topic)``: the fields of that topic's events it reads and the
handlers to call with an object holding just them. ``Tape.replay(fold)`` then skips building
whole events for those topics; ``None`` asks for whole events through ``apply``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from domain.events import Event
from domain.events.base import event_class
from projections.field_reads import fields_read

Handler = Callable[[Any], None]
RowRoute = tuple[tuple[str, ...], tuple[Handler, ...]]


@runtime_checkable
class Projection(Protocol):
    """A pure fold over tape events into a read model."""

    name: ClassVar[str]
    topics: ClassVar[frozenset[str]]

    def apply(self, event: Event) -> None: ...

    def state(self) -> dict[str, Any]: ...

    def digest(self) -> str: ...


def dec(value: Decimal) -> str:
    """A Decimal as a canonical string: no exponent, no trailing zeros, no negative zero."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


def dec_or_none(value: Decimal | None) -> str | None:
    return None if value is None else dec(value)


def canonical_json(state: Any) -> bytes:
    """The one serialisation that digests are taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        state, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest_of(state: Any) -> str:
    return hashlib.sha256(canonical_json(state)).hexdigest()


class FoldProjection:
    """Base for projections: dispatches on the event's exact type through a dict of handlers.

    Subclasses fill ``handlers()`` with ``{EventClass: bound_method}``; events of any other type
    cost one dict lookup. ``topics`` is derived from the handler table unless a subclass sets it.
    """

    name: ClassVar[str] = "projection"
    topics: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self._handlers: dict[type[Event], Handler] = self.handlers()

    def handlers(self) -> dict[type[Event], Handler]:
        raise NotImplementedError

    def __post_restore__(self) -> None:
        """After a snapshot restore: the dispatch table holds bound methods, rebuilt here."""
        self._handlers = self.handlers()

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def row_route(self, topic: str) -> RowRoute | None:
        """The fields of ``topic`` its handler reads (from the handler's code) and the handler;
        no handler: nothing to read or call; ``None`` when the handler needs whole events."""
        if type(self).apply is not FoldProjection.apply:
            return None  # a subclass dispatching on its own
        cls = event_class(topic)
        handler = self._handlers.get(cls)
        if handler is None:
            return (), ()
        names = fields_read(handler, cls)
        return None if names is None else (names, (handler,))

    def fold(self, events: Iterable[Event]) -> FoldProjection:
        handlers = self._handlers
        for event in events:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
        return self

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    def digest(self) -> str:
        return digest_of(self.state())
