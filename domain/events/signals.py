"""Signals as recorded by whoever received them (a strategy actor, the webhook ingress)."""

from __future__ import annotations

from pydantic import Field

from domain.events.base import Event
from domain.signal import Signal


def signal_stream(source: str) -> str:
    return f"signals.{source}"


class SignalReceived(Event):
    """A canonical signal accepted for processing. Its event id correlates everything after."""

    signal: Signal
    format: str = Field(default="native", description="wire format it arrived in")
    fingerprint: str | None = Field(
        default=None, description="sha256 of the body without its secret (for dedupe on replay)"
    )
    client_ip: str | None = None


class SignalRefused(Event):
    """A signal (or request) refused before it reached risk, with the reason."""

    source: str
    code: str = Field(description="machine-readable reason, e.g. 'duplicate', 'stale'")
    reason: str
    format: str | None = None
    status: int | None = Field(default=None, description="HTTP status answered, if over HTTP")
    client_ip: str | None = None
