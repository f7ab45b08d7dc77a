"""Which venues hold bracket children natively: the configuration's ``brackets`` per venue, the
risk actor's parameters built from it (``tapeline up``/``apply``), the same list from the recorded
topology (``actors add`` after a registry restart), and the spawn call that hands it over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cluster.config import ConfigError, TapelineConfig, VenueConfig, load_config
from cluster.spawn import spawn
from cluster.topology import ActorSpec, desired, diff, native_bracket_venues
from venues.registry import native_stop_kinds


def venues_config(*venues: VenueConfig) -> TapelineConfig:
    return TapelineConfig(venues=list(venues), default_venue=venues[0].name, strategies=[])


MIXED = venues_config(
    VenueConfig(name="paper"),
    VenueConfig(name="shadow", brackets="emulated"),
    VenueConfig(name="binance", kind="binance", credentials="main"),
    VenueConfig(name="hl", kind="hyperliquid", credentials="main"),
)


def test_paper_and_hyperliquid_hold_stops_the_ccxt_venues_do_not() -> None:
    assert native_stop_kinds() == {"paper", "hyperliquid"}
    assert [v.native_brackets for v in MIXED.venues] == [True, False, False, True]


@pytest.mark.parametrize("kind", ["binance", "kraken", "coinbase"])
def test_native_brackets_on_a_venue_that_cannot_hold_stops_is_refused_at_load(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        f"venues: [{{name: x, kind: {kind}, credentials: main, brackets: native}}]\n"
        "default_venue: x\n"
    )
    with pytest.raises(ConfigError, match=f"brackets: native, but {kind}"):
        load_config(path)


def test_an_unknown_bracket_mode_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("venues: [{name: paper, brackets: sometimes}]\n")
    with pytest.raises(ConfigError, match="brackets"):
        load_config(path)


def test_native_and_emulated_by_hand_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "venues:\n"
        "  - {name: paper, brackets: native}\n"
        "  - {name: hl, kind: hyperliquid, credentials: main, brackets: emulated}\n"
    )
    cfg = load_config(path)
    assert [v.native_brackets for v in cfg.venues] == [True, False]


def test_the_risk_actor_is_given_the_native_venues() -> None:
    specs = desired(MIXED)
    assert specs["risk.main"].params["native_bracket_venues"] == ["hl", "paper"]
    assert "brackets" not in specs["gateway.paper"].params  # the default keeps its digest
    assert specs["gateway.shadow"].params["brackets"] == "emulated"


def test_the_recorded_topology_gives_the_same_venues() -> None:
    """``actors add risk`` fills the list from the topology the registry holds; after a restart
    that topology is folded from the tape, where parameters are recorded redacted."""
    recorded = [s.recorded() for s in desired(MIXED).values()]
    assert native_bracket_venues(recorded) == ["hl", "paper"]


def test_changing_a_venues_bracket_mode_replaces_its_risk_actor() -> None:
    """The risk actor takes its native venues when created: a change needs a new actor (it
    rebuilds from the tape), not a live reconfiguration."""
    before = desired(venues_config(VenueConfig(name="paper")))
    after = desired(venues_config(VenueConfig(name="paper", brackets="emulated")))
    actions = {c.name: c.action for c in diff(before, after)}
    assert actions["risk.main"] == "replace"


class _Recorder:
    """Stands in for the Ray actor class: records the constructor arguments."""

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    @classmethod
    def options(cls, **opts: Any) -> type[_Recorder]:
        return cls

    @classmethod
    def remote(cls, *args: Any, **kwargs: Any) -> str:
        cls.calls.append((args, kwargs))
        return "handle"


def test_spawn_hands_the_native_venues_to_the_risk_actor(monkeypatch: pytest.MonkeyPatch) -> None:
    import actors.risk

    monkeypatch.setattr(actors.risk, "RiskActor", _Recorder)
    _Recorder.calls.clear()
    spec: ActorSpec = desired(MIXED)["risk.main"]
    assert spawn(spec, "memory://", "ns") == "handle"
    ((args, kwargs),) = _Recorder.calls
    assert kwargs["native_bracket_venues"] == ["hl", "paper"]
    assert args[3:5] == (["paper", "shadow", "binance", "hl"], "paper")
