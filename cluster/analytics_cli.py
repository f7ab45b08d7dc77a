"""The analytics commands of ``tapeline``: ``archive``, ``audit`` and ``report``.

Plain typer command functions; ``cluster/cli.py`` registers them with ``app.command()(fn)``.
Like the other commands they take ``--config`` and ``--tape`` and default to the demo tape.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote

import typer
from rich.console import Console

from cluster.config import ConfigError, TapelineConfig, load_config
from projections.performance_inputs import Annualization

console = Console()
DEMO_TAPE = "sqlite:///var/demo/tape.sqlite"

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML configuration file")]
TapeOpt = Annotated[str | None, typer.Option("--tape", help="tape URL (overrides the config)")]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def _config(path: Path | None, tape: str | None) -> TapelineConfig:
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    url = tape or (None if path else DEMO_TAPE)
    if url:
        cfg = cfg.model_copy(update={"tape": cfg.tape.model_copy(update={"url": url})})
    return cfg


def default_archive_dir(url: str) -> Path:
    """Next to a SQLite tape (``<its folder>/archive``), else ``var/archive``."""
    if url.startswith("sqlite://"):
        path = unquote(url[len("sqlite://") :])[1:]
        if path:
            return Path(path).parent / "archive"
    return Path("var/archive")


def parse_interval(text: str) -> int | None:
    """``auto`` (None: the bars' own interval) or a duration such as ``1m``, ``4h``, ``1d``."""
    if text == "auto":
        return None
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match or int(match.group(1)) == 0:
        raise typer.BadParameter(f"{text!r}: use auto or a duration like 1m, 4h, 1d")
    return int(match.group(1)) * _UNITS[match.group(2)] * 1_000_000_000


def _open(url: str):  # type: ignore[no-untyped-def]
    from store import open_tape, redact

    try:
        return open_tape(url)
    except Exception as exc:
        console.print(f"[red]cannot open tape {redact(url)}: {exc}[/]")
        raise typer.Exit(2) from None


def archive(
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="archive folder (default: next to the tape)")
    ] = None,
) -> None:
    """Export new tape events to the date-partitioned Parquet archive (incremental)."""
    from store.archive import ArchiveError, export_archive

    cfg = _config(config, tape)
    root = out or default_archive_dir(cfg.tape.url)
    with _open(cfg.tape.url) as t:
        try:
            result = export_archive(t, root)
        except ArchiveError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
    console.print(
        f"archived {result.events:,} new events into {len(result.files)} file(s) under {root}; "
        f"{result.total_events:,} events up to position {result.last_position} in total"
    )


def audit(
    ident: Annotated[str, typer.Argument(help="an event id, client order id or correlation id")],
    config: ConfigOpt = None,
    tape: TapeOpt = None,
) -> None:
    """Print the causal chain from a signal to its decisions, orders and fills, with latencies."""
    from cluster.audit import audit_chain, chain_table

    cfg = _config(config, tape)
    with _open(cfg.tape.url) as t:
        try:
            chain = audit_chain(t, ident)
        except LookupError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
    console.print(chain_table(chain))


def report(
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    archive_dir: Annotated[
        Path | None,
        typer.Option("--archive", help="rebuild from this Parquet archive instead of the tape"),
    ] = None,
    html: Annotated[Path, typer.Option("--html", help="where to write the HTML report")] = Path(
        "var/report.html"
    ),
    interval: Annotated[
        str, typer.Option(help="return bar for Sharpe etc.: auto (the bars') or 1m, 1h, 1d")
    ] = "auto",
    risk_free: Annotated[float, typer.Option(help="annual risk-free rate, e.g. 0.04")] = 0.0,
) -> None:
    """Print the performance metrics and write a self-contained HTML report."""
    from cluster.report import analytics_from_archive, analytics_from_tape, write_report

    cfg = _config(config, tape)
    cash: Decimal = cfg.projections.starting_cash
    bar = parse_interval(interval)
    ann = None if bar is None else Annualization(interval_ns=bar, risk_free_rate=risk_free)
    if archive_dir is not None:
        from store.archive import ArchiveError

        try:
            analytics = analytics_from_archive(archive_dir, cash, ann, risk_free_rate=risk_free)
        except ArchiveError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from None
    else:
        with _open(cfg.tape.url) as t:
            analytics = analytics_from_tape(t, cash, ann, risk_free_rate=risk_free)
    path = write_report(analytics, html, console)
    console.print(f"HTML report written to {path}")
