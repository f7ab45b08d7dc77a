"""Duplicate deliveries yield at most one signal: by alert id, or by the same body in a window.

State is in memory and per source, with time passed in; the caller reserves a key before the
signal is made durable and releases it if that fails, so two concurrent copies of one alert
cannot both pass. ``remember_alert_id`` lets an actor seed the ids back from the tape on restart.
The body fingerprint excludes the secret, so it can be stored or logged safely.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from domain.signals.refusal import RefusalCode, Refused, show
from domain.signals.staleness import NS_PER_S

DEFAULT_MAX_ENTRIES = 100_000


def fingerprint(body: str, secret: str) -> str:
    """A secret-free hash of a body: sha256 of the stripped text with the secret removed."""
    text = body.strip()
    if secret:
        text = text.replace(secret, "")
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Deduper:
    """Remembers recent alert ids (``alert_id_ttl_s``) and body fingerprints (``window_s``)."""

    def __init__(
        self, window_s: float, alert_id_ttl_s: float, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self._window_ns = int(window_s * NS_PER_S)
        self._ttl_ns = int(alert_id_ttl_s * NS_PER_S)
        self._max = max_entries
        self._ids: OrderedDict[str, int] = OrderedDict()
        self._bodies: OrderedDict[str, int] = OrderedDict()

    def reserve(self, alert_id: str | None, body_fingerprint: str, now_ns: int) -> None:
        """Raise ``Refused(duplicate)`` if seen; otherwise remember both keys from now on."""
        self._evict(now_ns)
        if alert_id is not None and alert_id in self._ids:
            raise Refused(RefusalCode.DUPLICATE, f"alert id {show(alert_id)} was already received")
        if body_fingerprint in self._bodies:
            raise Refused(
                RefusalCode.DUPLICATE,
                "the same body was already received within the last "
                f"{self._window_ns / NS_PER_S:g} s",
            )
        if alert_id is not None and self._ttl_ns > 0:
            self._ids[alert_id] = now_ns + self._ttl_ns
        if self._window_ns > 0:
            self._bodies[body_fingerprint] = now_ns + self._window_ns
        self._evict(now_ns)

    def release(self, alert_id: str | None, body_fingerprint: str) -> None:
        """Forget a reservation whose signal could not be made durable (so a retry may pass)."""
        if alert_id is not None:
            self._ids.pop(alert_id, None)
        self._bodies.pop(body_fingerprint, None)

    def remember_alert_id(self, alert_id: str, received_ns: int) -> None:
        self._ids[alert_id] = received_ns + self._ttl_ns
        self._ids.move_to_end(alert_id)

    def __len__(self) -> int:
        return len(self._ids) + len(self._bodies)

    def _evict(self, now_ns: int) -> None:
        for table in (self._ids, self._bodies):
            while table and (next(iter(table.values())) <= now_ns or len(table) > self._max):
                table.popitem(last=False)
