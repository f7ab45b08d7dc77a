"""Binance spot adapter on ccxt.async_support.

The client order id travels in ``newClientOrderId`` and orders are looked up and cancelled by
``origClientOrderId``, so a retry after an unknown outcome finds the first order instead of
placing a second one. Refusals keep Binance's numeric code (``-2010``, ``-1013``, ...).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

import ccxt.async_support as ccxt

from venues.binance import symbols
from venues.ccxt_common import (
    CcxtSpotAdapter,
    HttpReply,
    PermissionReport,
    PermissionsTooBroad,
    make_exchange,
)

REAL_BASE_URL = "https://api.binance.com"
_BANNED_UNTIL = re.compile(r"banned until (\d+)")


class BinanceAdapter(CcxtSpotAdapter):
    venue = "binance"

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
            ccxt.binance,
            {
                "apiKey": api_key,
                "secret": secret,
                "timeout": int(timeout_s * 1000),
                "options": {
                    "defaultType": "spot",
                    "fetchMarkets": {"types": ["spot"]},
                    "fetchMargins": False,
                    "fetchCurrencies": False,
                    "fetchOpenOrders": {"warnWithoutSymbol": False},
                },
            },
        )
        self._base_url = base_url.rstrip("/")
        api = exchange.urls["api"]
        for name, url in list(api.items()):
            if isinstance(url, str) and url.startswith(REAL_BASE_URL):
                api[name] = self._base_url + url[len(REAL_BASE_URL) :]
        super().__init__(exchange, allow_withdrawal_keys=allow_withdrawal_keys, watch=watch)

    @property
    def base_url(self) -> str:
        return self._base_url

    def client_id_params(self, client_order_id: str) -> dict[str, Any]:
        return {"newClientOrderId": client_order_id}

    async def fetch_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any]:
        return await self._ex.fetch_order(None, symbol, {"origClientOrderId": client_order_id})

    async def cancel_by_client_id(self, client_order_id: str, symbol: str) -> dict[str, Any] | None:
        raw = await self._ex.cancel_order(None, symbol, {"origClientOrderId": client_order_id})
        return raw

    def client_id_of(self, order: dict[str, Any]) -> str:
        info = order.get("info") or {}
        return str(info.get("origClientOrderId") or order.get("clientOrderId") or "")

    def unknown_order_codes(self) -> set[str | None]:
        return {"-2011", "-2013", "order_not_found"}

    def venue_symbol(self, market: dict[str, Any]) -> str:
        return symbols.venue_symbol(market)

    def refusal(self, exc: Exception, reply: HttpReply | None) -> tuple[str, str | None]:
        try:
            body = json.loads(reply.body) if reply else None
        except ValueError:
            body = None
        if isinstance(body, dict) and "code" in body:
            return f"binance {body['code']}: {body.get('msg')}", str(body["code"])
        return super().refusal(exc, reply)

    def retry_after(self, exc: Exception, reply: HttpReply | None) -> float | None:
        header = super().retry_after(exc, reply)
        if header is not None:
            return header
        match = _BANNED_UNTIL.search(reply.body if reply else "")
        if match:
            return max(0.0, int(match.group(1)) / 1000 - time.time())
        return None

    async def _fill_symbols(self) -> list[str | None]:
        if self._watch:
            return [await self._symbol(i) for i in self._watch]
        await self._load()  # myTrades needs a symbol: every listed spot market
        return [s for s, m in self._ex.markets.items() if m.get("spot")]

    async def verify_permissions(self) -> PermissionReport:
        """Withdrawals, internal and universal transfers must all be disabled on the key."""
        raw = await self._call(
            "verify_permissions", False, lambda: self._ex.sapi_get_account_apirestrictions()
        )
        findings = [
            flag
            for flag in ("enableWithdrawals", "enableInternalTransfer", "permitsUniversalTransfer")
            if raw.get(flag) is not False
        ]
        report = PermissionReport(
            venue=self.venue,
            can_trade=bool(raw.get("enableSpotAndMarginTrading")),
            can_withdraw=raw.get("enableWithdrawals") is not False,
            can_transfer=raw.get("enableInternalTransfer") is not False
            or raw.get("permitsUniversalTransfer") is not False,
            findings=findings,
        )
        if findings and not self._allow_withdrawal_keys:
            raise PermissionsTooBroad(self.venue, findings)
        return report
