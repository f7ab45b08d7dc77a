"""The running topology as data: which named actors a configuration asks for, and the
difference between what runs and what a configuration wants (pure, no Ray)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cluster.config import TapelineConfig, VenueConfig
from cluster.redact import redact

Kind = Literal["market_data", "strategy", "risk", "gateway", "projector", "ingress"]
KINDS: tuple[str, ...] = ("market_data", "strategy", "risk", "gateway", "projector", "ingress")
START_ORDER = {
    "gateway": 0,
    "risk": 1,
    "projector": 2,
    "strategy": 3,
    "ingress": 4,
    "market_data": 5,
}


class ActorSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z_]+(\.[a-z][a-z0-9_]*)?$")
    kind: Kind
    params: dict[str, Any] = Field(default_factory=dict)

    def digest(self) -> str:
        """Over the parameters as recorded (secrets redacted), so a spec folded from the tape
        and the same spec from the configuration file compare equal."""
        raw = json.dumps(self.recorded().model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def recorded(self) -> ActorSpec:
        """This spec as it may appear on the tape: no secret values."""
        return self.model_copy(update={"params": redact(self.params)})


def actor_name(kind: str, name: str | None) -> str:
    if kind in ("market_data", "projector", "ingress"):
        return kind
    if not name:
        raise ValueError(f"an actor of kind {kind!r} needs a name")
    return f"{kind}.{name}"


def gateway_params(venue: VenueConfig) -> dict[str, Any]:
    """A gateway's parameters: its venue entry (``brackets`` only when not the default, so a
    running gateway's recorded spec stays the same)."""
    params = venue.model_dump(mode="json", exclude_none=True)
    if params.get("brackets") == "auto":
        del params["brackets"]
    return params


def native_bracket_venues(specs: Iterable[ActorSpec]) -> list[str]:
    """Names of the venues, among these gateway specs, that hold bracket children themselves
    (``venues.registry.brackets_native``); a risk manager emulates brackets everywhere else."""
    from venues.registry import brackets_native

    return sorted(
        str(s.params.get("name", s.name.split(".", 1)[-1]))
        for s in specs
        if s.kind == "gateway" and brackets_native(s.params)
    )


def desired(cfg: TapelineConfig) -> dict[str, ActorSpec]:
    """Every actor the configuration asks for, by Ray actor name."""
    specs: list[ActorSpec] = []
    venues = [v.name for v in cfg.venues]
    gateways = [
        ActorSpec(name=f"gateway.{v.name}", kind="gateway", params=gateway_params(v))
        for v in cfg.venues
    ]
    specs += gateways
    native = native_bracket_venues(gateways)
    for r in cfg.risk:
        specs.append(
            ActorSpec(
                name=f"risk.{r.name}",
                kind="risk",
                params={
                    "config": r.config,
                    "venues": venues,
                    "default_venue": cfg.default_venue,
                    "native_bracket_venues": native,
                    "sources": sorted(
                        [s.name for s in cfg.strategies if s.risk == r.name]
                        + _ingress_sources(cfg, r.name)
                    ),
                },
            )
        )
    for s in cfg.strategies:
        specs.append(
            ActorSpec(
                name=f"strategy.{s.name}",
                kind="strategy",
                params={
                    "class": s.cls,
                    "params": s.params,
                    "instruments": s.instruments,
                    "risk": s.risk,
                },
            )
        )
    specs.append(
        ActorSpec(
            name="projector",
            kind="projector",
            params={
                "starting_cash": str(cfg.projections.starting_cash),
                "poll_interval_s": cfg.projections.poll_interval_s,
                **cfg.telemetry.model_dump(mode="json"),
                "alerts": cfg.alerts,
            },
        )
    )
    if cfg.ingress is not None:
        specs.append(
            ActorSpec(name="ingress", kind="ingress", params=cfg.ingress.model_dump(mode="json"))
        )
    specs.append(
        ActorSpec(
            name="market_data", kind="market_data", params=cfg.market_data.model_dump(mode="json")
        )
    )
    return {s.name: s for s in specs}


def _ingress_sources(cfg: TapelineConfig, profile: str) -> list[str]:
    if cfg.ingress is None or cfg.ingress.risk != profile:
        return []
    return sorted(cfg.ingress.settings.get("sources", {}))


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Literal["add", "remove", "replace", "reconfigure"]
    name: str
    spec: ActorSpec | None = None

    def describe(self) -> str:
        sign = {"add": "+", "remove": "-", "replace": "~", "reconfigure": "*"}[self.action]
        kind = f" ({self.spec.kind})" if self.spec else ""
        return f"{sign} {self.name}{kind}"


def diff(current: dict[str, ActorSpec], wanted: dict[str, ActorSpec]) -> list[Change]:
    """What to do to turn ``current`` into ``wanted``, in a safe order: removals first, then
    additions and replacements in dependency order (gateways before the risk managers that call
    them, market data last)."""
    changes = [Change(action="remove", name=n) for n in sorted(set(current) - set(wanted))]
    ups = []
    for name, spec in wanted.items():
        if name not in current:
            ups.append(Change(action="add", name=name, spec=spec))
        elif current[name].digest() != spec.digest():
            action = "reconfigure" if _only_config_differs(current[name], spec) else "replace"
            ups.append(Change(action=action, name=name, spec=spec))
    ups.sort(key=lambda c: (START_ORDER[c.spec.kind] if c.spec else 9, c.name))
    return changes + ups


def _only_config_differs(old: ActorSpec, new: ActorSpec) -> bool:
    """A risk profile whose limits or sizing changed is reconfigured live, not restarted."""
    if old.kind != "risk" or new.kind != "risk":
        return False
    strip = lambda p: {k: v for k, v in redact(p).items() if k != "config"}  # noqa: E731
    return strip(old.params) == strip(new.params)


def config_digest(cfg: TapelineConfig) -> str:
    raw = json.dumps(cfg.model_dump(mode="json", by_alias=True), sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
