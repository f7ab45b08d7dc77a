"""``report`` from the tape and from the archive, and the analytics commands end to end."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from benchmarks.replay_tape import session_events
from cluster.analytics_cli import archive, audit, parse_interval, report
from cluster.report import analytics_from_archive, analytics_from_tape, write_report
from domain.events import Event, OrderFilled
from store import open_tape
from store.archive import export_archive

CASH = Decimal(100_000)


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return session_events(120, seed=13)


@pytest.fixture
def tape_url(tmp_path: Path, events: list[Event]) -> str:
    url = f"sqlite:///{tmp_path}/tape.sqlite"
    with open_tape(url) as t:
        for i in range(0, len(events), 500):
            t.append(events[i : i + 500])
    return url


def same(a: Any, b: Any, path: str = "") -> None:
    """Equal structures, floats within a relative 1e-7."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-7, abs=1e-9), path
    else:
        assert a == b, path


def test_the_archive_route_gives_the_metrics_of_the_tape_route(
    tape_url: str, tmp_path: Path
) -> None:
    with open_tape(tape_url) as t:
        export_archive(t, tmp_path / "archive")
        from_tape = analytics_from_tape(t, CASH)
    from_archive = analytics_from_archive(tmp_path / "archive", CASH)
    same(from_tape.metrics.model_dump(), from_archive.metrics.model_dump())
    same(from_tape.totals, from_archive.totals)
    assert from_tape.metrics.total.trades > 20
    assert set(from_tape.per_strategy) == {"meanrev", "trend", "tv"}
    assert from_tape.metrics.correlation is not None
    # a two-hour run is measured on its own one-minute bars
    assert from_tape.metrics.annualization.interval_ns == 60 * 10**9


def test_the_html_report_has_the_equity_drawdown_and_strategy_charts(
    tape_url: str, tmp_path: Path
) -> None:
    with open_tape(tape_url) as t:
        analytics = analytics_from_tape(t, CASH)
    path = write_report(analytics, tmp_path / "out" / "report.html")
    assert path is not None
    html = path.read_text()
    for chart in ("equity-chart", "drawdown-chart", "strategy-chart", "strategy-pnl-chart"):
        assert f'id="{chart}"' in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # self-contained


def cli() -> typer.Typer:
    app = typer.Typer()
    for command in (archive, audit, report):
        app.command()(command)
    return app


def test_the_commands(tape_url: str, tmp_path: Path, events: list[Event]) -> None:
    runner = CliRunner()
    app = cli()
    out = runner.invoke(app, ["archive", "--tape", tape_url])
    assert out.exit_code == 0, out.output
    root = tmp_path / "archive"  # next to the SQLite tape by default
    assert list(root.glob("date=*/part-*.parquet"))
    again = runner.invoke(app, ["archive", "--tape", tape_url])
    assert again.exit_code == 0 and "archived 0 new events" in again.output

    html = tmp_path / "r.html"
    out = runner.invoke(
        app, ["report", "--tape", tape_url, "--archive", str(root), "--html", str(html)]
    )
    assert out.exit_code == 0, out.output
    assert html.exists() and "from the archive" in out.output
    out = runner.invoke(
        app, ["report", "--tape", tape_url, "--html", str(html), "--interval", "1h"]
    )
    assert out.exit_code == 0, out.output

    fill = next(e for e in events if isinstance(e, OrderFilled))
    out = runner.invoke(app, ["audit", fill.client_order_id, "--tape", tape_url])
    assert out.exit_code == 0, out.output
    assert "SignalReceived" in out.output and "OrderFilled" in out.output
    missing = runner.invoke(app, ["audit", "nothing-like-this", "--tape", tape_url])
    assert missing.exit_code == 1


def test_parse_interval() -> None:
    assert parse_interval("auto") is None
    assert parse_interval("4h") == 4 * 3600 * 10**9
    with pytest.raises(typer.BadParameter):
        parse_interval("soon")
