"""What differs between the Kraken and Coinbase fakes, so one contract suite covers both."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from domain.values import OrderType, Side
from venues.base import OrderRequest
from venues.ccxt_common import CcxtSpotAdapter
from venues.coinbase import CoinbaseAdapter
from venues.kraken import KrakenAdapter


def _pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )


@dataclass(frozen=True)
class VenueCase:
    name: str
    adapter_cls: Callable[..., CcxtSpotAdapter]
    engine_symbol: str
    venue_symbol: str
    lot: Decimal
    tick: Decimal
    min_qty: Decimal
    min_notional: Decimal
    quote: str
    resting_price: str  # a buy limit under the 60000 mark
    crossing_price: str  # a buy limit that fills once the mark drops to 58900
    tiny_qty: str
    tiny_code: str
    broke_code: str
    reject_code: str
    bad_secret: Callable[[], str]
    unknown_key: Callable[[], str]
    bad_credentials_code: str
    unknown_key_code: str
    risky_permissions: dict[str, Any] = field(default_factory=dict)

    def adapter(self, fake: Any, **kwargs: Any) -> CcxtSpotAdapter:
        kwargs.setdefault("api_key", fake.api_key)
        kwargs.setdefault("secret", fake.secret)
        return self.adapter_cls(base_url=fake.base_url, **kwargs)

    def order(self, cid: str, qty: str = "0.01", price: str | None = None) -> OrderRequest:
        return OrderRequest(
            client_order_id=cid,
            instrument="BTC-USD",
            side=Side.BUY,
            quantity=Decimal(qty),
            order_type=OrderType.LIMIT if price else OrderType.MARKET,
            limit_price=Decimal(price) if price else None,
        )


KRAKEN = VenueCase(
    name="kraken",
    adapter_cls=KrakenAdapter,
    engine_symbol="XXBTZUSD",
    venue_symbol="XBT/USD",
    lot=Decimal("0.00000001"),
    tick=Decimal("0.1"),
    min_qty=Decimal("0.0001"),
    min_notional=Decimal("0.5"),
    quote="USD",
    resting_price="50000.0",
    crossing_price="59000.0",
    tiny_qty="0.00005",
    tiny_code="EOrder:Order minimum not met",
    broke_code="EOrder:Insufficient funds",
    reject_code="EOrder:Insufficient funds",
    bad_secret=lambda: base64.b64encode(secrets.token_bytes(64)).decode(),
    unknown_key=lambda: base64.b64encode(secrets.token_bytes(42)).decode(),
    bad_credentials_code="EAPI:Invalid signature",
    unknown_key_code="EAPI:Invalid key",
    risky_permissions={"can_withdraw": True},
)

COINBASE = VenueCase(
    name="coinbase",
    adapter_cls=CoinbaseAdapter,
    engine_symbol="BTC-USD",
    venue_symbol="BTC-USD",
    lot=Decimal("0.00000001"),
    tick=Decimal("0.01"),
    min_qty=Decimal("0.00001"),
    min_notional=Decimal("1"),
    quote="USD",
    resting_price="50000.00",
    crossing_price="59000.00",
    tiny_qty="0.00001",
    tiny_code="PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
    broke_code="INSUFFICIENT_FUND",
    reject_code="INSUFFICIENT_FUND",
    bad_secret=_pem,
    unknown_key=lambda: f"organizations/{secrets.token_hex(8)}/apiKeys/{secrets.token_hex(8)}",
    bad_credentials_code="401",
    unknown_key_code="401",
    risky_permissions={"can_transfer": True},
)

CASES = [KRAKEN, COINBASE]
