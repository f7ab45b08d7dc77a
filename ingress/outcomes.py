"""What the ingress hands its sink for every request: an accepted signal or a refusal.

Neither carries the secret. The sink (the ingress actor's durable append, in production) must
finish ``record`` before the sender gets its 200: "acknowledged" means "on the tape". Each
outcome turns into its tape event with ``to_event``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Protocol

from pydantic import Field

from domain.events import EventMeta, SignalReceived, SignalRefused, signal_stream
from domain.signal import Signal
from domain.signals import RefusalCode
from domain.values import Frozen

UNKNOWN_SOURCE_STREAM = signal_stream("_unknown")

HTTP_STATUS: dict[RefusalCode, int] = {
    RefusalCode.MALFORMED: 400,
    RefusalCode.PARSER_ERROR: 400,
    RefusalCode.BAD_SECRET: 401,
    RefusalCode.IP_NOT_ALLOWED: 403,
    RefusalCode.UNKNOWN_SOURCE: 404,
    RefusalCode.DUPLICATE: 409,
    RefusalCode.TOO_LARGE: 413,
    RefusalCode.UNSUPPORTED_MEDIA_TYPE: 415,
    RefusalCode.INVALID: 422,
    RefusalCode.UNKNOWN_SYMBOL: 422,
    RefusalCode.FORMAT_NOT_ALLOWED: 422,
    RefusalCode.STALE: 422,
    RefusalCode.FROM_FUTURE: 422,
    RefusalCode.RATE_LIMITED: 429,
}


class AcceptedSignal(Frozen):
    kind: Literal["accepted"] = "accepted"
    signal_id: uuid.UUID = Field(description="id of the SignalReceived event; answered to sender")
    source: str
    format: str
    signal: Signal
    fingerprint: str = Field(description="sha256 of the body without its secret")
    client_ip: str | None = None
    received_ns: int = Field(ge=0)

    @property
    def stream(self) -> str:
        return signal_stream(self.source)

    def to_event(self, meta: EventMeta, version: int) -> SignalReceived:
        envelope = meta.envelope(self.stream, version, event_id=self.signal_id)
        envelope["correlation_id"] = envelope["correlation_id"] or str(self.signal_id)
        return SignalReceived(
            **envelope,
            signal=self.signal,
            format=self.format,
            fingerprint=self.fingerprint,
            client_ip=self.client_ip,
        )


class RefusedRequest(Frozen):
    kind: Literal["refused"] = "refused"
    request_id: uuid.UUID
    source: str = Field(max_length=100, description="as named in the URL (maybe unknown)")
    code: RefusalCode
    reason: str
    status: int = Field(ge=400, le=499)
    format: str | None = None
    client_ip: str | None = None
    received_ns: int = Field(ge=0)

    @property
    def stream(self) -> str:
        """Unknown sources share one stream, so a URL cannot create arbitrary streams."""
        if self.code is RefusalCode.UNKNOWN_SOURCE:
            return UNKNOWN_SOURCE_STREAM
        return signal_stream(self.source)

    def to_event(self, meta: EventMeta, version: int) -> SignalRefused:
        """``SignalRefused.source`` (its payload) shadows the envelope's actor name: it holds the
        source named in the URL, as the event class defines it."""
        envelope = meta.envelope(self.stream, version, event_id=self.request_id)
        envelope["source"] = self.source or "?"
        return SignalRefused(
            **envelope,
            code=self.code.value,
            reason=self.reason,
            format=self.format,
            status=self.status,
            client_ip=self.client_ip,
        )


Outcome = Annotated[AcceptedSignal | RefusedRequest, Field(discriminator="kind")]


class SignalSink(Protocol):
    """Receives every request's outcome exactly once; the 200 waits for ``record`` to return."""

    async def record(self, outcome: AcceptedSignal | RefusedRequest) -> None: ...


class MemorySink:
    """A sink that keeps outcomes in a list: for tests, demos and benchmarks' floors."""

    def __init__(self) -> None:
        self.outcomes: list[AcceptedSignal | RefusedRequest] = []

    async def record(self, outcome: AcceptedSignal | RefusedRequest) -> None:
        self.outcomes.append(outcome)

    @property
    def accepted(self) -> list[AcceptedSignal]:
        return [o for o in self.outcomes if isinstance(o, AcceptedSignal)]

    @property
    def refused(self) -> list[RefusedRequest]:
        return [o for o in self.outcomes if isinstance(o, RefusedRequest)]
