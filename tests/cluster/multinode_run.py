"""A real multi-node Ray cluster on this machine, with the tape on PostgreSQL: actors placed on
different nodes, a worker node removed mid-run, then the tape checked.

Run by tests/cluster/test_multinode.py in its own process (a process holds one Ray connection,
and the test session already has its own local Ray):

    python -m tests.cluster.multinode_run POSTGRES_URL

Everything binds to 127.0.0.1, and Ray's temporary directory is private to this run, so
``ray.init(address="auto")`` elsewhere never finds this cluster. The last line printed is one
JSON object: ``problems`` (empty when every invariant holds) and what happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

N_BARS = 150
REMOVE_AT_STEP = 50
NAMESPACE = "multinode"


LABEL = "tapeline-node"


@contextlib.contextmanager
def placed_on(node: str | None) -> Iterator[None]:
    """Actors spawned inside go to the node labelled ``node``, and restart on any other node
    when it is gone (the fallback). A stand-in for a placement option in ``cluster.spawn``."""
    import cluster.spawn as spawn_module

    saved = dict(spawn_module.OPTIONS)
    if node is not None:
        spawn_module.OPTIONS["label_selector"] = {LABEL: node}
        spawn_module.OPTIONS["fallback_strategy"] = [{"label_selector": {LABEL: "in(head,a,b)"}}]
    try:
        yield
    finally:
        spawn_module.OPTIONS.clear()
        spawn_module.OPTIONS.update(saved)


def start_placed(cfg: Any, placement: dict[str, str]) -> Any:
    """Bring the configuration up like ``start_system`` does, each actor on its node: the
    topology is recorded as ``ActorAdded`` first, then a fresh registry adopts and wires it."""
    import ray

    from actors.tape_access import StreamWriter
    from cluster.registry import RegistryActor
    from cluster.runtime import attach
    from cluster.spawn import spawn
    from cluster.topology import START_ORDER, desired
    from domain.events import SYSTEM_STREAM, ActorAdded
    from store import open_tape

    specs = sorted(desired(cfg).values(), key=lambda s: (START_ORDER[s.kind], s.name))
    with open_tape(cfg.tape.url) as tape:
        writer = StreamWriter(tape, "registry")
        head = writer.head(SYSTEM_STREAM)
        writer.append(
            [
                ActorAdded(
                    **writer.meta().envelope(SYSTEM_STREAM, head + i + 1),
                    name=s.name,
                    kind=s.kind,
                    params=s.recorded().params,
                )
                for i, s in enumerate(specs)
            ]
        )
    for spec in specs:
        with placed_on(placement.get(spec.name)):
            spawn(spec, cfg.tape.url, NAMESPACE)
    registry = RegistryActor.options(
        name="registry", namespace=NAMESPACE, num_cpus=0, lifetime="detached"
    ).remote(cfg.tape.url, NAMESPACE)
    ray.get(registry.ensure.remote(), timeout=120)
    ray.get(registry.start_supervision.remote(1.0))
    return attach(cfg, registry)


def actor_nodes(handles: dict[str, Any]) -> dict[str, str]:
    """Node id of each live actor (Ray's actor table, matched by actor id)."""
    import ray._private.state as gcs

    table = {a["ActorID"]: a for a in gcs.actors().values()}
    out = {}
    for name, handle in handles.items():
        info = table.get(handle._actor_id.hex(), {})
        if info.get("State") == "ALIVE":
            out[name] = info["Address"]["NodeID"]
    return out


def run(pg_url: str) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster

    from actors.market_data import load_steps
    from cluster.config import MarketDataConfig, RayConfig, TapeConfig, TapelineConfig
    from cluster.runtime import stop_system, wait_caught_up
    from store import open_tape
    from tests.cluster import tape_invariants as inv

    node_args = {
        "node_ip_address": "127.0.0.1",
        "num_cpus": 1,
        "object_store_memory": 80 * 1024 * 1024,
        "include_dashboard": False,
    }
    fast_failure = {"health_check_period_ms": 500, "health_check_failure_threshold": 3}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={**node_args, "labels": {LABEL: "head"}, "_system_config": fast_failure},
    )
    worker_a = cluster.add_node(**node_args, labels={LABEL: "a"})
    worker_b = cluster.add_node(**node_args, labels={LABEL: "b"})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
    head_id = cluster.head_node.node_id
    a_id, b_id = worker_a.node_id, worker_b.node_id

    cfg = TapelineConfig(
        tape=TapeConfig(url=pg_url),
        ray=RayConfig(namespace=NAMESPACE, dashboard=False),
        market_data=MarketDataConfig(bars=N_BARS, seed=11),
    )
    # Worker A holds the signal path (strategy, risk, gateway); B the projector; the head the
    # market data feed. Worker A goes away mid-run.
    placement = {
        "market_data": "head",
        "strategy.ma_cross": "a",
        "risk.main": "a",
        "gateway.paper": "a",
        "projector": "b",
    }
    t0 = time.monotonic()
    system = start_placed(cfg, placement)
    before = actor_nodes(system.handles())
    out: dict[str, Any] = {"problems": [], "nodes_before": {}, "nodes_after": {}}
    try:
        run_ref = system.market_data.run.remote()
        while ray.get(system.market_data.progress.remote())["step"] < REMOVE_AT_STEP:
            time.sleep(0.05)
        cluster.remove_node(worker_a, allow_graceful=False)
        removed_at = ray.get(system.market_data.progress.remote())["step"]
        steps = ray.get(run_ref, timeout=240)
        wait_caught_up(system)
        ray.get(system.projector.record.remote(), timeout=60)
        live = ray.get(system.projector.state.remote(), timeout=60)
        after = actor_nodes(system.handles())
        restarts = {r["name"]: r["restarts"] for r in ray.get(system.registry.list.remote())}
    finally:
        stop_system(system)
        ray.shutdown()
        cluster.shutdown()

    label = {head_id: "head", a_id: "worker_a", b_id: "worker_b"}
    out["nodes_before"] = {n: label.get(i, i) for n, i in before.items()}
    out["nodes_after"] = {n: label.get(i, i) for n, i in after.items()}
    out["removed_at_step"] = removed_at
    out["restarts"] = restarts
    out["steps"] = steps
    out["seconds"] = round(time.monotonic() - t0, 1)
    problems: list[str] = out["problems"]
    asked = {n: p if p == "head" else f"worker_{p}" for n, p in placement.items()}
    if out["nodes_before"] != asked:
        problems.append(f"actors not placed as asked: {out['nodes_before']}")
    moved = [n for n, node in placement.items() if node == "a"]
    for n in moved:
        if after.get(n) in (None, a_id):
            problems.append(f"{n} did not come back on another node")
    with open_tape(pg_url) as tape:
        events = inv.all_events(tape)
        problems += inv.replay_agrees(tape, cfg.projections.starting_cash, live)
    out["events"] = inv.summary(events)
    problems += inv.bars_once(events, sum(map(len, load_steps(cfg.market_data))))
    problems += inv.decisions(events)
    problems += inv.orders(events, every_approval_sent=True)
    s = cfg.strategies[0]
    out["signals_lost"] = inv.signals_match_strategy(events, s.name, s.cls, s.params)
    return out


def main() -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Ray resolves "127.0.0.1" to the machine's address unless told this is a loopback-only
    # cluster; every process of the cluster inherits this.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    with tempfile.TemporaryDirectory(prefix="tlmn") as tmp:
        os.environ["RAY_TMPDIR"] = tmp  # our own session dir and address file
        out = run(sys.argv[1])
    print(json.dumps(out, default=str))
    return 0 if not out["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
