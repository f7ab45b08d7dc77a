"""Turn what the SDK raises into the adapter errors the gateway acts on.

The split that matters is on writes: a refusal the venue definitely made is ``OrderRefused``; a
timeout, a 5xx or a dropped connection leaves the order's fate unknown (``OutcomeUnknown``), and
the gateway must look the order up by its Cloid before it sends anything again. Messages name the
failure only: never a key, a signature or a request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import requests
from hyperliquid.utils.error import ClientError, ServerError

from venues.base import OrderRefused, OutcomeUnknown, RateLimited, VenueError, VenueUnavailable


class UnsafeCredentials(VenueError):
    """The configured key may do more than trade (the account's own key), or cannot trade."""


def _retry_after(error: ClientError) -> float | None:
    # The SDK stores the headers in ``header`` or, when the body is not JSON, in ``error_data``.
    for headers in (error.header, error.error_data):
        if isinstance(headers, Mapping):
            value = headers.get("Retry-After")
            if value is not None:
                try:
                    return float(value)
                except ValueError:
                    return None
    return None


def map_error(exc: BaseException, *, write: bool, what: str) -> VenueError:
    """The adapter error for an exception raised while calling the venue."""
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, ClientError):
        status = exc.status_code
        if status in (418, 429):
            return RateLimited(f"{what}: rate limited (HTTP {status})", _retry_after(exc))
        if write:
            message = str(exc.error_message or "")[:200]
            return OrderRefused(f"{what}: HTTP {status} {message}".strip(), code=str(status))
        return VenueUnavailable(f"{what}: HTTP {status}")
    if isinstance(exc, ServerError):
        label = f"{what}: HTTP {exc.status_code}"
    elif isinstance(exc, requests.Timeout | TimeoutError):  # the SDK's reads | our writes
        label = f"{what}: timed out"
    elif isinstance(exc, requests.ConnectionError | aiohttp.ClientConnectionError):
        label = f"{what}: connection lost"
    else:
        label = f"{what}: {type(exc).__name__}"
    return OutcomeUnknown(label) if write else VenueUnavailable(label)


def check_answer(answer: Any, *, write: bool, what: str) -> Any:
    """The SDK hands back ``{"error": ...}`` when a 2xx body is not JSON: not an answer."""
    if isinstance(answer, dict) and set(answer) == {"error"}:
        label = f"{what}: unreadable answer"
        raise OutcomeUnknown(label) if write else VenueUnavailable(label)
    return answer
