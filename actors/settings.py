"""Settings the actors take, as pydantic models (the configuration file is built from them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from ingress.settings import IngressSettings

DEFAULT_INSTRUMENTS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MarketDataConfig(Section):
    source: Literal["generate", "file"] = "generate"
    venue: str = "paper"
    instruments: list[str] = Field(default_factory=lambda: list(DEFAULT_INSTRUMENTS))
    bars: int = Field(default=2000, gt=0)
    interval_s: int = Field(default=300, gt=0)
    seed: int = 7
    start_ts_ns: int = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
    files: dict[str, str] = Field(
        default_factory=dict, description="instrument -> Parquet/CSV path, for source=file"
    )
    pacing: Literal["lockstep", "realtime"] = "lockstep"
    bars_per_second: float = Field(default=1.0, gt=0, description="for realtime pacing")

    @model_validator(mode="after")
    def _files_present(self) -> MarketDataConfig:
        if self.source == "file":
            missing = [i for i in self.instruments if i not in self.files]
            if missing:
                raise ValueError(f"market_data.files has no file for {missing}")
        return self


class IngressConfig(Section):
    """The webhook ingress (TradingView and other HTTP senders): the configuration file's
    ``ingress`` section and what the ingress actor is created with (dumped to JSON).

    ``settings`` stays the plain mapping of ``ingress.settings.IngressSettings`` so that a dump
    keeps the secrets the actor needs; it is validated here, so a bad source fails at load time.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535, description="0 picks a free port")
    risk: str = "main"
    settings: dict[str, Any] = Field(
        default_factory=lambda: {"sources": {}}, description="ingress.settings.IngressSettings"
    )

    @field_validator("settings")
    @classmethod
    def _valid_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        from ingress.settings import IngressSettings

        IngressSettings.model_validate(value)
        return value

    def ingress_settings(self) -> IngressSettings:
        from ingress.settings import IngressSettings

        return IngressSettings.model_validate(self.settings)
