"""Creates the Ray actor an ``ActorSpec`` describes (named, detached, restartable)."""

from __future__ import annotations

from typing import Any

from cluster.topology import ActorSpec

OPTIONS: dict[str, Any] = {"num_cpus": 0, "lifetime": "detached", "max_restarts": -1}


def spawn(spec: ActorSpec, tape_url: str, namespace: str) -> Any:
    opts = {"name": spec.name, "namespace": namespace, **OPTIONS}
    p = spec.params
    short = spec.name.split(".", 1)[-1]
    if spec.kind == "gateway":
        from actors.gateway import GatewayActor

        return GatewayActor.options(**opts).remote(p, tape_url)
    if spec.kind == "risk":
        from actors.risk import RiskActor

        return RiskActor.options(**opts).remote(
            short,
            p.get("config", {}),
            tape_url,
            p["venues"],
            p["default_venue"],
            p.get("sources"),
            namespace,
            native_bracket_venues=p.get("native_bracket_venues", []),
        )
    if spec.kind == "strategy":
        from actors.strategy import StrategyActor

        return StrategyActor.options(**opts).remote(
            short,
            p.get("class", "domain.strategies.ma_cross:MACrossover"),
            p.get("params", {}),
            p.get("instruments"),
            tape_url,
            f"risk.{p.get('risk', 'main')}",
            namespace,
        )
    if spec.kind == "projector":
        from actors.projector import ProjectorActor

        return ProjectorActor.options(**opts).remote(
            tape_url,
            str(p.get("starting_cash", "100000")),
            float(p.get("poll_interval_s", 0.05)),
            {k: p[k] for k in ("tracing", "otlp_endpoint", "metrics") if k in p},
            p.get("alerts"),
            namespace,
        )
    if spec.kind == "market_data":
        from actors.market_data import MarketDataActor

        return MarketDataActor.options(**opts).remote(p, tape_url)
    if spec.kind == "ingress":
        from actors.ingress import IngressActor

        return IngressActor.options(**opts).remote(p, tape_url, namespace)
    raise ValueError(f"no actor kind {spec.kind!r}")
