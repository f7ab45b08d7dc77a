"""The event envelope, the registry of event types, and schema upcasting.

Every fact on the tape is a frozen ``Event`` subclass. The envelope (identity, stream position,
time, provenance, trace context, schema version) is common to all of them; the payload is the
subclass's own fields. Events carry no secrets, and no clock is read here: callers pass ``ts_ns``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

TAPE_NAMESPACE = uuid.UUID("6f1b3a52-7d0e-4c61-9a8e-2b5f0c7d9e11")


class Envelope(BaseModel):
    """Fields every event carries. Stream and version are the per-stream position."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    stream: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    ts_ns: int = Field(ge=0, description="when the fact was recorded, UTC nanoseconds")
    source: str = Field(min_length=1, max_length=200, description="the actor that recorded it")
    correlation_id: str | None = Field(default=None, description="the originating signal")
    causation_id: uuid.UUID | None = Field(default=None, description="the event that led here")
    traceparent: str | None = Field(default=None, description="W3C trace context")
    schema_version: int = Field(default=1, ge=1)


class Event(Envelope):
    """Base of all domain events. Subclasses are registered by their class name (the topic)."""

    SCHEMA_VERSION: ClassVar[int] = 1
    registry: ClassVar[dict[str, type[Event]]] = {}
    upcasters: ClassVar[dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        existing = Event.registry.get(name)
        if existing is not None and existing.__module__ != cls.__module__:
            raise TypeError(f"event topic {name!r} already registered by {existing.__module__}")
        Event.registry[name] = cls

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields["schema_version"]
        field.default = cls.SCHEMA_VERSION
        cls.model_rebuild(force=True)

    @property
    def topic(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        """The event's own fields, without the envelope."""
        return self.model_dump(exclude=set(Envelope.model_fields))


def upcaster(
    topic: str, from_version: int
) -> Callable[
    [Callable[[dict[str, Any]], dict[str, Any]]], Callable[[dict[str, Any]], dict[str, Any]]
]:
    """Register a function that turns a stored dict of ``from_version`` into ``from_version+1``."""

    def register(
        fn: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        Event.upcasters[(topic, from_version)] = fn
        return fn

    return register


def upcast(topic: str, data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored event dict up to the current schema version of its class."""
    cls = Event.registry[topic]
    version = int(data.get("schema_version", 1))
    while version < cls.SCHEMA_VERSION:
        step = Event.upcasters.get((topic, version))
        if step is None:
            raise LookupError(f"no upcaster for {topic} from schema version {version}")
        data = step(dict(data))
        version += 1
        data["schema_version"] = version
    return data


def event_class(topic: str) -> type[Event]:
    try:
        return Event.registry[topic]
    except KeyError:
        raise LookupError(
            f"unknown event topic {topic!r}: is the module that defines it imported?"
        ) from None


def derive_id(*parts: object) -> uuid.UUID:
    """A deterministic id from its causes: the same inputs always give the same id."""
    return uuid.uuid5(TAPE_NAMESPACE, "/".join(str(p) for p in parts))


class EventMeta(BaseModel):
    """Provenance handed to a domain function so it can stamp the events it produces."""

    model_config = ConfigDict(frozen=True)

    ts_ns: int
    source: str
    correlation_id: str | None = None
    causation_id: uuid.UUID | None = None
    traceparent: str | None = None

    def caused_by(
        self, event: Event, *, ts_ns: int | None = None, source: str | None = None
    ) -> Self:
        return self.model_copy(
            update={
                "causation_id": event.event_id,
                "correlation_id": event.correlation_id or self.correlation_id,
                "traceparent": event.traceparent or self.traceparent,
                "ts_ns": self.ts_ns if ts_ns is None else ts_ns,
                "source": self.source if source is None else source,
            }
        )

    def envelope(
        self, stream: str, version: int, event_id: uuid.UUID | None = None
    ) -> dict[str, Any]:
        return {
            "event_id": event_id
            or derive_id(stream, version, self.causation_id, self.ts_ns, self.source),
            "stream": stream,
            "version": version,
            "ts_ns": self.ts_ns,
            "source": self.source,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "traceparent": self.traceparent,
        }
