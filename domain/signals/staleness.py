"""Stale alerts are refused: an alert that arrives minutes late would trade on an old price.

Judged by the alert's own time (``{{timenow}}``, ``ts_ns``, ...) against the receipt time the
caller passes in. Alerts claiming a time too far ahead are refused as well (a wrong clock, or an
attempt to stretch the window). Alerts without a time carry their receipt time and are fresh.
"""

from __future__ import annotations

from domain.signals.refusal import RefusalCode, Refused

NS_PER_S = 1_000_000_000


def check_fresh(ts_ns: int, now_ns: int, max_lag_s: float | None, max_future_s: float) -> None:
    """Raise ``Refused(stale | from_future)`` unless ``ts_ns`` is within the allowed window."""
    if ts_ns > now_ns + int(max_future_s * NS_PER_S):
        ahead = (ts_ns - now_ns) / NS_PER_S
        raise Refused(
            RefusalCode.FROM_FUTURE,
            f"the alert time is {ahead:.1f} s in the future (at most {max_future_s:g} s allowed)",
        )
    if max_lag_s is not None and now_ns - ts_ns > int(max_lag_s * NS_PER_S):
        lag = (now_ns - ts_ns) / NS_PER_S
        raise Refused(
            RefusalCode.STALE,
            f"the alert is {lag:.1f} s old, older than the allowed {max_lag_s:g} s",
        )


def effective_lag(configured: float | None, requested: float | None) -> float | None:
    """The stricter of the source's limit and the limit the body asked for."""
    if configured is None:
        return requested
    if requested is None:
        return configured
    return min(configured, requested)
