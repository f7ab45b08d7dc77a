"""``tapeline demo``: the whole pipeline on local Ray, SQLite and generated data.

Market data -> MA-crossover strategy -> risk manager -> paper venue gateway -> projections, every
fact on a fresh SQLite tape; at the end the live projections are recorded on the tape and a
replay in this process must agree with them.
"""

from __future__ import annotations

import time
from pathlib import Path

import ray
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cluster.config import TapelineConfig
from cluster.render import positions_table, summary_lines
from cluster.replay import verify
from cluster.runtime import init_ray, start_system, stop_system, wait_caught_up
from store import open_tape, redact


def fresh_sqlite(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(cfg: TapelineConfig, console: Console, *, dashboard: bool, keep: bool) -> int:
    if not keep:
        fresh_sqlite(cfg.tape.url)
    t0 = time.monotonic()
    console.print(f"[bold]Tapeline demo[/] tape={redact(cfg.tape.url)}")
    started = init_ray(cfg.ray, dashboard=dashboard)
    try:
        if dashboard and started:
            console.print(f"Ray dashboard: http://127.0.0.1:{cfg.ray.dashboard_port}")
        system = start_system(cfg)
        console.print(f"actors up in {time.monotonic() - t0:.1f}s: {', '.join(system.handles())}")
        run = system.market_data.run.remote()
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} bars"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task("trading", total=cfg.market_data.bars)
            while True:
                done, _ = ray.wait([run], timeout=0.25)
                p = ray.get(system.market_data.progress.remote())
                progress.update(task, completed=p["step"], total=p["steps"])
                if done:
                    ray.get(run)
                    break
        wait_caught_up(system)
        ray.get(system.projector.record.remote())
        state = ray.get(system.projector.state.remote())
        stats = {name: ray.get(h.stats.remote()) for name, h in system.gateways.items()}
        stop_system(system)
    finally:
        if started:
            ray.shutdown()
    console.print(positions_table(state))
    for line in summary_lines(state, stats):
        console.print(line)
    with open_tape(cfg.tape.url) as tape:
        result = verify(tape, cfg.projections.starting_cash)
    if result.problems:
        console.print("[red]replay disagrees with the live projections:[/]")
        for p in result.problems:
            console.print(f"  - {p}")
        return 1
    console.print(
        f"replay of {result.events} events from the tape matches the live projections "
        f"({'; '.join(result.notes)})"
    )
    console.print(f"done in {time.monotonic() - t0:.1f}s")
    return 0
