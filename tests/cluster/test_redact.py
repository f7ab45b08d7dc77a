"""No secret enters the tape through the topology events."""

from __future__ import annotations

from cluster.config import IngressConfig, TapelineConfig
from cluster.redact import REDACTED, redact
from cluster.topology import desired, diff


def config() -> TapelineConfig:
    return TapelineConfig(
        ingress=IngressConfig(settings={"sources": {"tv": {"secret": "hunter2-long-secret"}}}),
        alerts={
            "targets": [
                {
                    "name": "ops",
                    "kind": "slack",
                    "webhook_url": "https://hooks.example/T000/B000/XXXX",
                }
            ]
        },
    )


def test_secrets_are_redacted_in_recorded_specs() -> None:
    for spec in desired(config()).values():
        text = str(spec.recorded().model_dump())
        assert "hunter2" not in text and "hooks.example" not in text
    ingress = desired(config())["ingress"].recorded()
    assert ingress.params["settings"]["sources"]["tv"]["secret"] == REDACTED


def test_a_spec_folded_from_the_tape_equals_the_configured_one() -> None:
    wanted = desired(config())
    from_tape = {name: spec.recorded() for name, spec in wanted.items()}
    assert diff(from_tape, wanted) == []


def test_redact_keeps_structure_and_plain_values() -> None:
    assert redact({"a": 1, "api_key": "k", "nested": [{"token": "t", "x": "y"}]}) == {
        "a": 1,
        "api_key": REDACTED,
        "nested": [{"token": REDACTED, "x": "y"}],
    }
