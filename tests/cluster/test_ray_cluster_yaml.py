"""The cluster-launcher files pass Ray's own validation (what `ray up` runs before anything
else), install the project on every node and start Tapeline with commands the CLI accepts."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from cluster.cli import app

ROOT = Path(__file__).resolve().parents[2]
FILES = ["ray_cluster.yaml", "ray_cluster.onprem.yaml"]


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())


def prepared(raw: dict[str, Any]) -> dict[str, Any]:
    """What `ray up` does first: fill in the provider's defaults, then validate."""
    config = prepare_config(copy.deepcopy(raw))
    validate_config(config)
    return config


@pytest.mark.parametrize("name", FILES)
def test_ray_validates_the_launcher_file(name: str) -> None:
    config = prepared(load(name))
    assert config["head_node_type"] in config["available_node_types"]
    assert config["max_workers"] >= 1


def test_cloud_file_has_head_and_worker_node_types() -> None:
    config = prepared(load("ray_cluster.yaml"))
    assert config["provider"]["type"] == "aws"
    types = config["available_node_types"]
    workers = [t for t in types if t != config["head_node_type"]]
    assert workers and all(types[t]["min_workers"] >= 1 for t in workers)


def test_onprem_file_is_the_local_provider_with_workers() -> None:
    config = prepared(load("ray_cluster.onprem.yaml"))
    assert config["provider"]["type"] == "local"
    assert config["provider"]["worker_ips"]
    (node_type,) = config["available_node_types"].values()
    assert node_type["min_workers"] == len(config["provider"]["worker_ips"])


@pytest.mark.parametrize("name", FILES)
def test_validation_rejects_a_misspelt_field(name: str) -> None:
    raw = load(name)
    raw["setup_comands"] = raw.pop("setup_commands")
    with pytest.raises(jsonschema.ValidationError):
        prepared(raw)


def _commands(config: dict[str, Any], key: str) -> list[str]:
    return [" ".join(c.split()) for c in config[key]]


def _tapeline_args(command: str) -> list[str]:
    words = shlex.split(command.split("&&")[-1].split(";")[-1])
    start = next(i for i, w in enumerate(words) if w.rsplit("/", 1)[-1] == "tapeline")
    out = []
    for w in words[start + 1 :]:
        if w in (">", "2>&1", "&") or w.startswith(">"):
            break
        out.append(w)
    return out


@pytest.mark.parametrize("name", FILES)
def test_every_node_installs_the_project_and_the_head_starts_tapeline(name: str) -> None:
    config = prepared(load(name))
    mounts: dict[str, str] = config["file_mounts"]
    assert "." in mounts.values(), "the repository is copied to every node"
    remote = next(k for k, v in mounts.items() if v == ".").replace("~", "$HOME")
    installs = [c for c in _commands(config, "setup_commands") if "pip install" in c]
    assert any(f"{remote}[postgres]" in c for c in installs), installs

    head = [c for c in _commands(config, "head_start_ray_commands") if "tapeline up" in c]
    assert len(head) == 1
    args = _tapeline_args(head[0])
    assert args[:3] == ["up", "--address", "auto"]
    group = typer.main.get_command(app)
    command = group.commands["up"]  # type: ignore[attr-defined]
    ctx = command.make_context("up", args[1:])  # the CLI accepts every option used
    assert ctx.params["address"] == "auto"
    starts = " ".join(_commands(config, "head_start_ray_commands"))
    assert "ray start --head" in starts
    assert any("ray start --address" in c for c in _commands(config, "worker_start_ray_commands"))
