"""A circuit breaker per venue as a pure state machine: closed, open, half-open.

Closed lets traffic through and counts consecutive failures; at ``failure_threshold`` it opens.
Open refuses traffic until ``open_for_ns`` has passed, then half-opens. Half-open lets
``half_open_probes`` requests through: a success closes it, a failure opens it again with a longer
cool-down (doubling up to ``max_open_for_ns``). Each change of state is returned as a
``Transition`` so the caller can put it on the tape; ``fold`` rebuilds the breaker from those
events after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from domain.events import Event
from domain.events.venue import CircuitClosed, CircuitHalfOpened, CircuitOpened


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failure_threshold: int = 5
    open_for_ns: int = 5_000_000_000
    max_open_for_ns: int = 120_000_000_000
    half_open_probes: int = 1

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.half_open_probes < 1 or self.open_for_ns < 0:
            raise ValueError("circuit policy needs a threshold >= 1, probes >= 1, cool-down >= 0")


@dataclass(frozen=True, slots=True)
class Transition:
    to: CircuitState
    reason: str
    failures: int
    retry_at_ns: int = 0


@dataclass(frozen=True, slots=True)
class Circuit:
    policy: CircuitPolicy = CircuitPolicy()
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    retry_at_ns: int = 0
    cool_down_ns: int = 0
    probes: int = 0

    # traffic ---------------------------------------------------------------------------------

    def admit(self, now_ns: int) -> tuple[Circuit, bool, Transition | None]:
        """May a request go out now? Returns (breaker, allowed, transition if any)."""
        if self.state is CircuitState.CLOSED:
            return self, True, None
        if self.state is CircuitState.OPEN:
            if now_ns < self.retry_at_ns:
                return self, False, None
            half = replace(self, state=CircuitState.HALF_OPEN, probes=1)
            return half, True, Transition(CircuitState.HALF_OPEN, "cool-down over", self.failures)
        if self.probes < self.policy.half_open_probes:
            return replace(self, probes=self.probes + 1), True, None
        return self, False, None

    def success(self) -> tuple[Circuit, Transition | None]:
        if self.state is CircuitState.CLOSED:
            return (replace(self, failures=0) if self.failures else self), None
        closed = Circuit(policy=self.policy)
        return closed, Transition(CircuitState.CLOSED, "probe succeeded", 0)

    def failure(
        self, now_ns: int, reason: str, *, hold_ns: int = 0
    ) -> tuple[Circuit, Transition | None]:
        """A request failed for venue reasons (timeout, 5xx, ban). ``hold_ns`` forces the circuit
        open at least that long (a 418 ban's Retry-After)."""
        failures = self.failures + 1
        if self.state is CircuitState.HALF_OPEN:
            cool = min(
                max(self.cool_down_ns * 2, self.policy.open_for_ns), self.policy.max_open_for_ns
            )
            return self._open(now_ns, reason, failures, max(cool, hold_ns))
        if self.state is CircuitState.OPEN:
            return replace(self, failures=failures), None
        if failures >= self.policy.failure_threshold or hold_ns > 0:
            return self._open(now_ns, reason, failures, max(self.policy.open_for_ns, hold_ns))
        return replace(self, failures=failures), None

    def _open(
        self, now_ns: int, reason: str, failures: int, cool_ns: int
    ) -> tuple[Circuit, Transition]:
        opened = replace(
            self,
            state=CircuitState.OPEN,
            failures=failures,
            retry_at_ns=now_ns + cool_ns,
            cool_down_ns=cool_ns,
            probes=0,
        )
        return opened, Transition(CircuitState.OPEN, reason, failures, now_ns + cool_ns)

    # rebuilding from the tape ----------------------------------------------------------------

    def apply(self, event: Event) -> Circuit:
        match event:
            case CircuitOpened():
                cool = max(0, event.retry_at_ns - event.ts_ns)
                return replace(
                    self,
                    state=CircuitState.OPEN,
                    failures=event.failures,
                    retry_at_ns=event.retry_at_ns,
                    cool_down_ns=cool,
                    probes=0,
                )
            case CircuitHalfOpened():
                # a restart forgets the probe in flight: open again, probe at once
                return replace(self, state=CircuitState.OPEN, retry_at_ns=event.ts_ns, probes=0)
            case CircuitClosed():
                return Circuit(policy=self.policy)
        return self


def fold(events: list[Event], policy: CircuitPolicy = CircuitPolicy()) -> Circuit:
    circuit = Circuit(policy=policy)
    for event in events:
        circuit = circuit.apply(event)
    return circuit
