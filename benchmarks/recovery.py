"""Recovery and operations figures: restart with state, adding an actor, `tapeline up`.

Prints one JSON object on its last line:

- ``restart_with_state_s``: an actor with 100,000 events of history on the tape (SQLite) is
  killed (``ray.kill``, restart allowed) until it answers again with its state rebuilt; the
  slower of the projector (every read model) and the risk manager (its view). Each is the median
  of ``--rounds`` kills; ``restart_projector_s`` and ``restart_risk_s`` give both, and
  ``restart_bare_s`` is a bare actor's restart (no history) in the same run, with the ratios.
  ``fold_projector_s`` / ``fold_risk_s`` fold the same tape in this process (no Ray): the part
  of a restart that snapshots remove. Where a risk manager's restart goes:
  ``risk_restart_breakdown_s`` splits the median restart into the Ray worker start and class
  load (``worker_s``, until the actor's ``__init__`` starts), ``init_s`` (open the tape, restore
  the snapshot, fold the rest) and ``first_call_s``; ``import_ray_s`` / ``import_risk_actor_s``
  are the imports in a fresh process, ``restore_risk_s`` (load and decode the latest snapshot)
  and ``tail_risk_s`` (fold the ``risk_tail_events`` after it) the rebuild in this process.
- ``add_actor_s``: from ``tapeline actors add strategy ...`` (the CLI, in this process) to the new
  strategy having received its first bar from the running market data feed;
  ``add_actor_cli_process_s`` is the same with the CLI as its own process (Python start-up and
  imports included).
- ``up_ready_s``: ``tapeline up`` (the default configuration, dashboard on) until it prints
  ``READY``, as the command measures it; ``up_wall_s`` counts from the process launch.
- ``up_rss_mb``: the resident memory of the whole Ray system once ready (every process of the
  ``tapeline up`` process tree: driver, GCS, raylet, dashboard, workers, actors), with
  ``up_pss_mb`` (shared pages split between processes) and the RSS by process. The
  ``*_no_dashboard`` figures are the same with ``tapeline up --no-dashboard``.

Everything binds to 127.0.0.1 and Ray's temporary directory is private to the run.

Usage: ``.venv/bin/python benchmarks/recovery.py [--events 100000] [--rounds 3]``
(``--skip-up`` / ``--skip-add`` leave those figures out, for quicker runs while working on one).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_config(path: Path, tape_url: str, namespace: str, **ray: Any) -> Path:
    import yaml

    raw = {"tape": {"url": tape_url}, "ray": {"namespace": namespace, **ray}}
    path.write_text(yaml.safe_dump(raw))
    return path


# tapeline up ------------------------------------------------------------------------------------


def tree_memory(pid: int) -> dict[str, Any]:
    """RSS (shared pages counted in every process) and PSS (shared pages split) of a process
    tree, with the RSS by kind of process."""
    import psutil

    root = psutil.Process(pid)
    rss = pss = 0
    kinds: dict[str, float] = {}
    procs = [root, *root.children(recursive=True)]
    for p in procs:
        with contextlib.suppress(psutil.Error):
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            name = p.name() if p.name() not in ("python", "python3") else " ".join(p.cmdline()[1:2])
            kind = Path(name.split()[0]).name if name else "?"
            kinds[kind] = kinds.get(kind, 0.0) + info.rss / 2**20
    return {
        "up_rss_mb": round(rss / 2**20, 1),
        "up_pss_mb": round(pss / 2**20, 1),
        "up_processes": len(procs),
        "up_rss_by_process_mb": {k: round(v, 1) for k, v in sorted(kinds.items())},
    }


def bench_up(tmp: Path, dashboard: bool) -> dict[str, Any]:
    suffix = "" if dashboard else "_no_dashboard"
    cfg = _write_config(
        tmp / f"up{suffix}.yaml",
        f"sqlite:///{tmp}/up{suffix}.sqlite",
        "bench-up",
        dashboard_port=_free_port(),
        metrics_export_port=None,
    )
    flag = "--dashboard" if dashboard else "--no-dashboard"
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/tapeline"), "up", flag, "--config", str(cfg)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    ready = wall = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("READY"):
            wall = time.monotonic() - t0
            ready = float(line.split()[1])
            break
    if ready is None:
        raise RuntimeError(f"tapeline up ended without READY (exit {proc.wait()})")
    time.sleep(2.0)  # let the first steps run: the system as it serves
    memory = tree_memory(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    figures = {"up_ready_s": round(ready, 3), "up_wall_s": round(wall or 0.0, 3), **memory}
    return {f"{k}{suffix}": v for k, v in figures.items()}


# a tape with history ------------------------------------------------------------------------------


async def _record_history(url: str, target: int) -> int:
    """The real pipeline in one process (market data, paper gateway, MA crossover, risk
    manager) writing to the tape until it holds ``target`` events."""
    from actors.gateway import Gateway
    from actors.market_data import load_steps
    from actors.risk_manager import RiskManager
    from actors.settings import MarketDataConfig
    from actors.tape_access import StreamWriter
    from domain.bars import bar_to_event_fields
    from domain.events import BarClosed, SignalReceived, bar_stream, signal_stream
    from domain.strategies.base import load_strategy
    from store import open_tape

    tape = open_tape(url)
    gateway = Gateway({"name": "paper"}, tape)
    risk = RiskManager("main", {}, tape, ["paper"], "paper", lambda _: gateway)
    strategy = load_strategy("domain.strategies.ma_cross:MACrossover", "ma_cross", {})
    md_writer = StreamWriter(tape, "market_data")
    sig_writer = StreamWriter(tape, "strategy.ma_cross")
    stream = signal_stream("ma_cross")
    steps = load_steps(MarketDataConfig(bars=target // 3 + 10, interval_s=60, seed=3))
    for step in steps:
        md_writer.append(
            [
                BarClosed(
                    **md_writer.meta().envelope(
                        bar_stream(b.venue, b.instrument),
                        md_writer.next_version(bar_stream(b.venue, b.instrument)),
                    ),
                    **bar_to_event_fields(b),
                )
                for b in step
            ]
        )
        await gateway.on_bars(step)
        for bar in step:
            for sig in strategy.on_bar(bar):
                env = sig_writer.meta().envelope(stream, sig_writer.next_version(stream))
                env["correlation_id"] = str(env["event_id"])
                event = SignalReceived(**env, signal=sig, format="python")
                sig_writer.append([event])
                await risk.on_signal(event)
        if tape.max_position() >= target:
            break
    n = tape.max_position()
    tape.close()
    return n


def fold_times(url: str) -> dict[str, float]:
    from decimal import Decimal

    from actors import risk_snapshot
    from actors.risk_manager import RiskManager, fold_profile
    from cluster.replay import rebuild
    from store import open_tape

    with open_tape(url) as tape:
        t0 = time.perf_counter()
        rebuild(tape, Decimal("100000"))
        t1 = time.perf_counter()
        fold_profile(tape, "main")
        t2 = time.perf_counter()
        key = risk_snapshot.snapshot_key("risk.main", None, ())
        found = risk_snapshot.load(tape, "main", key)
        t3 = time.perf_counter()
        risk = RiskManager(
            "main", {}, tape, ["paper"], "paper", lambda _: None, apply_configured=False
        )
        t4 = time.perf_counter()
        snapshot = tape.latest_snapshot("risk.main")
    return {
        "fold_projector_s": round(t1 - t0, 3),
        "fold_risk_s": round(t2 - t1, 3),
        "restore_risk_s": round(t3 - t2, 3),
        "tail_risk_s": round(max(0.0, (t4 - t3) - (t3 - t2)), 3),
        "risk_tail_events": risk.replayed,
        "risk_snapshot_position": found[0] if found else None,
        "risk_snapshot_kb": round(len(snapshot[1]) / 1024, 1) if snapshot else None,
    }


def import_times() -> dict[str, float]:
    """The risk actor's imports in a fresh process, after ``ray`` (which a worker has)."""
    code = (
        "import time; t0 = time.perf_counter(); import ray; t1 = time.perf_counter(); "
        "import actors.risk; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    ray_s, risk_s = (float(x) for x in out.stdout.split())
    return {"import_ray_s": round(ray_s, 3), "import_risk_actor_s": round(risk_s, 3)}


# restarts ---------------------------------------------------------------------------------------


def _pid(handle: Any) -> int:
    import ray._private.state as gcs

    return int(gcs.actors()[handle._actor_id.hex()]["Pid"])


def _kill_until_served(handle: Any, call: str, ok: Any) -> tuple[float, Any, float]:
    """From ``ray.kill`` until the restarted actor answers ``call`` with ``ok`` state. Calls
    are sent once the old process is gone, so the old one cannot answer. Returns the time, the
    answer and the wall-clock time of the kill."""
    import psutil
    import ray

    ray.get(getattr(handle, call).remote(), timeout=300)  # up and serving before the kill
    old = psutil.Process(_pid(handle))
    t0 = time.perf_counter()
    wall = time.time()
    ray.kill(handle, no_restart=False)
    old.wait(timeout=60)
    while True:
        try:
            value = ray.get(getattr(handle, call).remote(), timeout=300)
        except ray.exceptions.RayActorError:
            continue
        if ok(value):
            return time.perf_counter() - t0, value, wall


def bench_restarts(url: str, rounds: int, namespace: str) -> dict[str, Any]:
    import statistics

    import ray

    from actors.projector import ProjectorActor
    from actors.risk import RiskActor
    from store import open_tape

    with open_tape(url) as tape:
        head = tape.max_position()

    @ray.remote(max_restarts=-1, max_task_retries=-1)
    class Bare:
        def ping(self) -> int:
            return 1

    opts = {"num_cpus": 0, "namespace": namespace, "max_restarts": -1}
    bare = Bare.options(**opts).remote()  # type: ignore[attr-defined]
    projector = ProjectorActor.options(name="projector", **opts).remote(
        url, "100000", 0.05, {"metrics": False}
    )
    risk = RiskActor.options(name="risk.main", **opts).remote(
        "main", {}, url, ["paper"], "paper", None, namespace
    )
    times: dict[str, list[float]] = {"bare": [], "projector": [], "risk": []}
    parts: list[tuple[float, dict[str, float]]] = []
    for _ in range(rounds):
        times["bare"].append(_kill_until_served(bare, "ping", lambda v: v == 1)[0])
        times["projector"].append(_kill_until_served(projector, "position", lambda v: v >= head)[0])
        took, stats, killed = _kill_until_served(risk, "stats", lambda v: v["lag"] == 0)
        times["risk"].append(took)
        worker = stats["init_started"] - killed
        init = stats["init_s"]
        split = {"worker_s": worker, "init_s": init, "first_call_s": took - worker - init}
        parts.append((took, {k: round(v, 3) for k, v in split.items()}))
    for h in (bare, projector, risk):
        ray.kill(h, no_restart=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    parts.sort(key=lambda p: p[0])
    return {
        "risk_restart_breakdown_s": parts[len(parts) // 2][1],
        "restart_bare_s": round(med["bare"], 3),
        "restart_projector_s": round(med["projector"], 3),
        "restart_risk_s": round(med["risk"], 3),
        "restart_with_state_s": round(max(med["projector"], med["risk"]), 3),
        "restart_projector_ratio": round(med["projector"] / med["bare"], 2),
        "restart_risk_ratio": round(med["risk"] / med["bare"], 2),
        "history_events": head,
    }


# adding an actor ----------------------------------------------------------------------------------


def _wait_first_bar(name: str, namespace: str, t0: float, timeout_s: float = 120) -> float:
    import ray

    while time.perf_counter() - t0 < timeout_s:
        try:
            handle = ray.get_actor(name, namespace=namespace)
            seen = ray.get(handle.stats.remote(), timeout=30)["seen"]
        except (ValueError, ray.exceptions.RayActorError):
            seen = {}
        if seen:
            return time.perf_counter() - t0
        time.sleep(0.005)
    raise TimeoutError(f"{name} received no bar in {timeout_s}s")


def bench_add(tmp: Path, gcs_address: str) -> dict[str, Any]:
    import ray
    from typer.testing import CliRunner

    from cluster.cli import app
    from cluster.config import load_config
    from cluster.runtime import start_system, stop_system

    namespace = "bench-add"
    path = _write_config(
        tmp / "add.yaml", f"sqlite:///{tmp}/add.sqlite", namespace, dashboard=False
    )
    cfg = load_config(path)
    system = start_system(cfg)
    out: dict[str, Any] = {}
    try:
        system.market_data.run.remote()  # plays on until the system is stopped
        while ray.get(system.market_data.progress.remote())["step"] < 30:
            time.sleep(0.05)
        t0 = time.perf_counter()
        result = CliRunner().invoke(
            app, ["actors", "add", "strategy", "added", "-c", str(path)], catch_exceptions=False
        )
        if result.exit_code != 0:
            raise RuntimeError(result.output)
        out["add_actor_s"] = round(_wait_first_bar("strategy.added", namespace, t0), 3)
        cli = [str(ROOT / ".venv/bin/tapeline"), "actors", "add", "strategy", "added_proc"]
        t0 = time.perf_counter()
        subprocess.run(
            [*cli, "-c", str(path), "--address", gcs_address],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        out["add_actor_cli_process_s"] = round(
            _wait_first_bar("strategy.added_proc", namespace, t0), 3
        )
    finally:
        stop_system(system)
    return out


def main() -> None:
    from benchmarks._common import emit, machine

    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-up", action="store_true", help="leave out the up_* figures")
    parser.add_argument("--skip-add", action="store_true", help="leave out add_actor_s")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # 127.0.0.1 only
    with tempfile.TemporaryDirectory(prefix="tlrec") as name:
        tmp = Path(name)
        os.environ["RAY_TMPDIR"] = str(tmp)  # our own Ray session dirs and address file
        figures: dict[str, Any] = {"machine": machine()}
        if not args.skip_up:
            figures.update(bench_up(tmp, dashboard=True))
            figures.update(bench_up(tmp, dashboard=False))
            print(f"up: {figures}", flush=True)

        url = f"sqlite:///{tmp}/history.sqlite"
        t0 = time.perf_counter()
        n = asyncio.run(_record_history(url, args.events))
        print(f"history: {n} events in {time.perf_counter() - t0:.1f}s", flush=True)
        figures.update(fold_times(url))
        figures.update(import_times())

        import ray

        ray.init(
            _node_ip_address="127.0.0.1",
            num_cpus=2,
            object_store_memory=80 * 2**20,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        try:
            figures.update(bench_restarts(url, args.rounds, "bench-restart"))
            print(f"restarts: {figures}", flush=True)
            if not args.skip_add:
                figures.update(bench_add(tmp, ray.get_runtime_context().gcs_address))
        finally:
            ray.shutdown()
    figures["goal_restart_with_state_s"] = 2.0
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    emit(figures)


if __name__ == "__main__":
    main()
