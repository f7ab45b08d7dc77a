"""The configuration file (YAML) as pydantic models: what runs, where the tape is, limits.

Infrastructure is chosen here, never by code edits: the tape URL picks SQLite, PostgreSQL or
memory; the venue list picks gateways; strategies are loaded by import path.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from actors.settings import IngressConfig, MarketDataConfig, Section
from store import DEFAULT_URL


class TapeConfig(Section):
    url: str = DEFAULT_URL


class RayConfig(Section):
    address: str | None = Field(default=None, description="join this cluster; none starts one")
    namespace: str = "tapeline"
    num_cpus: int | None = None
    object_store_mb: int = 200
    dashboard: bool = True
    dashboard_port: int = 8265
    metrics_export_port: int | None = Field(
        default=8080, description="Prometheus endpoint of a local Ray; none lets Ray choose"
    )


class StrategyConfig(Section):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    cls: str = Field(alias="class", default="domain.strategies.ma_cross:MACrossover")
    params: dict[str, Any] = Field(default_factory=dict)
    instruments: list[str] | None = None
    risk: str = "main"


class VenueConfig(Section):
    """One venue account and its gateway. Credentials are a keystore entry's name, never inline.

    ``brackets``: ``auto`` holds a bracket's stop loss and take profit at the venue where its
    kind supports stop orders (``venues.registry.NATIVE_STOPS``) and emulates them elsewhere;
    ``emulated`` forces the system to watch prices and fire; ``native`` on a kind that cannot
    hold stops is refused when the file loads."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    kind: Literal["paper", "binance", "coinbase", "kraken", "hyperliquid"] = "paper"
    fee_rate_taker: Decimal = Decimal("0.001")
    fee_rate_maker: Decimal = Decimal("0.0005")
    slippage_bps: Decimal = Decimal("2")
    max_volume_participation: Decimal = Decimal("0.1")
    base_url: str | None = Field(default=None, description="override (local fakes, testnets)")
    credentials: str | None = Field(default=None, description="keystore entry name")
    keystore: str | None = Field(default=None, description="keystore file path")
    keystore_key_env: str | None = None
    keystore_passphrase_env: str | None = None
    allow_withdrawal_keys: bool = False
    timeout_s: float | None = None
    tier: str | None = Field(default=None, description="rate-limit tier (Kraken)")
    reconcile_interval_s: float | None = None
    resend_window_s: float | None = None
    brackets: Literal["auto", "native", "emulated"] = Field(
        default="auto", description="stop loss and take profit held at the venue or emulated"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="adapter-specific extras")

    @model_validator(mode="after")
    def _brackets(self) -> VenueConfig:
        self.native_brackets  # noqa: B018 - raises on native where the kind cannot hold stops
        return self

    @property
    def native_brackets(self) -> bool:
        """Whether this venue's bracket children rest at the venue (else they are emulated)."""
        from venues.registry import brackets_native  # the adapters' import cost only when used

        return brackets_native({"name": self.name, "kind": self.kind, "brackets": self.brackets})


class RiskProfileConfig(Section):
    name: str = "main"
    config: dict[str, Any] = Field(default_factory=dict, description="domain.risk RiskConfig")


class ProjectionConfig(Section):
    starting_cash: Decimal = Decimal("100000")
    poll_interval_s: float = 0.05


class TelemetryConfig(Section):
    """Spans for every hop (derived from the tape) and Ray metrics."""

    tracing: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:4318/v1/traces (OTLP over HTTP)"
    )
    metrics: bool = True


class TapelineConfig(Section):
    tape: TapeConfig = TapeConfig()
    ray: RayConfig = RayConfig()
    market_data: MarketDataConfig = MarketDataConfig()
    strategies: list[StrategyConfig] = Field(
        default_factory=lambda: [StrategyConfig(name="ma_cross")]
    )
    risk: list[RiskProfileConfig] = Field(default_factory=lambda: [RiskProfileConfig()])
    venues: list[VenueConfig] = Field(default_factory=lambda: [VenueConfig(name="paper")])
    default_venue: str = "paper"
    projections: ProjectionConfig = ProjectionConfig()
    ingress: IngressConfig | None = None
    telemetry: TelemetryConfig = TelemetryConfig()
    alerts: dict[str, Any] | None = Field(
        default=None, description="alerts.config.AlertsConfig: rules and notification targets"
    )

    @model_validator(mode="after")
    def _references(self) -> TapelineConfig:
        venues = {v.name for v in self.venues}
        if self.default_venue not in venues:
            raise ValueError(f"default_venue {self.default_venue!r} is not in venues {venues}")
        profiles = {r.name for r in self.risk}
        if self.ingress is not None and self.ingress.risk not in profiles:
            raise ValueError(f"ingress uses risk profile {self.ingress.risk!r}: not defined")
        for s in self.strategies:
            if s.risk not in profiles:
                raise ValueError(f"strategy {s.name!r} uses risk profile {s.risk!r}: not defined")
        return self


class ConfigError(ValueError):
    pass


def load_config(path: str | Path | None) -> TapelineConfig:
    if path is None:
        return TapelineConfig()
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"configuration file {p} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p} is not valid YAML: {exc}") from None
    env_url = os.environ.get("TAPELINE_TAPE_URL")
    if env_url:  # keeps a database password out of the file
        raw = {**raw, "tape": {**(raw.get("tape") or {}), "url": env_url}}
    try:
        return TapelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{p} is not a valid configuration:\n{exc}") from None
