"""Facts about the running system itself: topology changes and recorded projection states."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from domain.events.base import Event

SYSTEM_STREAM = "system"


def projection_stream(name: str) -> str:
    return f"projection.{name}"


class ActorAdded(Event):
    name: str
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)


class ActorRemoved(Event):
    name: str
    reason: str = "requested"


class ConfigApplied(Event):
    digest: str
    changes: list[str] = Field(default_factory=list)


class ProjectionRecorded(Event):
    """What a live projection held after folding the tape up to ``through_position``."""

    projection: str
    through_position: int = Field(ge=0)
    digest: str
    state: dict[str, Any]


class ActorQuarantined(Event):
    """An actor that kept crashing was stopped instead of being restarted again."""

    name: str
    restarts: int
    window_s: float


class ActorReconfigured(Event):
    """An actor's parameters changed in place (no restart), e.g. a risk profile's limits."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


ALERTS_STREAM = "alerts"


class AlertFired(Event):
    """An alert rule became true (it fires again only after it has cleared)."""

    rule: str
    kind: str
    severity: str
    subject: str
    message: str
    observed: str
    threshold: str
