"""Wiring: start (or join) Ray and create the named actors a configuration describes.

Every actor is named in one namespace (visible by name in the Ray dashboard), restarts on
failure and rebuilds from the tape. Each start is recorded on the tape as ``ActorAdded``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import ray

from actors.tape_access import StreamWriter
from cluster.config import RayConfig, TapelineConfig
from domain.events import SYSTEM_STREAM, ActorAdded
from store import open_tape

ACTOR_OPTIONS: dict[str, Any] = {"num_cpus": 0, "lifetime": None}


def init_ray(cfg: RayConfig, *, dashboard: bool | None = None) -> bool:
    """Connect to ``cfg.address`` or start a local Ray; returns True when we started it."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return False
    if cfg.address:
        ray.init(address=cfg.address, namespace=cfg.namespace, log_to_driver=False)
        return False
    with_dashboard = cfg.dashboard if dashboard is None else dashboard
    ray.init(
        num_cpus=cfg.num_cpus or os.cpu_count() or 2,
        object_store_memory=cfg.object_store_mb * 1024 * 1024,
        include_dashboard=with_dashboard,
        dashboard_host="127.0.0.1",
        dashboard_port=cfg.dashboard_port,
        namespace=cfg.namespace,
        log_to_driver=False,
        configure_logging=False,
    )
    return True


@dataclass
class System:
    cfg: TapelineConfig
    market_data: Any = None
    strategies: dict[str, Any] = field(default_factory=dict)
    risks: dict[str, Any] = field(default_factory=dict)
    gateways: dict[str, Any] = field(default_factory=dict)
    projector: Any = None

    def handles(self) -> dict[str, Any]:
        out: dict[str, Any] = {"market_data": self.market_data, "projector": self.projector}
        out.update({f"strategy.{k}": v for k, v in self.strategies.items()})
        out.update({f"risk.{k}": v for k, v in self.risks.items()})
        out.update({f"gateway.{k}": v for k, v in self.gateways.items()})
        return out


def _record_added(tape_url: str, names: list[tuple[str, str]]) -> None:
    tape = open_tape(tape_url)
    try:
        writer = StreamWriter(tape, "cluster")
        head = writer.head(SYSTEM_STREAM)
        events = [
            ActorAdded(**writer.meta().envelope(SYSTEM_STREAM, head + i + 1), name=n, kind=k)
            for i, (n, k) in enumerate(names)
        ]
        writer.append(events)
    finally:
        tape.close()


def start_system(cfg: TapelineConfig) -> System:
    from actors.gateway import GatewayActor
    from actors.market_data import MarketDataActor
    from actors.projector import ProjectorActor
    from actors.risk import RiskActor
    from actors.strategy import StrategyActor

    ns = cfg.ray.namespace
    url = cfg.tape.url
    system = System(cfg)
    venues = [v.name for v in cfg.venues]
    for v in cfg.venues:
        system.gateways[v.name] = GatewayActor.options(
            name=f"gateway.{v.name}", namespace=ns, **ACTOR_OPTIONS
        ).remote(v.model_dump(mode="json"), url)
    for r in cfg.risk:
        sources = [s.name for s in cfg.strategies if s.risk == r.name]
        system.risks[r.name] = RiskActor.options(
            name=f"risk.{r.name}", namespace=ns, **ACTOR_OPTIONS
        ).remote(r.name, r.config, url, venues, cfg.default_venue, sources, ns)
    for s in cfg.strategies:
        system.strategies[s.name] = StrategyActor.options(
            name=f"strategy.{s.name}", namespace=ns, **ACTOR_OPTIONS
        ).remote(s.name, s.cls, s.params, s.instruments, url, f"risk.{s.risk}", ns)
    system.projector = ProjectorActor.options(
        name="projector", namespace=ns, **ACTOR_OPTIONS
    ).remote(url, str(cfg.projections.starting_cash), cfg.projections.poll_interval_s)
    system.market_data = MarketDataActor.options(
        name="market_data", namespace=ns, **ACTOR_OPTIONS
    ).remote(cfg.market_data.model_dump(mode="json"), url)
    subs = [
        system.market_data.subscribe.remote(f"gateway.{k}", h) for k, h in system.gateways.items()
    ]
    subs += [
        system.market_data.subscribe.remote(f"strategy.{k}", h)
        for k, h in system.strategies.items()
    ]
    ray.get(subs)
    ray.get([h.recover.remote() for h in system.risks.values()])
    ray.get(system.projector.start.remote())
    kinds = [(name, name.split(".")[0]) for name in system.handles()]
    _record_added(url, kinds)
    return system


def wait_caught_up(system: System, timeout_s: float = 60.0) -> int:
    """Wait until the projector has folded the whole tape; returns its position."""
    deadline = time.monotonic() + timeout_s
    while True:
        lag = ray.get(system.projector.lag.remote())
        if lag == 0 or time.monotonic() > deadline:
            return int(ray.get(system.projector.position.remote()))
        time.sleep(0.05)


def stop_system(system: System) -> None:
    for handle in system.handles().values():
        if handle is not None:
            ray.kill(handle, no_restart=True)
