"""The plugin interface for Python signal sources, and the loader that finds a plugin by path.

A strategy is pure: it turns bars (and optionally public trades) into canonical ``Signal`` values
and keeps only state that follows from the inputs it has seen. That is what makes it restartable:
a strategy actor that comes back rebuilds the exact same state by replaying the bars on the tape
through ``warm_up`` (the signals produced then were recorded the first time and are dropped).
Strategies read no clock and no files; the signal's time comes from the bar.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from domain.bars import Bar
from domain.signal import Signal


class StrategyParams(BaseModel):
    """Base of a strategy's parameters: frozen and strict, so a typo in a config is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Strategy(ABC):
    """Base class of Python signal sources.

    Subclasses set ``Params`` to their own ``StrategyParams`` model and implement ``on_bar``.
    ``on_bar`` must be deterministic in the sequence of bars it has been given, so that
    replaying the same bars rebuilds the same state.
    """

    Params: ClassVar[type[StrategyParams]] = StrategyParams

    def __init__(self, name: str, params: StrategyParams | Mapping[str, Any] | None = None) -> None:
        if not name:
            raise ValueError("a strategy needs a name")
        self.name = name
        if isinstance(params, self.Params):
            self.params: StrategyParams = params
        else:
            self.params = self.Params.model_validate(dict(params or {}))

    @property
    def warmup_bars(self) -> int:
        """Bars per instrument needed before the strategy can signal (information only)."""
        return 0

    @abstractmethod
    def on_bar(self, bar: Bar) -> list[Signal]:
        """Consume one closed bar; return the signals it triggers (often none)."""

    def on_trade(self, trade: Any) -> list[Signal]:
        """Consume one public trade; strategies that only use bars ignore trades."""
        return []

    def warm_up(self, bars: Iterable[Bar]) -> int:
        """Rebuild state by replaying bars in order; signals are dropped. Returns bars replayed."""
        n = 0
        for bar in bars:
            self.on_bar(bar)
            n += 1
        return n

    def replay(self, bars: Iterable[Bar]) -> list[Signal]:
        """Feed bars in order and collect every signal (backtests, verification)."""
        out: list[Signal] = []
        for bar in bars:
            out.extend(self.on_bar(bar))
        return out

    def state(self) -> dict[str, Any]:
        """A JSON-friendly view of the internal state, for inspection and tests."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, params={self.params!r})"


def load_strategy(import_path: str, name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """Instantiate the ``Strategy`` subclass at ``"package.module:ClassName"``."""
    module_name, sep, class_name = import_path.partition(":")
    if not sep or not module_name or not class_name:
        raise ValueError(f"strategy path {import_path!r} is not 'package.module:ClassName'")
    module = importlib.import_module(module_name)
    try:
        cls = getattr(module, class_name)
    except AttributeError:
        raise ImportError(f"{module_name} has no attribute {class_name!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"{import_path} is not a Strategy subclass")
    return cls(name, params or {})
