"""The fault switch every fake venue consults on each request.

Tests (in-process) or anything else (over the admin HTTP endpoint) arm faults: added latency, a
hang past the client's timeout, 429/418 with Retry-After, 5xx, the response lost after an order
was placed, partial fills, fills listed twice or out of order, and rejections. Each fault applies
to a class of requests (``on``) for a number of requests (``times``, ``None`` = until cleared).
"""

from __future__ import annotations

import threading
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FaultKind(StrEnum):
    LATENCY = "latency"
    TIMEOUT = "timeout"
    RATE_LIMIT = "rate_limit"  # HTTP 429 + Retry-After
    BANNED = "banned"  # HTTP 418 + Retry-After (Binance's IP ban)
    SERVER_ERROR = "server_error"  # 5xx before the request is processed
    RESPONSE_LOST = "response_lost"  # processed (order placed), response dropped or 500
    PARTIAL_FILL = "partial_fill"
    DUPLICATE_FILLS = "duplicate_fills"
    FILLS_OUT_OF_ORDER = "fills_out_of_order"
    REJECT = "reject"


OP_GROUPS: dict[str, frozenset[str]] = {
    "any": frozenset({"place", "cancel", "query", "fills", "balance", "permissions", "public"}),
    "private": frozenset({"place", "cancel", "query", "fills", "balance", "permissions"}),
    "write": frozenset({"place", "cancel"}),
    "read": frozenset({"query", "fills", "balance", "permissions"}),
}
"""Request classes: place, cancel, query (order lookups, open orders), fills, balance,
permissions, public; ``on`` may name one of them or a group above."""


class Fault(BaseModel):
    """One armed fault. Only the fields its kind uses matter."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    on: str = "any"
    times: int | None = Field(default=1, ge=1)
    latency_s: float = Field(default=0.05, ge=0)
    hang_s: float = Field(default=5.0, ge=0)
    placed: bool = True  # TIMEOUT: process the request before hanging
    retry_after_s: int = Field(default=1, ge=0)
    status: int = Field(default=503, ge=500, le=599)
    drop: bool = True  # RESPONSE_LOST: drop the connection (True) or answer 500 (False)
    fill_ratio: Decimal = Field(default=Decimal("0.5"), gt=0, lt=1)
    reason: str | None = None

    def applies_to(self, op: str) -> bool:
        return op in OP_GROUPS.get(self.on, frozenset({self.on}))


class FaultSwitch:
    """Thread-safe set of armed faults; ``take`` consumes them for one request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[tuple[Fault, list[int | None]]] = []

    def add(self, kind: FaultKind | str, **params: object) -> Fault:
        fault = Fault(kind=FaultKind(kind), **params)  # type: ignore[arg-type]
        return self.arm(fault)

    def arm(self, fault: Fault) -> Fault:
        with self._lock:
            self._armed.append((fault, [fault.times]))
        return fault

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f, _ in self._armed]

    def take(self, op: str) -> dict[FaultKind, Fault]:
        """The faults that hit this request (at most one per kind), consuming their counts."""
        hit: dict[FaultKind, Fault] = {}
        with self._lock:
            keep: list[tuple[Fault, list[int | None]]] = []
            for fault, left in self._armed:
                if fault.kind not in hit and fault.applies_to(op):
                    hit[fault.kind] = fault
                    if left[0] is not None:
                        left[0] -= 1
                        if left[0] <= 0:
                            continue
                keep.append((fault, left))
            self._armed = keep
        return hit
