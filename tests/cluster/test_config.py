"""The configuration file: defaults, the README's example, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cluster.config import ConfigError, TapelineConfig, load_config
from domain.risk.config import RiskConfig

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_are_a_runnable_system() -> None:
    cfg = TapelineConfig()
    assert cfg.default_venue in {v.name for v in cfg.venues}
    assert [s.name for s in cfg.strategies] == ["ma_cross"]


def test_readme_example_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(tape:.*?)```", README.read_text(), re.S)
    assert block, "README lost its configuration example"
    path = tmp_path / "tapeline.yaml"
    path.write_text(block.group(1))
    cfg = load_config(path)
    for profile in cfg.risk:
        RiskConfig.model_validate(profile.config)
    assert yaml.safe_load(block.group(1))["market_data"]["bars"] == cfg.market_data.bars


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("venues: [{name: paper}]\ndefault_venue: binance\n", "default_venue"),
        ("strategies: [{name: BAD NAME}]\n", "name"),
        ("tape: [unclosed\n", "not valid YAML"),
        ("unknown_key: 1\n", "unknown_key"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_config(path)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/tapeline.yaml")
