"""Request budgets as venues publish them: sliding windows and decaying counters.

A venue's limits are several budgets at once (Binance: request weight per minute, orders per
10 s and per day). Every request costs some units of some budgets; it may go out only when every
budget it touches has room. ``SlidingWindow`` counts in slots and charges a request to every slot
still inside the window, so no window of the published length ever holds more than the capacity.
``DecayingCounter`` is Kraken's model: a counter that each request raises and that decays at a
fixed rate. The caller passes the time; nothing here sleeps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field


class Budget:
    """One limit. ``wait_ns`` says how long until ``cost`` fits; ``take`` spends it."""

    name: str
    capacity: float

    def wait_ns(self, cost: float, now_ns: int) -> int:
        raise NotImplementedError

    def take(self, cost: float, now_ns: int) -> None:
        raise NotImplementedError

    def used(self, now_ns: int) -> float:
        raise NotImplementedError


class SlidingWindow(Budget):
    def __init__(self, name: str, capacity: int, window_ns: int, slots: int = 20) -> None:
        if capacity < 1 or window_ns < 1 or slots < 1:
            raise ValueError("a window needs a capacity, a length and slots")
        self.name = name
        self.capacity = capacity
        self.window_ns = window_ns
        self.slots = slots
        self.slot_ns = max(1, window_ns // slots)
        self._counts: deque[list[int]] = deque()  # [slot index, units]

    def _expire(self, now_ns: int) -> int:
        current = now_ns // self.slot_ns
        oldest = current - self.slots  # a slot counts while any instant of it is in the window
        while self._counts and self._counts[0][0] < oldest:
            self._counts.popleft()
        return current

    def used(self, now_ns: int) -> float:
        self._expire(now_ns)
        return sum(units for _, units in self._counts)

    def wait_ns(self, cost: float, now_ns: int) -> int:
        if cost > self.capacity:
            raise ValueError(f"{self.name}: a cost of {cost} can never fit in {self.capacity}")
        self._expire(now_ns)
        excess = self.used(now_ns) + cost - self.capacity
        if excess <= 0:
            return 0
        for index, units in self._counts:
            excess -= units
            if excess <= 0:
                return max(1, (index + self.slots + 1) * self.slot_ns - now_ns)
        return self.window_ns  # pragma: no cover - cost <= capacity always fits eventually

    def take(self, cost: float, now_ns: int) -> None:
        current = self._expire(now_ns)
        units = math.ceil(cost)
        if self._counts and self._counts[-1][0] == current:
            self._counts[-1][1] += units
        else:
            self._counts.append([current, units])


class DecayingCounter(Budget):
    def __init__(self, name: str, capacity: float, decay_per_s: float) -> None:
        if capacity <= 0 or decay_per_s <= 0:
            raise ValueError("a counter needs a positive capacity and decay")
        self.name = name
        self.capacity = capacity
        self.decay_per_ns = decay_per_s / 1e9
        self._value = 0.0
        self._at_ns = 0

    def used(self, now_ns: int) -> float:
        elapsed = max(0, now_ns - self._at_ns)
        return max(0.0, self._value - elapsed * self.decay_per_ns)

    def wait_ns(self, cost: float, now_ns: int) -> int:
        if cost > self.capacity:
            raise ValueError(f"{self.name}: a cost of {cost} can never fit in {self.capacity}")
        excess = self.used(now_ns) + cost - self.capacity
        return 0 if excess <= 0 else max(1, math.ceil(excess / self.decay_per_ns))

    def take(self, cost: float, now_ns: int) -> None:
        self._value = self.used(now_ns) + cost
        self._at_ns = now_ns


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    """How to build a budget; ``per_instrument`` budgets exist once per instrument (Kraken)."""

    kind: str  # "window" | "counter"
    capacity: float
    window_s: float = 60.0
    decay_per_s: float = 1.0
    slots: int = 20
    per_instrument: bool = False

    def build(self, name: str, headroom: float) -> Budget:
        capacity = self.capacity * headroom
        if self.kind == "window":
            window_ns = int(self.window_s * 1e9)
            return SlidingWindow(name, max(1, math.floor(capacity)), window_ns, self.slots)
        return DecayingCounter(name, capacity, self.decay_per_s)


Costs = Mapping[str, float]
"""Units per budget name for one request."""


@dataclass
class Budgets:
    """All of one key's budgets; per-instrument ones are created on first use."""

    specs: Mapping[str, BudgetSpec]
    headroom: float = 0.9
    _live: dict[str, Budget] = field(default_factory=dict)

    def _budget(self, name: str, instrument: str | None) -> Budget:
        spec = self.specs[name]
        key = f"{name}:{instrument}" if spec.per_instrument and instrument else name
        budget = self._live.get(key)
        if budget is None:
            budget = self._live[key] = spec.build(key, self.headroom)
        return budget

    def wait_ns(self, costs: Costs, now_ns: int, instrument: str | None = None) -> int:
        return max(
            (self._budget(n, instrument).wait_ns(c, now_ns) for n, c in costs.items() if c),
            default=0,
        )

    def take(self, costs: Costs, now_ns: int, instrument: str | None = None) -> None:
        for name, cost in costs.items():
            if cost:
                self._budget(name, instrument).take(cost, now_ns)

    def used(self, now_ns: int) -> dict[str, float]:
        return {key: budget.used(now_ns) for key, budget in sorted(self._live.items())}
