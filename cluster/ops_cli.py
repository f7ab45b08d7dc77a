"""Operating a running system: ``tapeline up``, ``tapeline actors ...``, ``tapeline apply``."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated, Any

import ray
import typer
import yaml
from rich.console import Console
from rich.table import Table

from cluster.config import ConfigError, TapelineConfig, load_config
from cluster.topology import actor_name

console = Console()
actors_app = typer.Typer(
    help="List, add and remove actors of the running system.", no_args_is_help=True
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML configuration")]
AddressOpt = Annotated[
    str | None, typer.Option("--address", help="Ray cluster to join (default: the config's)")
]


def _load(config: Path | None, address: str | None = None) -> TapelineConfig:
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    if address:
        cfg = cfg.model_copy(update={"ray": cfg.ray.model_copy(update={"address": address})})
    return cfg


def _connect(cfg: TapelineConfig) -> Any:
    """Join the running cluster and return the registry, or exit with a clear message."""
    import os

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    try:
        if not ray.is_initialized():  # in-process callers (tests, scripts) are connected already
            ray.init(
                address=cfg.ray.address or "auto",
                namespace=cfg.ray.namespace,
                log_to_driver=False,
                configure_logging=False,
            )
    except ConnectionError as exc:
        console.print(
            f"[red]no running Ray cluster to join ({exc}); start one with `tapeline up`[/]"
        )
        raise typer.Exit(2) from None
    try:
        return ray.get_actor("registry", namespace=cfg.ray.namespace)
    except ValueError:
        console.print(f"[red]no Tapeline registry in namespace {cfg.ray.namespace!r}[/]")
        raise typer.Exit(2) from None


def up(
    config: ConfigOpt = None,
    address: AddressOpt = None,
    dashboard: Annotated[bool, typer.Option(help="start the Ray dashboard")] = True,
    exit_when_ready: Annotated[bool, typer.Option(help="exit once ready (for scripts)")] = False,
) -> None:
    """Start (or join) a Ray cluster and bring up every actor the configuration describes."""
    from cluster.runtime import TapeNotShared, init_ray, start_system, stop_system

    t0 = time.monotonic()
    cfg = _load(config, address)
    started = init_ray(cfg.ray, dashboard=dashboard)
    try:
        system = start_system(cfg)
    except TapeNotShared as exc:
        console.print(f"[red]{exc}[/]")
        if started:
            ray.shutdown()
        raise typer.Exit(2) from None
    run = system.market_data.run.remote()
    ready = time.monotonic() - t0
    console.print(
        f"[green]ready[/] in {ready:.1f}s: {len(system.handles())} actors in "
        f"namespace {cfg.ray.namespace!r}"
    )
    if dashboard and started:
        console.print(f"Ray dashboard: http://127.0.0.1:{cfg.ray.dashboard_port}")
    console.print(f"READY {ready:.3f}")
    if exit_when_ready:
        if started:
            stop_system(system)
            ray.shutdown()
        return
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            done, _ = ray.wait([run], timeout=1.0)
            if done:
                ray.get(run)
                console.print("market data finished; still serving (Ctrl-C to stop)")
                run = None
                while not stopping:
                    time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        if started:
            stop_system(system)
            ray.shutdown()


@actors_app.command("list")
def actors_list(config: ConfigOpt = None, address: AddressOpt = None) -> None:
    """Role, node, state, restarts and lag behind the tape of every actor."""
    registry = _connect(_load(config, address))
    rows = ray.get(registry.list.remote())
    table = Table(title="Actors")
    for col in ("name", "kind", "node", "state", "restarts", "lag"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["kind"],
            r["node"],
            r["state"],
            str(r["restarts"]),
            "-" if r["lag"] is None else str(r["lag"]),
        )
    console.print(table)


def _params(pairs: list[str]) -> dict[str, Any]:
    """``a=1``, ``params.fast=5``, ``instruments=[BTC-USDT]``: YAML values, dotted keys nest."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE")
        key, raw = pair.split("=", 1)
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = yaml.safe_load(raw)
    return out


@actors_app.command("add")
def actors_add(
    kind: Annotated[str, typer.Argument(help="strategy, risk, gateway")],
    name: Annotated[str, typer.Argument(help="e.g. ma_fast")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE")] = None,
    config: ConfigOpt = None,
    address: AddressOpt = None,
) -> None:
    """Add an actor to the running system (recorded as ActorAdded)."""
    registry = _connect(_load(config, address))
    params = _params(param or [])
    if kind == "gateway":
        params.setdefault("name", name)
    try:
        added = ray.get(registry.add.remote(kind, actor_name(kind, name), params))
    except (ValueError, ray.exceptions.RayTaskError) as exc:
        console.print(f"[red]{getattr(exc, 'cause', exc)}[/]")
        raise typer.Exit(1) from None
    console.print(f"added {added}")


@actors_app.command("remove")
def actors_remove(
    name: Annotated[str, typer.Argument(help="actor name, e.g. strategy.ma_fast")],
    config: ConfigOpt = None,
    address: AddressOpt = None,
) -> None:
    """Remove an actor from the running system (recorded as ActorRemoved)."""
    registry = _connect(_load(config, address))
    try:
        ray.get(registry.remove.remote(name))
    except ray.exceptions.RayTaskError as exc:
        console.print(f"[red]{exc.cause}[/]")
        raise typer.Exit(1) from None
    console.print(f"removed {name}")


def apply(
    config_file: Annotated[Path, typer.Argument(help="the configuration to make so")],
    address: AddressOpt = None,
    dry_run: Annotated[bool, typer.Option(help="show the difference only")] = False,
) -> None:
    """Show the difference between the running topology and the file, then make it so."""
    cfg = _load(config_file, address)
    registry = _connect(cfg)
    payload = cfg.model_dump(mode="json", by_alias=True)
    plan = ray.get(registry.plan.remote(payload))
    if not plan:
        console.print("nothing to change")
        return
    for line in plan:
        console.print(line)
    if dry_run:
        return
    ray.get(registry.apply.remote(payload))
    console.print(f"[green]applied {len(plan)} changes[/]")
