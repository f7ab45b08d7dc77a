"""The ``tapeline`` command line."""

from __future__ import annotations

import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cluster.analytics_cli import archive, audit, report
from cluster.config import ConfigError, TapelineConfig, load_config
from cluster.keys_cli import app as keys_app
from cluster.ops_cli import actors_app, apply, up
from cluster.risk_cli import halt, reduce_only, resume

app = typer.Typer(
    name="tapeline",
    help="Event-sourced crypto trading on Ray: signals, risk, execution, analytics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML configuration file", exists=False)
]
TapeOpt = Annotated[str | None, typer.Option("--tape", help="tape URL (overrides the config)")]

DEMO_TAPE = "sqlite:///var/demo/tape.sqlite"


def _config(path: Path | None, tape: str | None = None) -> TapelineConfig:
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    if tape:
        cfg = cfg.model_copy(update={"tape": cfg.tape.model_copy(update={"url": tape})})
    return cfg


@app.command()
def demo(
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    bars: Annotated[int | None, typer.Option(help="bars per instrument")] = None,
    dashboard: Annotated[
        bool | None, typer.Option(help="start the Ray dashboard (default: on, off under CI)")
    ] = None,
    keep: Annotated[bool, typer.Option(help="append to an existing demo tape")] = False,
) -> None:
    """Run the whole pipeline locally on generated data and print positions and P&L."""
    from cluster.demo import run_demo

    cfg = _config(config, tape or (None if config else DEMO_TAPE))
    if bars is not None:
        md = cfg.market_data.model_copy(update={"bars": bars})
        cfg = cfg.model_copy(update={"market_data": md})
    if dashboard is None:
        dashboard = not os.environ.get("CI")
    raise typer.Exit(run_demo(cfg, console, dashboard=dashboard, keep=keep))


@app.command()
def replay(
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    verify_: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="exit non-zero when a stream has a gap or a rebuilt "
            "projection differs from what was recorded live",
        ),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="rebuild as it stood at this instant (ISO time or ns)"),
    ] = None,
) -> None:
    """Rebuild every projection from the tape (optionally as it stood at an instant)."""
    import time

    from cluster.render import positions_table, summary_lines
    from cluster.replay import rebuild, verify
    from store import open_tape, redact

    cfg = _config(config, tape or (None if config else DEMO_TAPE))
    cash: Decimal = cfg.projections.starting_cash
    try:
        t = open_tape(cfg.tape.url)
    except Exception as exc:
        console.print(f"[red]cannot open tape {redact(cfg.tape.url)}: {exc}[/]")
        raise typer.Exit(2) from None
    with t:
        t0 = time.perf_counter()
        if as_of is not None:
            from cluster.audit import parse_time, rebuild_as_of

            try:
                as_of_ns = parse_time(as_of)
            except ValueError as exc:
                console.print(f"[red]{exc}[/]")
                raise typer.Exit(2) from None
            result = rebuild_as_of(t, cash, as_of_ns)
        else:
            result = verify(t, cash) if verify_ else rebuild(t, cash)
        elapsed = time.perf_counter() - t0
    console.print(positions_table(result.bundle.state()))
    for line in summary_lines(result.bundle.state(), {}):
        console.print(line)
    console.print(
        f"rebuilt from {result.events} events up to position {result.position} in {elapsed:.2f}s"
    )
    for note in result.notes:
        console.print(note)
    if result.problems:
        for p in result.problems:
            console.print(f"[red]{p}[/]")
        raise typer.Exit(1)
    if verify_:
        console.print("[green]verified: no gaps, rebuilt projections equal the recorded ones[/]")


app.add_typer(keys_app, name="keys", help="Manage venue credentials in the encrypted keystore.")
app.add_typer(actors_app, name="actors")
app.command()(up)
app.command()(apply)
app.command()(halt)
app.command()(resume)
app.command("reduce-only")(reduce_only)
app.command()(archive)
app.command()(audit)
app.command()(report)


def main() -> None:  # pragma: no cover
    sys.exit(app())
