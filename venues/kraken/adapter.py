"""Kraken spot adapter on ccxt.async_support.

The client order id travels in Kraken's ``cl_ord_id`` (see ``symbols.to_venue_client_id``);
lookups search open orders, then closed orders, by ``cl_ord_id``. Kraken answers errors as
strings (``EOrder:Insufficient funds``) which become the refusal code. Kraken has no endpoint
listing a key's permissions, so least privilege is checked by asking ``WithdrawInfo``, which
must answer ``EGeneral:Permission denied``. The nonce rules Kraken enforces per key are kept by
``exchange.KrakenExchange``.
"""

from __future__ import annotations

import json
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
from venues.kraken.exchange import NONCE_RETRIES, KrakenExchange

REAL_BASE_URL = "https://api.kraken.com"
_PERMISSION_DENIED = "EGeneral:Permission denied"
__all__ = ["NONCE_RETRIES", "KrakenAdapter"]


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
            KrakenExchange, {"apiKey": api_key, "secret": secret, "timeout": int(timeout_s * 1000)}
        )
        self._base_url = base_url.rstrip("/")
        exchange.urls["api"]["public"] = self._base_url
        exchange.urls["api"]["private"] = self._base_url
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
