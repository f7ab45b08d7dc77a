"""Per-source token bucket: ``burst`` requests at once, refilled at ``per_second``.

Pure logic with the time passed in; a clock that steps backwards refills nothing. ``take``
answers how long to wait when the bucket is empty, which becomes HTTP 429's Retry-After.
"""

from __future__ import annotations

from domain.signals.staleness import NS_PER_S


class TokenBucket:
    def __init__(self, per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a token bucket needs per_second > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = burst
        self._tokens = float(burst)
        self._last_ns: int | None = None

    def take(self, now_ns: int) -> float:
        """Spend one token: 0.0 if granted, else the seconds until one will be available."""
        if self._last_ns is not None and now_ns > self._last_ns:
            elapsed = (now_ns - self._last_ns) / NS_PER_S
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.per_second)
        if self._last_ns is None or now_ns > self._last_ns:
            self._last_ns = now_ns
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.per_second
