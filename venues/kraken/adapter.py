"""Kraken spot adapter on ccxt.async_support.

The client order id travels in Kraken's ``cl_ord_id`` (see ``symbols.to_venue_client_id``);
lookups search open orders, then closed orders, by ``cl_ord_id``. Kraken answers errors as
strings (``EOrder:Insufficient funds``) which become the refusal code. Kraken has no endpoint
listing a key's permissions, so least privilege is checked by asking ``WithdrawInfo``, which
must answer ``EGeneral:Permission denied``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import ccxt.async_support as ccxt

from domain.values import OrderType
from venues.base import OrderRequest, RateLimited, VenueError, VenueUnavailable
from venues.ccxt_common import (
    CcxtSpotAdapter,
    CredentialsRejected,
    HttpReply,
    PermissionReport,
    PermissionsTooBroad,
    make_exchange,
)
from venues.kraken import symbols

log = logging.getLogger(__name__)

REAL_BASE_URL = "https://api.kraken.com"
_PERMISSION_DENIED = "EGeneral:Permission denied"


NONCE_RETRIES = 5


def _serialise_private_calls(exchange: Any) -> None:
    """Kraken checks that each key's nonces arrive in increasing order: private requests
    signed and sent concurrently can overtake each other and be refused. One at a time.

    A request from elsewhere on the same key (a process being replaced, whose last request is
    still on the wire) can still land first. Kraken checks the nonce before it does anything,
    so ``EAPI:Invalid nonce`` means the request was not acted on: signing it again with a
    fresh nonce is safe, even for an order."""
    original = exchange.fetch2
    lock = asyncio.Lock()

    async def fetch2(path: Any, api: Any = "public", *args: Any, **kwargs: Any) -> Any:
        if "private" not in (api if isinstance(api, list | tuple) else [api]):
            return await original(path, api, *args, **kwargs)  # ccxt passes ["private"]
        async with lock:
            for attempt in range(NONCE_RETRIES):
                try:
                    return await original(path, api, *args, **kwargs)
                except ccxt.InvalidNonce:
                    if attempt == NONCE_RETRIES - 1:
                        raise
                    log.info("kraken.nonce_refused", extra={"path": str(path), "try": attempt})
                    await asyncio.sleep(0.001 * 2**attempt)

    exchange.fetch2 = fetch2


class _StrictNonce:
    """Kraken refuses a nonce not above the key's last one. Microseconds since the epoch,
    bumped by one when the clock has not moved: strictly increasing within a process and
    across a restart (a new process starts above anything the old one sent)."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last = max(time.time_ns() // 1000, self.last + 1)
        return self.last


class KrakenAdapter(CcxtSpotAdapter):
    venue = "kraken"

    def __init__(
        self,
        api_key: str,
        secret: str,
        *,
        base_url: str = REAL_BASE_URL,
        timeout_s: float = 10.0,
        allow_withdrawal_keys: bool = False,
        watch: Sequence[str] | None = None,
    ) -> None:
        exchange = make_exchange(
            ccxt.kraken, {"apiKey": api_key, "secret": secret, "timeout": int(timeout_s * 1000)}
        )
        self._base_url = base_url.rstrip("/")
        exchange.urls["api"]["public"] = self._base_url
        exchange.urls["api"]["private"] = self._base_url
        exchange.nonce = _StrictNonce()  # ccxt's is milliseconds: two calls in one ms collide
        _serialise_private_calls(exchange)
        super().__init__(exchange, allow_withdrawal_keys=allow_withdrawal_keys, watch=watch)

    @property
    def base_url(self) -> str:
        return self._base_url

    def client_id_params(self, client_order_id: str) -> dict[str, Any]:
        return {"clientOrderId": symbols.to_venue_client_id(client_order_id)}

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        params = super().order_params(request)
        if request.order_type is OrderType.LIMIT and "timeInForce" in params:
            params["timeinforce"] = params.pop("timeInForce")
        return params

    async def fetch_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any]:
        params = {"clientOrderId": symbols.to_venue_client_id(client_order_id)}
        for fetch in (self._ex.fetch_open_orders, self._ex.fetch_closed_orders):
            found = [o for o in await fetch(symbol, None, None, dict(params))]
            if found:
                return found[0]
        raise ccxt.OrderNotFound("kraken: no order with this cl_ord_id")

    async def cancel_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any] | None:
        params = {"clientOrderId": symbols.to_venue_client_id(client_order_id)}
        await self._ex.cancel_order(None, symbol, params)
        return None  # CancelOrder only answers a count: the caller looks the order up

    def unknown_order_codes(self) -> set[str | None]:
        return {"EOrder:Unknown order", "order_not_found"}

    def credential_codes(self) -> set[str]:
        return {"EAPI:Invalid key", "EAPI:Invalid signature", "EAPI:Invalid nonce"}

    def venue_symbol(self, market: dict[str, Any]) -> str:
        return symbols.venue_symbol(market)

    def refusal(self, exc: Exception, reply: HttpReply | None) -> tuple[str, str | None]:
        try:
            body = json.loads(reply.body) if reply else None
        except ValueError:
            body = None
        errors = body.get("error") if isinstance(body, dict) else None
        if errors:
            return f"kraken {errors[0]}", str(errors[0])
        if isinstance(exc, ccxt.OrderNotFound):
            return "kraken EOrder:Unknown order", "EOrder:Unknown order"
        return super().refusal(exc, reply)

    async def verify_permissions(self) -> PermissionReport:
        """The key must not be able to withdraw: WithdrawInfo must be permission denied."""
        probe = {"asset": "XBT", "key": "tapeline-least-privilege-probe", "amount": "0.001"}
        try:
            await self._call(
                "verify_permissions", False, lambda: self._ex.private_post_withdrawinfo(probe)
            )
            can_withdraw = True
        except (VenueUnavailable, RateLimited):
            raise
        except CredentialsRejected as refused:
            if refused.code != _PERMISSION_DENIED:
                raise
            can_withdraw = False
        except VenueError:
            can_withdraw = True  # got past the permission check: the key may withdraw
        findings = ["WithdrawInfo is not permission denied"] if can_withdraw else []
        report = PermissionReport(
            venue=self.venue,
            can_trade=None,
            can_withdraw=can_withdraw,
            can_transfer=can_withdraw,
            findings=findings,
        )
        if findings and not self._allow_withdrawal_keys:
            raise PermissionsTooBroad(self.venue, findings)
        return report
