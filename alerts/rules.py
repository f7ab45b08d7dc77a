"""Alert rules (as written in the configuration file) and their pure evaluation.

A rule is a threshold on facts the projections already know: drawdown, today's loss, rejections
in a row, open circuit breakers, stale market data, actor restarts. ``evaluate`` takes the rules,
the current ``AlertFacts`` and the previous ``AlertState`` and returns the firings plus the next
state. It is edge-triggered: a condition fires once when it becomes true and again only after it
has cleared, so a drawdown that stays deep does not page every second. An actor restart is an
event, not a level: every increase of an actor's restart count fires.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from domain.values import Frozen

TOTAL = "total"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class _Rule(Frozen):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    severity: Severity = Severity.WARNING


class DrawdownOver(_Rule):
    """Drawdown of the book (``strategy=None``) or of one strategy above a fraction or amount."""

    kind: Literal["drawdown_over"] = "drawdown_over"
    max_pct: float | None = Field(default=None, gt=0, le=1, description="0.1 is 10%")
    max_amount: float | None = Field(default=None, gt=0)
    strategy: str | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> DrawdownOver:
        if self.max_pct is None and self.max_amount is None:
            raise ValueError("drawdown_over needs max_pct or max_amount")
        return self


class DailyLossOver(_Rule):
    kind: Literal["daily_loss_over"] = "daily_loss_over"
    max_loss: float = Field(gt=0, description="in quote currency, a positive number")
    strategy: str | None = None


class RejectionsInARow(_Rule):
    kind: Literal["rejections_in_a_row"] = "rejections_in_a_row"
    count: int = Field(ge=1)
    strategy: str | None = None


class CircuitOpen(_Rule):
    kind: Literal["circuit_open"] = "circuit_open"
    venue: str | None = None


class MarketDataStale(_Rule):
    kind: Literal["market_data_stale"] = "market_data_stale"
    max_age_s: float = Field(gt=0)
    instrument: str | None = None


class ActorRestarted(_Rule):
    kind: Literal["actor_restarted"] = "actor_restarted"
    actor: str | None = None


AlertRule = Annotated[
    DrawdownOver
    | DailyLossOver
    | RejectionsInARow
    | CircuitOpen
    | MarketDataStale
    | ActorRestarted,
    Field(discriminator="kind"),
]


class AlertRules(Frozen):
    """The ``alerts.rules`` section of the configuration file."""

    rules: list[AlertRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AlertRules:
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("alert rule names must be unique")
        return self


class AlertFacts(Frozen):
    """What the projections know now. Keys are strategy names, or ``"total"`` for the book."""

    now_ns: int = Field(ge=0)
    drawdown_pct: dict[str, float] = Field(default_factory=dict)
    drawdown_amount: dict[str, float] = Field(default_factory=dict)
    daily_pnl: dict[str, float] = Field(default_factory=dict)
    consecutive_rejections: dict[str, int] = Field(default_factory=dict)
    open_circuits: frozenset[str] = frozenset()
    market_data_last_ns: dict[str, int] = Field(default_factory=dict, description="instrument")
    actor_restarts: dict[str, int] = Field(default_factory=dict, description="restarts so far")


class AlertFiring(Frozen):
    """One alert: which rule, about what, the observed value and the threshold it crossed."""

    rule: str
    kind: str
    severity: Severity
    subject: str
    message: str
    observed: str
    threshold: str
    ts_ns: int

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject}"


class AlertState(Frozen):
    active: frozenset[str] = frozenset()
    restarts_seen: dict[str, int] = Field(default_factory=dict)


def _scope(values: dict, only: str | None, default: str = TOTAL) -> dict:
    key = only or default
    return {key: values[key]} if key in values else {}


def _fmt(value: float) -> str:
    return f"{value:,.2f}"


def _conditions(rule: AlertRule, facts: AlertFacts, state: AlertState) -> list[tuple]:
    """(subject, observed, threshold, message) for every subject the rule is true for."""
    out: list[tuple] = []
    if isinstance(rule, DrawdownOver):
        pcts = _scope(facts.drawdown_pct, rule.strategy)
        amounts = _scope(facts.drawdown_amount, rule.strategy)
        for subject in sorted(set(pcts) | set(amounts)):
            pct, amount = pcts.get(subject), amounts.get(subject)
            if rule.max_pct is not None and pct is not None and pct > rule.max_pct:
                out.append(
                    (subject, f"{pct:.2%}", f"{rule.max_pct:.2%}",
                     f"Drawdown of {subject} is {pct:.2%}, over {rule.max_pct:.2%}")
                )  # fmt: skip
            elif rule.max_amount is not None and amount is not None and amount > rule.max_amount:
                out.append(
                    (subject, _fmt(amount), _fmt(rule.max_amount),
                     f"Drawdown of {subject} is {_fmt(amount)}, over {_fmt(rule.max_amount)}")
                )  # fmt: skip
    elif isinstance(rule, DailyLossOver):
        for subject, pnl in _scope(facts.daily_pnl, rule.strategy).items():
            if -pnl > rule.max_loss:
                out.append(
                    (subject, _fmt(-pnl), _fmt(rule.max_loss),
                     f"Today's loss of {subject} is {_fmt(-pnl)}, over {_fmt(rule.max_loss)}")
                )  # fmt: skip
    elif isinstance(rule, RejectionsInARow):
        for subject, n in _scope(facts.consecutive_rejections, rule.strategy).items():
            if n >= rule.count:
                out.append(
                    (subject, str(n), str(rule.count), f"{n} orders of {subject} rejected in a row")
                )
    elif isinstance(rule, CircuitOpen):
        venues = [rule.venue] if rule.venue else sorted(facts.open_circuits)
        for venue in venues:
            if venue in facts.open_circuits:
                out.append((venue, "open", "closed", f"Circuit breaker of venue {venue} is open"))
    elif isinstance(rule, MarketDataStale):
        last = facts.market_data_last_ns
        instruments = [rule.instrument] if rule.instrument else sorted(last)
        for instrument in instruments:
            if instrument not in last:
                continue
            age = (facts.now_ns - last[instrument]) / 1e9
            if age > rule.max_age_s:
                out.append(
                    (instrument, f"{age:,.1f}s", f"{rule.max_age_s:g}s",
                     f"Market data for {instrument} is {age:,.1f}s old")
                )  # fmt: skip
    elif isinstance(rule, ActorRestarted):
        counts = facts.actor_restarts
        actors = [rule.actor] if rule.actor else sorted(counts)
        for actor in actors:
            count, seen = counts.get(actor, 0), state.restarts_seen.get(actor, 0)
            if count > seen:
                out.append(
                    (actor, str(count), str(seen), f"Actor {actor} restarted ({count} so far)")
                )
    return out


def evaluate(
    rules: AlertRules, facts: AlertFacts, state: AlertState | None = None
) -> tuple[list[AlertFiring], AlertState]:
    """Firings for conditions that became true since ``state``, and the state to keep."""
    state = state or AlertState()
    firings, active = [], set()
    for rule in rules.rules:
        for subject, observed, threshold, message in _conditions(rule, facts, state):
            firing = AlertFiring(
                rule=rule.name,
                kind=rule.kind,
                severity=rule.severity,
                subject=subject,
                message=message,
                observed=observed,
                threshold=threshold,
                ts_ns=facts.now_ns,
            )
            if rule.kind != "actor_restarted":
                active.add(firing.key)
            if rule.kind == "actor_restarted" or firing.key not in state.active:
                firings.append(firing)
    seen = {**state.restarts_seen, **facts.actor_restarts}
    return firings, AlertState(active=frozenset(active), restarts_seen=seen)
