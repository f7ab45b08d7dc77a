"""``tapeline demo``: the whole pipeline on local Ray, SQLite and generated data.

Market data -> MA-crossover strategy -> risk manager -> paper venue gateway -> projections, every
fact on a fresh SQLite tape; at the end the live projections are recorded on the tape and a
replay in this process must agree with them. When the configuration has no webhook ingress, the
demo adds one on a free local port, and after the first bars it POSTs two real webhook alerts
through it (a TradingView strategy alert and a one-line text command), so the whole path of an
alert shows too.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import ray
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cluster.config import IngressConfig, TapelineConfig
from cluster.render import positions_table, summary_lines
from cluster.replay import verify
from cluster.runtime import init_ray, start_system, stop_system, wait_caught_up
from domain.events import BarClosed
from store import open_tape, redact

DEMO_SOURCE = "demo"
WARM_UP_STEPS = 2


def with_demo_ingress(cfg: TapelineConfig) -> tuple[TapelineConfig, str | None]:
    """The configuration plus a demo webhook source (secret made up for this run), unless it
    already has an ingress; returns the secret too (None when the configuration had one)."""
    if cfg.ingress is not None:
        return cfg, None
    secret = secrets.token_urlsafe(24)
    ingress = IngressConfig(
        port=0,
        risk=cfg.risk[0].name,
        settings={"sources": {DEMO_SOURCE: {"secret": secret, "rate_limit": None}}},
    )
    return cfg.model_copy(update={"ingress": ingress}), secret


def demo_alerts(cfg: TapelineConfig, secret: str) -> list[tuple[str, bytes, str]]:
    """A TradingView strategy alert and a text command, priced at the last recorded bar."""
    closes: dict[str, str] = {}
    with open_tape(cfg.tape.url) as tape:
        for rec in tape.iter_all(topics=["BarClosed"]):
            assert isinstance(rec.event, BarClosed)
            closes[rec.event.instrument] = str(rec.event.close)
    first, *others = [i for i in cfg.market_data.instruments if i in closes]
    second = others[0] if others else first
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tradingview = {
        "secret": secret,
        "ticker": f"BINANCE:{first.replace('-', '')}",
        "exchange": "BINANCE",
        "action": "buy",
        "contracts": "0.01",
        "position_size": "0.01",
        "market_position": "long",
        "prev_market_position": "flat",
        "order_id": "Long",
        "price": closes[first],
        "time": now,
    }
    command = f"buy {second} 0.1 price={closes[second]} time={now} secret={secret}"
    return [
        ("TradingView strategy alert", orjson.dumps(tradingview), "application/json"),
        ("text command", command.encode(), "text/plain"),
    ]


def post_demo_alerts(system: Any, cfg: TapelineConfig, secret: str, console: Console) -> None:
    ray.get(system.market_data.run.remote(max_steps=WARM_UP_STEPS))
    address = ray.get(system.ingress.address.remote())
    console.print(f"webhook ingress: {address}/webhook/{DEMO_SOURCE}")
    with httpx.Client(base_url=address, timeout=10) as http:
        for label, body, kind in demo_alerts(cfg, secret):
            t0 = time.perf_counter()
            answer = http.post(
                f"/webhook/{DEMO_SOURCE}", content=body, headers={"content-type": kind}
            )
            took = (time.perf_counter() - t0) * 1000
            if answer.status_code == 200:
                a = answer.json()
                console.print(
                    f"  POST {label}: 200 in {took:.1f} ms, {a['intent']} {a['instrument']} "
                    f"(signal {a['signal_id'][:8]}, durable on the tape)"
                )
            else:
                console.print(f"  POST {label}: {answer.status_code} {answer.json().get('error')}")


def fresh_sqlite(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(cfg: TapelineConfig, console: Console, *, dashboard: bool, keep: bool) -> int:
    if not keep:
        fresh_sqlite(cfg.tape.url)
    # a kept tape records the last demo's ingress redacted; the registry would restart it from
    # that record, secretless, so the webhook part runs on fresh tapes only
    cfg, demo_secret = with_demo_ingress(cfg) if not keep else (cfg, None)
    t0 = time.monotonic()
    console.print(f"[bold]Tapeline demo[/] tape={redact(cfg.tape.url)}")
    started = init_ray(cfg.ray, dashboard=dashboard)
    try:
        if dashboard and started:
            console.print(f"Ray dashboard: http://127.0.0.1:{cfg.ray.dashboard_port}")
        system = start_system(cfg)
        console.print(f"actors up in {time.monotonic() - t0:.1f}s: {', '.join(system.handles())}")
        if demo_secret is not None:
            post_demo_alerts(system, cfg, demo_secret, console)
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
