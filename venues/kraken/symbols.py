"""Canonical instruments and client ids <-> Kraken spot.

``BTC-USD`` is ``XBT/USD`` on Kraken (pair id ``XXBTZUSD``, altname ``XBTUSD``); ccxt calls it
``BTC/USD``. Kraken's ``cl_ord_id`` takes a UUID (with or without hyphens) or free text of at
most 18 characters, so longer client ids travel as a deterministic UUIDv5 of the id: the same
client id always maps to the same ``cl_ord_id``, which keeps lookups and retries idempotent.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from venues.ccxt_common import canonical_to_ccxt, ccxt_to_canonical

_NAMESPACE = uuid.UUID("5b0f3c1e-7d4a-5f0e-9a51-7a9e1c0d2b44")
_VALID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$"
)


def to_ccxt(instrument: str) -> str:
    return canonical_to_ccxt(instrument)


def to_canonical(symbol: str) -> str:
    return ccxt_to_canonical(symbol)


def venue_symbol(market: dict[str, Any]) -> str:
    """Kraken's own name of the pair, e.g. ``XBT/USD`` (its ``wsname``)."""
    return str(market.get("wsId") or (market.get("info") or {}).get("wsname") or market["id"])


def to_venue_client_id(client_order_id: str) -> str:
    """The ``cl_ord_id`` Kraken accepts for our client order id (identity when it fits)."""
    if _VALID.match(client_order_id):
        return client_order_id
    return str(uuid.uuid5(_NAMESPACE, client_order_id))
