"""Per-source configuration of the signal layer: who may send, in which formats, how strictly.

One ``SourceSettings`` per webhook source (``/webhook/{source}``). Pure data: the HTTP layer
reads the network fields, the parsers read the rest. The secret is a ``SecretStr`` so it never
shows in a repr, a log line or a model dump.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from domain.signal import SizeKind
from domain.signals.symbols import SymbolMap
from domain.values import Frozen


class SignalFormat(StrEnum):
    NATIVE = "native"
    TRADINGVIEW = "tradingview"
    THREECOMMAS = "threecommas"
    TEXT = "text"
    PINECONNECTOR = "pineconnector"


class RateLimit(Frozen):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float = Field(default=5.0, gt=0, allow_inf_nan=False)
    burst: int = Field(default=20, ge=1)


class SourceSettings(Frozen):
    secret: SecretStr = Field(description="shared secret the sender puts inside the body")
    formats: frozenset[SignalFormat] = frozenset(SignalFormat)
    symbols: SymbolMap = SymbolMap()
    rate_limit: RateLimit | None = RateLimit()
    ip_preset: Literal["tradingview"] | None = Field(
        default=None, description="add a published sender's addresses to the allowlist"
    )
    ip_allowlist: tuple[str, ...] = Field(
        default=(), description="addresses or CIDR networks; empty (and no preset) allows any"
    )
    max_lag_s: float | None = Field(
        default=60.0, gt=0, allow_inf_nan=False, description="refuse alerts older than this"
    )
    max_future_s: float = Field(
        default=30.0, ge=0, allow_inf_nan=False, description="tolerated clock skew ahead"
    )
    dedupe_window_s: float = Field(
        default=60.0, ge=0, allow_inf_nan=False, description="same body within this is a dup"
    )
    alert_id_ttl_s: float = Field(
        default=86_400.0, ge=0, allow_inf_nan=False, description="how long alert ids are kept"
    )
    pineconnector_risk: Literal[SizeKind.QUANTITY, SizeKind.PERCENT_EQUITY] = Field(
        default=SizeKind.QUANTITY, description="what PineConnector's risk=N means"
    )

    @field_validator("secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 8:
            raise ValueError("a source secret needs at least 8 characters")
        return value

    @field_validator("ip_allowlist")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("formats")
    @classmethod
    def _some_format(cls, value: frozenset[SignalFormat]) -> frozenset[SignalFormat]:
        if not value:
            raise ValueError("a source needs at least one allowed format")
        return value
