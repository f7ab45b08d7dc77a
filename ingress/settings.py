"""Configuration of the webhook ingress: the sources, and the HTTP-wide limits.

Per-source settings (secret, formats, symbol map, rate limit, allowlist, lags, windows) are the
domain's ``SourceSettings``; this adds what only the HTTP layer needs.
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from domain.signals import SourceSettings
from domain.values import Frozen

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class IngressSettings(Frozen):
    sources: dict[str, SourceSettings] = Field(description="by name, as in /webhook/{name}")
    trusted_proxies: tuple[str, ...] = Field(
        default=(), description="addresses/networks whose X-Forwarded-For is believed"
    )
    max_body_bytes: int = Field(default=16_384, ge=64, le=1_048_576)

    @field_validator("sources")
    @classmethod
    def _names(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        for name in value:
            if not SOURCE_NAME.match(name):
                raise ValueError(
                    f"source name {name!r} must be 1-100 letters, digits, '_', '.', '-'"
                )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value
