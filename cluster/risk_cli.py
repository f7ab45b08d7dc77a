"""``tapeline halt | resume | reduce-only``, and the risk part of ``tapeline apply``.

The commands ask the running risk actor (``risk.<profile>`` in the configuration's namespace), so
a halt takes effect at once and, with ``--cancel-open-orders``, the gateways cancel every open
order. With no running system they append the same ``TradingStateChanged`` to the tape instead;
the risk actor folds it when it starts (and cancels what the halt listed then).

``halt``, ``resume`` and ``reduce_only`` are plain typer command functions; ``cluster.cli``
registers them as top-level commands.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cluster.config import ConfigError, TapelineConfig, load_config
from domain.events import TradingStateChanged, decision_stream
from domain.risk import control
from domain.risk.config import TradingState
from store import ConcurrencyConflict, Tape, open_tape, redact

console = Console()
CALL_TIMEOUT_S = 60.0


class RiskControlError(RuntimeError):
    """The risk actor could not be reached or refused the request (the message says why)."""


# the work, usable without the command line ---------------------------------------------------


def risk_actor(profile: str, namespace: str) -> Any:
    """The running risk actor of ``profile`` (Ray must be connected)."""
    import ray

    try:
        return ray.get_actor(f"risk.{profile}", namespace=namespace)
    except ValueError:
        raise RiskControlError(
            f"no running risk actor 'risk.{profile}' in Ray namespace {namespace!r}"
        ) from None


def apply_risk_config(profile: str, config: dict[str, Any], namespace: str) -> str:
    """Record a new risk configuration through the running actor (``RiskConfigApplied``); the
    next signal is decided with it. Returns the configuration's digest (unchanged: no event)."""
    import ray

    from domain.risk.config import RiskConfig

    try:
        RiskConfig.model_validate(config)
    except ValueError as exc:
        raise RiskControlError(f"risk profile {profile!r}: invalid configuration: {exc}") from None
    actor = risk_actor(profile, namespace)
    return str(ray.get(actor.apply_config.remote(config), timeout=CALL_TIMEOUT_S))


def record_state_change(
    tape: Tape,
    profile: str,
    state: TradingState,
    reason: str,
    *,
    cancel_open_orders: bool = False,
) -> TradingStateChanged:
    """Append a state change for ``profile`` straight to the tape (no running system)."""
    from actors.risk_manager import fold_profile
    from actors.tape_access import StreamWriter

    stream = decision_stream(profile)
    writer = StreamWriter(tape, "cli")
    for _ in range(5):
        view = fold_profile(tape, profile)
        event = control.change_state(
            view,
            state,
            writer.meta(),
            stream,
            writer.next_version(stream),
            reason=reason,
            cancel_open_orders=cancel_open_orders,
        )
        try:
            writer.append([event])
        except ConcurrencyConflict:
            continue
        return event
    raise RiskControlError(f"risk stream {stream} keeps changing; try again")


def _reachable(address: str) -> None:
    """Fail fast on an explicit ``host:port`` nobody listens on (Ray itself retries for minutes)."""
    if address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=2).close()
    except (OSError, ValueError) as exc:
        raise RiskControlError(f"no running Ray cluster at {address!r} ({exc})") from None


def _connect(address: str, namespace: str) -> bool:
    """Join the running Ray cluster; False when there is none. Returns whether we joined."""
    import ray

    if ray.is_initialized():
        return False
    _reachable(address)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=address, namespace=namespace, log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RiskControlError(f"no running Ray cluster at {address!r} ({exc})") from None
    return True


def change_state(
    cfg: TapelineConfig,
    profile: str,
    state: TradingState,
    reason: str,
    *,
    cancel_open_orders: bool = False,
    address: str | None = None,
    offline: bool = False,
) -> dict[str, Any]:
    """Ask the running risk actor; without one, record on the tape. Says which it did."""
    import ray

    where = address or cfg.ray.address or "auto"
    problem = "--offline given"
    if not offline:
        joined = False
        try:
            joined = _connect(where, cfg.ray.namespace)
            actor = risk_actor(profile, cfg.ray.namespace)
            method = {
                TradingState.HALTED: lambda: actor.halt.remote(reason, cancel_open_orders),
                TradingState.REDUCING: lambda: actor.reduce_only.remote(reason, cancel_open_orders),
                TradingState.ACTIVE: lambda: actor.resume.remote(reason),
            }[state]
            result = dict(ray.get(method(), timeout=CALL_TIMEOUT_S))
            return {**result, "via": "actor"}
        except RiskControlError as exc:
            problem = str(exc)
        finally:
            if joined:
                ray.shutdown()
    try:
        tape = open_tape(cfg.tape.url)
    except Exception as exc:
        raise RiskControlError(
            f"{problem}, and the tape {redact(cfg.tape.url)} cannot be opened: {exc}"
        ) from None
    with tape:
        event = record_state_change(
            tape, profile, state, reason, cancel_open_orders=cancel_open_orders
        )
    return {
        "profile": profile,
        "state": event.state.value,
        "previous": event.previous.value,
        "cancel_requested": list(event.cancel_client_order_ids),
        "via": "tape",
        "note": problem,
    }


# the commands ----------------------------------------------------------------------------------

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML configuration file")]
TapeOpt = Annotated[
    str | None, typer.Option("--tape", help="tape URL used when no system runs (default: config)")
]
AddressOpt = Annotated[
    str | None,
    typer.Option("--address", help="Ray address of the running system (default: config, 'auto')"),
]
ProfileOpt = Annotated[str, typer.Option("--profile", help="risk profile (actor risk.<profile>)")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="append to the tape without looking for a running system")
]
CancelOpt = Annotated[
    bool,
    typer.Option("--cancel-open-orders", help="also cancel every open order at the venues"),
]


def _run(
    state: TradingState,
    reason: str,
    cancel_open_orders: bool,
    profile: str,
    config: Path | None,
    tape: str | None,
    address: str | None,
    offline: bool,
) -> None:
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    if tape:
        cfg = cfg.model_copy(update={"tape": cfg.tape.model_copy(update={"url": tape})})
    try:
        out = change_state(
            cfg,
            profile,
            state,
            reason,
            cancel_open_orders=cancel_open_orders,
            address=address,
            offline=offline,
        )
    except RiskControlError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    n = len(out["cancel_requested"])
    console.print(
        f"risk.{profile}: {out['previous']} -> [bold]{out['state']}[/]"
        + (f", canceling {n} open order(s)" if cancel_open_orders else "")
    )
    if out["via"] == "tape":
        console.print(
            f"[yellow]{out['note']}: recorded on the tape {redact(cfg.tape.url)}; "
            "the risk manager applies it when it starts[/]"
        )


def halt(
    cancel_open_orders: CancelOpt = False,
    reason: Annotated[str, typer.Option(help="why, recorded on the tape")] = "halted by hand",
    profile: ProfileOpt = "main",
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    address: AddressOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Kill switch: refuse every new order until `tapeline resume`."""
    _run(TradingState.HALTED, reason, cancel_open_orders, profile, config, tape, address, offline)


def resume(
    reason: Annotated[str, typer.Option(help="why, recorded on the tape")] = "resumed by hand",
    profile: ProfileOpt = "main",
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    address: AddressOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Trade again (state ACTIVE)."""
    _run(TradingState.ACTIVE, reason, False, profile, config, tape, address, offline)


def reduce_only(
    cancel_open_orders: CancelOpt = False,
    reason: Annotated[str, typer.Option(help="why, recorded on the tape")] = "reducing by hand",
    profile: ProfileOpt = "main",
    config: ConfigOpt = None,
    tape: TapeOpt = None,
    address: AddressOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Only orders that reduce exposure pass (state REDUCING)."""
    _run(TradingState.REDUCING, reason, cancel_open_orders, profile, config, tape, address, offline)
