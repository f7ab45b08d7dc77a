"""The ingress section of the configuration (``actors.settings.IngressConfig``): checked when
it is loaded, and dumped for the actor with the secrets it needs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from actors.settings import IngressConfig

SECRET = "tv-Secret-8f3a-config"


def test_a_dump_keeps_what_the_actor_needs() -> None:
    cfg = IngressConfig(port=0, settings={"sources": {"tv": {"secret": SECRET}}})
    again = IngressConfig.model_validate(cfg.model_dump(mode="json"))
    settings = again.ingress_settings()
    assert settings.sources["tv"].secret.get_secret_value() == SECRET
    assert again.port == 0 and again.risk == "main"


@pytest.mark.parametrize(
    "settings",
    [
        {"sources": {"tv": {"secret": "short"}}},
        {"sources": {"bad name/": {"secret": SECRET}}},
        {"sources": {}, "max_body_bytes": 1},
        {"sources": {"tv": {"secret": SECRET, "no_such_setting": 1}}},
    ],
)
def test_invalid_ingress_settings_fail_at_load(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        IngressConfig(settings=settings)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        IngressConfig.model_validate({"port": 1, "listen": "0.0.0.0"})
