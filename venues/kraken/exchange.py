"""ccxt's Kraken with the nonce rules Kraken enforces per key.

Kraken refuses a nonce not above the key's last one. ccxt's nonce is in milliseconds, so two
calls in one millisecond collide, and private requests signed and sent concurrently can overtake
each other. ``KrakenExchange`` overrides two public ccxt methods: ``nonce`` (strictly increasing
microseconds) and ``fetch2`` (private requests one at a time, and a refused nonce signed again).

A request from elsewhere on the same key (a process being replaced, whose last request is still
on the wire) can still land first. Kraken checks the nonce before it does anything, so
``EAPI:Invalid nonce`` means the request was not acted on: signing it again with a fresh nonce is
safe, even for an order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import ccxt.async_support as ccxt

log = logging.getLogger(__name__)

NONCE_RETRIES = 5


class KrakenExchange(ccxt.kraken):  # type: ignore[misc]
    """ccxt's Kraken: microsecond nonces, private calls one at a time, refused nonces resigned."""

    _tapeline_last_nonce = 0
    _tapeline_private_lock: asyncio.Lock | None = None

    def nonce(self) -> int:
        """Microseconds since the epoch, bumped by one when the clock has not moved: strictly
        increasing within a process and across a restart (a new process starts above anything
        the old one sent)."""
        self._tapeline_last_nonce = max(time.time_ns() // 1000, self._tapeline_last_nonce + 1)
        return self._tapeline_last_nonce

    async def fetch2(self, path: Any, api: Any = "public", *args: Any, **kwargs: Any) -> Any:
        if "private" not in (api if isinstance(api, list | tuple) else [api]):
            return await super().fetch2(path, api, *args, **kwargs)  # ccxt passes ["private"]
        if self._tapeline_private_lock is None:
            self._tapeline_private_lock = asyncio.Lock()
        async with self._tapeline_private_lock:
            for attempt in range(NONCE_RETRIES):
                try:
                    return await super().fetch2(path, api, *args, **kwargs)
                except ccxt.InvalidNonce:
                    if attempt == NONCE_RETRIES - 1:
                        raise
                    log.info("kraken.nonce_refused", extra={"path": str(path), "try": attempt})
                    await asyncio.sleep(0.001 * 2**attempt)
