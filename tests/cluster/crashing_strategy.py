"""A strategy that kills its own process on every bar: the actor that keeps crashing.

Its warm-up replays the bars on the tape, so once it has seen one bar it dies again at every
restart, which is what the registry's quarantine is for.
"""

from __future__ import annotations

import os

from domain.bars import Bar
from domain.signal import Signal
from domain.strategies.base import Strategy


class CrashOnBar(Strategy):
    def on_bar(self, bar: Bar) -> list[Signal]:
        os._exit(1)
