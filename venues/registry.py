"""Builds a venue adapter from its configuration entry (``kind`` picks the adapter)."""

from __future__ import annotations

from typing import Any

from venues.base import VenueAdapter


def build_adapter(cfg: dict[str, Any]) -> VenueAdapter:
    kind = cfg.get("kind", "paper")
    if kind == "paper":
        from venues.paper.adapter import build

        return build(cfg)
    raise ValueError(f"unknown venue kind {kind!r} for venue {cfg.get('name')!r}")
