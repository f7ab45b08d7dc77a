"""Settings the actors take, as pydantic models (the configuration file is built from them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
