"""Exponential backoff with full jitter for retried reads.

The delay before retry ``attempt`` (0-based) is uniform in ``[0, min(cap, base * 2**attempt))``:
spread out so many clients recovering at once do not hammer the venue together. The uniform draw
``u`` in [0, 1) is passed in (from a seeded generator in tests), so this stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    base_s: float = 0.05
    cap_s: float = 2.0
    max_attempts: int = 5

    def ceiling(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * (2 ** min(attempt, 62)))

    def delay(self, attempt: int, u: float) -> float:
        """Full jitter: ``u * ceiling(attempt)``, with ``u`` drawn uniformly from [0, 1)."""
        if not 0.0 <= u < 1.0:
            raise ValueError("u must be drawn from [0, 1)")
        return u * self.ceiling(attempt)

    def wait(self, attempt: int, u: float, retry_after_s: float | None = None) -> float:
        """The delay, but never shorter than a venue's Retry-After."""
        jittered = self.delay(attempt, u)
        return max(jittered, retry_after_s) if retry_after_s is not None else jittered
