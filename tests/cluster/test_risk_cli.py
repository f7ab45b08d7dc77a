"""The halt / resume / reduce-only commands without a running system: straight to the tape."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from actors.risk_manager import fold_profile
from cluster.risk_cli import halt, record_state_change, reduce_only, resume
from domain.events import TradingStateChanged
from domain.risk.config import TradingState
from store import open_tape


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(halt)
    app.command()(resume)
    app.command("reduce-only")(reduce_only)
    return app


def states(url: str, profile: str = "main") -> list[TradingStateChanged]:
    with open_tape(url) as tape:
        return [
            r.event
            for r in tape.iter_all()
            if isinstance(r.event, TradingStateChanged) and r.event.stream == f"risk.{profile}"
        ]


def test_offline_commands_append_state_changes_the_risk_view_folds(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/tape.sqlite"
    runner = CliRunner()
    out = runner.invoke(cli, ["halt", "--offline", "--tape", url, "--reason", "storm"])
    assert out.exit_code == 0, out.output
    said = " ".join(out.output.split())
    assert "active -> halted" in said and "recorded on the tape" in said
    out = runner.invoke(cli, ["reduce-only", "--offline", "--tape", url, "--profile", "alt"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["resume", "--offline", "--tape", url])
    assert out.exit_code == 0, out.output

    main = states(url)
    assert [(e.previous, e.state) for e in main] == [
        (TradingState.ACTIVE, TradingState.HALTED),
        (TradingState.HALTED, TradingState.ACTIVE),
    ]
    assert main[0].reason == "storm" and main[0].source == "cli"
    assert [e.state for e in states(url, "alt")] == [TradingState.REDUCING]
    with open_tape(url) as tape:
        assert fold_profile(tape, "main").state is TradingState.ACTIVE
        assert fold_profile(tape, "alt").state is TradingState.REDUCING


def test_a_bad_configuration_file_is_a_clear_error(cli: typer.Typer, tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["halt", "--offline", "--config", str(tmp_path / "nope.yaml")])
    assert out.exit_code == 2
    assert "nope.yaml not found" in " ".join(out.output.split())


def test_record_state_change_lists_open_orders_to_cancel_when_asked(tmp_path: Path) -> None:
    with open_tape("memory://") as tape:
        event = record_state_change(tape, "main", TradingState.HALTED, "x", cancel_open_orders=True)
        assert event.cancel_client_order_ids == [] and event.version == 1
        again = record_state_change(tape, "main", TradingState.HALTED, "y")
        assert (again.version, again.previous) == (2, TradingState.HALTED)


def test_with_no_system_at_the_address_the_halt_goes_to_the_tape(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/tape.sqlite"
    out = CliRunner().invoke(cli, ["halt", "--tape", url, "--address", "127.0.0.1:1"])
    assert out.exit_code == 0, out.output
    assert "recorded on the tape" in " ".join(out.output.split())
    assert [e.state for e in states(url)] == [TradingState.HALTED]
