"""Wiring: start (or join) Ray and create the named actors a configuration describes.

Every actor is named in one namespace (visible by name in the Ray dashboard), restarts on
failure and rebuilds from the tape. Each start is recorded on the tape as ``ActorAdded``.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

import ray

from cluster.config import RayConfig, TapelineConfig


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
        _node_ip_address="127.0.0.1",
        num_cpus=cfg.num_cpus or os.cpu_count() or 2,
        object_store_memory=cfg.object_store_mb * 1024 * 1024,
        include_dashboard=with_dashboard,
        dashboard_host="127.0.0.1",
        dashboard_port=cfg.dashboard_port,
        _metrics_export_port=cfg.metrics_export_port,
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
    registry: Any = None
    ingress: Any = None

    def handles(self) -> dict[str, Any]:
        out: dict[str, Any] = {"market_data": self.market_data, "projector": self.projector}
        out.update({f"strategy.{k}": v for k, v in self.strategies.items()})
        out.update({f"risk.{k}": v for k, v in self.risks.items()})
        out.update({f"gateway.{k}": v for k, v in self.gateways.items()})
        if self.ingress is not None:
            out["ingress"] = self.ingress
        return out


class TapeNotShared(RuntimeError):
    """A file-backed tape on a cluster of several nodes: actors elsewhere cannot reach it."""


def check_tape_reachable(tape_url: str, alive_nodes: int) -> None:
    """More than one node needs a tape every node reaches (PostgreSQL): a SQLite file lives on
    one machine, and actors restarted on another would each write a tape of their own."""
    if alive_nodes > 1 and not tape_url.startswith(("postgresql://", "postgres://")):
        scheme = tape_url.split(":", 1)[0]
        raise TapeNotShared(
            f"the Ray cluster has {alive_nodes} nodes but the tape is {scheme}: set tape.url "
            "to postgresql://user:password@host:5432/db in the configuration (docs/cluster.md)"
        )


def start_system(cfg: TapelineConfig) -> System:
    """Start the registry and let it bring up everything the configuration describes."""
    from cluster.registry import RegistryActor

    check_tape_reachable(cfg.tape.url, sum(1 for n in ray.nodes() if n.get("Alive")))
    ns = cfg.ray.namespace
    registry = RegistryActor.options(
        name="registry", namespace=ns, num_cpus=0, lifetime="detached", get_if_exists=True
    ).remote(cfg.tape.url, ns)
    ray.get(registry.apply.remote(cfg.model_dump(mode="json", by_alias=True)))
    ray.get(registry.ensure.remote())  # on an existing tape: bring back what is not running
    ray.get(registry.start_supervision.remote())
    return attach(cfg, registry)


def attach(cfg: TapelineConfig, registry: Any = None) -> System:
    """Handles to the running actors of a configuration (for the CLI and tests)."""
    ns = cfg.ray.namespace
    system = System(cfg, registry=registry or ray.get_actor("registry", namespace=ns))

    def get(name: str) -> Any:
        return ray.get_actor(name, namespace=ns)

    system.market_data = get("market_data")
    system.projector = get("projector")
    system.gateways = {v.name: get(f"gateway.{v.name}") for v in cfg.venues}
    system.risks = {r.name: get(f"risk.{r.name}") for r in cfg.risk}
    system.strategies = {s.name: get(f"strategy.{s.name}") for s in cfg.strategies}
    if cfg.ingress is not None:
        system.ingress = get("ingress")
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
    """Kill the registry and every actor it knows (they are detached: nothing else will)."""
    names = set(system.handles())
    if system.registry is not None:
        with contextlib.suppress(Exception):
            names |= {row["name"] for row in ray.get(system.registry.list.remote(), timeout=10)}
        ray.kill(system.registry, no_restart=True)
    for name in names:
        with contextlib.suppress(ValueError):
            ray.kill(ray.get_actor(name, namespace=system.cfg.ray.namespace), no_restart=True)
