"""Coinbase Advanced Trade adapter on ccxt.async_support (CDP key: name + EC private key).

The client order id travels in ``client_order_id``; Coinbase keeps it unique over all orders.
There is no lookup by client id, so the adapter searches the account's recent orders for it.
Market buys are sent with ``base_size`` (ccxt would otherwise turn them into a quote amount).
Least privilege: ``key_permissions`` must show ``can_transfer`` false.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import ccxt.async_support as ccxt

from domain.values import OrderType, Side
from venues.base import OrderRequest
from venues.ccxt_common import (
    CcxtSpotAdapter,
    HttpReply,
    PermissionReport,
    PermissionsTooBroad,
    make_exchange,
)
from venues.coinbase import symbols
from venues.coinbase.auth import CoinbaseExchange

REAL_BASE_URL = "https://api.coinbase.com"
LOOKUP_DEPTH = 250
"""How many of the most recent orders a client-id lookup searches."""


class CoinbaseAdapter(CcxtSpotAdapter):
    venue = "coinbase"

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
            CoinbaseExchange,
            {
                "apiKey": api_key,
                "secret": secret,
                "timeout": int(timeout_s * 1000),
                "options": {"fetchBalance": "v3PrivateGetBrokerageAccounts"},
            },
        )
        self._base_url = base_url.rstrip("/")
        exchange.urls["api"]["rest"] = self._base_url
        super().__init__(exchange, allow_withdrawal_keys=allow_withdrawal_keys, watch=watch)

    @property
    def base_url(self) -> str:
        return self._base_url

    def client_id_params(self, client_order_id: str) -> dict[str, Any]:
        return {"client_order_id": client_order_id}

    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        params = super().order_params(request)
        if request.order_type is OrderType.MARKET and request.side is Side.BUY:
            params["createMarketBuyOrderRequiresPrice"] = False
            params["order_configuration"] = {
                "market_market_ioc": {"base_size": format(request.quantity, "f")}
            }
        return params

    async def fetch_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any]:
        recent = await self._ex.fetch_orders(symbol, None, LOOKUP_DEPTH)
        for order in recent:
            if order.get("clientOrderId") == client_order_id:
                return order
        raise ccxt.OrderNotFound("coinbase: no recent order with this client_order_id")

    async def cancel_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any] | None:
        order = await self.fetch_by_client_id(client_order_id, symbol)
        if order.get("status") != "open":
            raise ccxt.OrderNotFound("coinbase: order is not open")
        await self._ex.cancel_order(str(order["id"]), symbol)
        return None  # batch_cancel answers only success: the caller looks the order up

    def venue_symbol(self, market: dict[str, Any]) -> str:
        return symbols.venue_symbol(market)

    def refusal(self, exc: Exception, reply: HttpReply | None) -> tuple[str, str | None]:
        if reply is not None and reply.status == 401:
            return "coinbase 401 Unauthorized", "401"
        try:
            body = json.loads(reply.body) if reply else None
        except ValueError:
            body = None
        if isinstance(body, dict):
            failure = body.get("error_response") or {}
            code = failure.get("error") or body.get("error")
            if code == "UNKNOWN_FAILURE_REASON" and failure.get("preview_failure_reason"):
                code = failure["preview_failure_reason"]
            if code:
                message = failure.get("message") or body.get("message") or ""
                return f"coinbase {code}: {message}".rstrip(": "), str(code)
        return super().refusal(exc, reply)

    async def verify_permissions(self) -> PermissionReport:
        """The key must not be able to transfer funds (``can_transfer`` false)."""
        raw = await self._call(
            "verify_permissions",
            False,
            lambda: self._ex.v3_private_get_brokerage_key_permissions(),
        )
        can_transfer = raw.get("can_transfer") is not False
        findings = ["can_transfer"] if can_transfer else []
        report = PermissionReport(
            venue=self.venue,
            can_trade=bool(raw.get("can_trade")),
            can_withdraw=can_transfer,
            can_transfer=can_transfer,
            findings=findings,
        )
        if findings and not self._allow_withdrawal_keys:
            raise PermissionsTooBroad(self.venue, findings)
        return report
