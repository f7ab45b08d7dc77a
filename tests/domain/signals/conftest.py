"""Shared fixtures for the signal parser tests: one source's settings and a fixed 'now'."""

from __future__ import annotations

import pytest

from domain.signals import SourceSettings

SECRET = "tv-Secret-8f3a"
NOW_NS = 1_714_564_800_000_000_000
"""2024-05-01T12:00:00Z"""
NOW_ISO = "2024-05-01T12:00:00Z"


@pytest.fixture
def settings() -> SourceSettings:
    return SourceSettings(secret=SECRET)
