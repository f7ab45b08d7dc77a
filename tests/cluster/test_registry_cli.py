"""`tapeline actors list/add/remove` and `tapeline apply` against a running system, through the
real command line (typer's runner, in this process): a strategy added at runtime gets market
data and trades from the next bar, removing it stops it, and apply shows the difference and
makes it so. Every change is on the tape."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import ray
import yaml
from typer.testing import CliRunner

from cluster.cli import app
from cluster.config import StrategyConfig, TapelineConfig
from cluster.runtime import start_system, stop_system
from domain.events import ActorAdded, ActorRemoved, ConfigApplied, SignalReceived
from store import open_tape
from tests.cluster import tape_invariants as inv

pytestmark = pytest.mark.ray

runner = CliRunner()


def write(cfg: TapelineConfig, path: Path) -> Path:
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json", by_alias=True)))
    return path


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"tapeline {' '.join(args)}:\n{result.output}{result.exception}"
    return result


def signals_of(url: str, source: str) -> list[SignalReceived]:
    with open_tape(url) as tape:
        return [
            e
            for e in inv.all_events(tape)
            if isinstance(e, SignalReceived) and e.signal.source == source
        ]


def test_actors_add_list_remove_and_apply(
    ray_cluster: object, small_config: TapelineConfig, tmp_path: Path
) -> None:
    cfg = small_config
    url = cfg.tape.url
    path = write(cfg, tmp_path / "tapeline.yaml")
    ns = cfg.ray.namespace
    system = start_system(cfg)
    try:
        md = system.market_data
        ray.get(md.run.remote(max_steps=40), timeout=60)

        listed = cli("actors", "list", "-c", str(path)).output
        for name in system.handles():
            assert name in listed
        assert "ALIVE" in listed and "UNRESPONSIVE" not in listed

        # add: warmed up from the tape, fed from the next bar on, and its signals trade
        out = cli(
            "actors", "add", "strategy", "fast", "-p", "params.fast=2", "-p", "params.slow=4",
            "-c", str(path),
        ).output  # fmt: skip
        assert "added strategy.fast" in out
        fast = ray.get_actor("strategy.fast", namespace=ns)
        added_at = ray.get(md.progress.remote())["step"]
        ray.get(md.run.remote(max_steps=1), timeout=60)
        seen = ray.get(fast.stats.remote())["seen"]
        first_bar_ts = min(seen.values())
        ray.get(md.run.remote(max_steps=60), timeout=120)
        sent = signals_of(url, "fast")
        assert sent, "the added strategy signals"
        assert min(s.signal.ts_ns for s in sent) > first_bar_ts - 1  # none for bars before

        # remove: stopped, and no signal from it afterwards
        assert (
            "removed strategy.fast"
            in cli("actors", "remove", "strategy.fast", "-c", str(path)).output
        )
        with pytest.raises(ValueError):
            ray.get_actor("strategy.fast", namespace=ns)
        before = len(signals_of(url, "fast"))
        ray.get(md.run.remote(max_steps=40), timeout=120)
        assert len(signals_of(url, "fast")) == before
        assert "strategy.fast" not in cli("actors", "list", "-c", str(path)).output

        # apply: shows the difference, a dry run changes nothing, then makes it so
        retuned = StrategyConfig(name="ma_cross", params={"fast": 5, "slow": 15})
        new_path = write(cfg.model_copy(update={"strategies": [retuned]}), tmp_path / "new.yaml")
        old_strategy = ray.get_actor("strategy.ma_cross", namespace=ns)
        dry = cli("apply", str(new_path), "--dry-run").output
        assert "~ strategy.ma_cross (strategy)" in dry
        assert ray.get_actor("strategy.ma_cross", namespace=ns)._actor_id == old_strategy._actor_id
        applied = cli("apply", str(new_path)).output
        assert "~ strategy.ma_cross (strategy)" in applied and "applied 1 changes" in applied
        new_strategy = ray.get_actor("strategy.ma_cross", namespace=ns)
        assert new_strategy._actor_id != old_strategy._actor_id
        assert "nothing to change" in cli("apply", str(new_path)).output
        steps_before = ray.get(md.progress.remote())["step"]
        ray.get(md.run.remote(), timeout=180)
        seen = ray.get(new_strategy.stats.remote())["seen"]
        assert max(seen.values()) > 0 and ray.get(md.progress.remote())["step"] > steps_before
        rows = {r["name"]: r for r in ray.get(system.registry.list.remote())}
    finally:
        stop_system(system)
        for name in ("strategy.fast",):
            with contextlib.suppress(ValueError):
                ray.kill(ray.get_actor(name, namespace=ns), no_restart=True)

    assert "strategy.fast" not in rows and rows["strategy.ma_cross"]["state"] == "ALIVE"
    assert added_at == 40
    with open_tape(url) as tape:
        events = inv.all_events(tape)
    added = [e.name for e in events if isinstance(e, ActorAdded)]
    removed = [e.name for e in events if isinstance(e, ActorRemoved)]
    assert "strategy.fast" in added and added.count("strategy.ma_cross") == 2
    assert removed == ["strategy.fast", "strategy.ma_cross"]
    applied_events = [e for e in events if isinstance(e, ConfigApplied)]
    assert ["~ strategy.ma_cross (strategy)"] in [e.changes for e in applied_events]
    assert inv.decisions(events) == []
    assert inv.orders(events, every_approval_sent=True) == []


def test_apply_adding_a_strategy_keeps_the_others_trading(
    ray_cluster: object, small_config: TapelineConfig, tmp_path: Path
) -> None:
    cfg = small_config
    extra = StrategyConfig(name="slow", params={"fast": 3, "slow": 12})
    path = write(
        cfg.model_copy(update={"strategies": [*cfg.strategies, extra]}), tmp_path / "w.yaml"
    )
    system = start_system(cfg)
    try:
        ray.get(system.market_data.run.remote(max_steps=40), timeout=60)
        assert "+ strategy.slow (strategy)" in cli("apply", str(path)).output
        ray.get(system.market_data.run.remote(), timeout=180)
    finally:
        stop_system(system)
        with contextlib.suppress(ValueError):
            ray.kill(ray.get_actor("strategy.slow", namespace=cfg.ray.namespace), no_restart=True)
    with open_tape(cfg.tape.url) as tape:
        events = inv.all_events(tape)
    assert inv.decisions(events) == []
    assert signals_of(cfg.tape.url, "slow")
