"""A fake Binance spot REST API, faithful enough for unmodified ccxt.

Speaks ``/api/v3`` (exchangeInfo, time, ticker, account, order, openOrders, myTrades) and
``/sapi/v1/account/apiRestrictions``. Signed endpoints check ``X-MBX-APIKEY``, the HMAC-SHA256
signature of query string + body, and timestamp/recvWindow, and answer with Binance's own error
JSON (``{"code": -1022, "msg": ...}``) and HTTP statuses. The JSON shapes and error codes are in
``binance_wire``; this module routes, authenticates and acts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from venues.fakes.binance_wire import (
    INSUFFICIENT,
    NO_ORDER_ID,
    BinanceError,
    decimal_param,
    default_instruments,
    engine_error,
    num,
    order_fields,
    order_json,
    required,
    symbol_info,
    trade_json,
)
from venues.fakes.engine import Engine, EngineError, Order
from venues.fakes.faults import FaultKind, FaultSwitch
from venues.fakes.server import FakeVenue, fault

KEY = web.RequestKey("binance_key", "BinanceKey")
_SIGNATURE = re.compile(r"(^|&)signature=[^&]*")
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


@dataclass
class BinanceKey:
    secret: str
    enable_withdrawals: bool = False
    enable_internal_transfer: bool = False
    permits_universal_transfer: bool = False
    enable_spot_trading: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class FakeBinance(FakeVenue):
    name = "binance"

    def __init__(
        self,
        engine: Engine,
        keys: dict[str, BinanceKey],
        faults: FaultSwitch | None = None,
    ) -> None:
        super().__init__(engine, faults)
        self.keys = keys

    def add_key(self, **permissions: Any) -> tuple[str, str]:
        """Register a fresh random key; ``permissions`` are ``BinanceKey`` flags."""
        api_key, secret = secrets.token_hex(32), secrets.token_hex(32)
        self.keys[api_key] = BinanceKey(secret=secret, **permissions)
        return api_key, secret

    # -- plumbing ----------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/ping", self.ping),
            web.get("/api/v3/time", self.time),
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/ticker/price", self.ticker_price),
            web.get("/api/v3/account", self.signed(self.account)),
            web.post("/api/v3/order", self.signed(self.new_order)),
            web.get("/api/v3/order", self.signed(self.query_order)),
            web.delete("/api/v3/order", self.signed(self.cancel_order)),
            web.get("/api/v3/openOrders", self.signed(self.open_orders)),
            web.get("/api/v3/myTrades", self.signed(self.my_trades)),
            web.get("/sapi/v1/account/apiRestrictions", self.signed(self.api_restrictions)),
        ]

    def classify(self, request: web.Request) -> str:
        path, method = request.path, request.method
        if path == "/api/v3/order":
            return {"POST": "place", "DELETE": "cancel"}.get(method, "query")
        return {
            "/api/v3/openOrders": "query",
            "/api/v3/myTrades": "fills",
            "/api/v3/account": "balance",
            "/sapi/v1/account/apiRestrictions": "permissions",
        }.get(path, "public")

    def throttled(self, status: int, retry_after_s: int) -> web.Response:
        if status == 418:
            until = int(time.time() * 1000) + retry_after_s * 1000
            msg = (
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute."
                " Please use WebSocket Streams for live updates to avoid polling the API."
            )
        return web.json_response(
            {"code": -1003, "msg": msg}, status=status, headers={"Retry-After": str(retry_after_s)}
        )

    def signed(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                params = await self._authenticate(request)
                return await handler(request, params)
            except BinanceError as err:
                return web.json_response({"code": err.code, "msg": err.msg}, status=err.status)

        return wrapped

    async def _authenticate(self, request: web.Request) -> dict[str, str]:
        api_key = request.headers.get("X-MBX-APIKEY")
        if not api_key:
            raise BinanceError(401, -2014, "API-key format invalid.")
        key = self.keys.get(api_key)
        if key is None:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        query = request.query_string
        body = await request.text() if request.can_read_body else ""
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        signature = params.pop("signature", None)
        if not signature:
            raise BinanceError(
                400,
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        payload = _SIGNATURE.sub("", query).lstrip("&") + _SIGNATURE.sub("", body).lstrip("&")
        expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        try:
            ts = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError):
            raise BinanceError(
                400,
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            ) from None
        now = int(time.time() * 1000)
        if ts > now + 1000:
            raise BinanceError(
                400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now - ts > recv_window:
            raise BinanceError(
                400, -1021, "Timestamp for this request is outside of the recvWindow."
            )
        request[KEY] = key
        return params

    # -- public ------------------------------------------------------------------------------

    async def ping(self, _: web.Request) -> web.Response:
        return web.json_response({})

    async def time(self, _: web.Request) -> web.Response:
        return web.json_response({"serverTime": int(time.time() * 1000)})

    async def exchange_info(self, _: web.Request) -> web.Response:
        symbols = [symbol_info(i) for i in self.engine.instruments.values()]
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": int(time.time() * 1000),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "SECOND",
                        "intervalNum": 10,
                        "limit": 100,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "DAY",
                        "intervalNum": 1,
                        "limit": 200000,
                    },
                ],
                "exchangeFilters": [],
                "symbols": symbols,
            }
        )

    async def ticker_price(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol is not None:
            inst = self.engine.instruments.get(symbol)
            if inst is None:
                return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
            return web.json_response({"symbol": symbol, "price": num(inst.mark)})
        return web.json_response(
            [{"symbol": s, "price": num(i.mark)} for s, i in self.engine.instruments.items()]
        )

    # -- private -----------------------------------------------------------------------------

    async def account(self, request: web.Request, _: dict[str, str]) -> web.Response:
        with self.engine.lock:
            balances = [
                {"asset": a, "free": num(b.free), "locked": num(b.locked)}
                for a, b in self.engine.balances.items()
            ]
        key: BinanceKey = request[KEY]
        return web.json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": key.enable_spot_trading,
                "canWithdraw": key.enable_withdrawals,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": int(time.time() * 1000),
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
                "uid": 1,
            }
        )

    async def api_restrictions(self, request: web.Request, _: dict[str, str]) -> web.Response:
        key: BinanceKey = request[KEY]
        return web.json_response(
            {
                "ipRestrict": True,
                "createTime": 1700000000000,
                "enableInternalTransfer": key.enable_internal_transfer,
                "enableFutures": False,
                "enablePortfolioMarginTrading": False,
                "enableVanillaOptions": False,
                "permitsUniversalTransfer": key.permits_universal_transfer,
                "enableReading": True,
                "enableSpotAndMarginTrading": key.enable_spot_trading,
                "enableWithdrawals": key.enable_withdrawals,
                "enableMargin": False,
                "tradingAuthorityExpirationTime": 1900000000000,
                **key.extra,
            }
        )

    async def new_order(self, request: web.Request, p: dict[str, str]) -> web.Response:
        key: BinanceKey = request[KEY]
        if not key.enable_spot_trading:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        symbol = self._symbol(p)
        side, otype = required(p, "side").upper(), required(p, "type").upper()
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1100, "Illegal characters found in parameter 'side'.")
        if otype not in ("MARKET", "LIMIT", "LIMIT_MAKER"):
            raise BinanceError(400, -1116, "Invalid orderType.")
        quantity = decimal_param(p, "quantity")
        price = decimal_param(p, "price") if otype != "MARKET" else None
        tif = p.get("timeInForce", "GTC")
        if otype == "LIMIT" and "timeInForce" not in p:
            required(p, "timeInForce")
        client_id = p.get("newClientOrderId") or f"web_{secrets.token_hex(8)}"
        if not _CLIENT_ID.match(client_id):
            raise BinanceError(
                400,
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; "
                "legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        if (f := fault(request, FaultKind.REJECT)) is not None:
            raise BinanceError(400, -2010, f.reason or INSUFFICIENT)
        partial = fault(request, FaultKind.PARTIAL_FILL)
        try:
            order = self.engine.place(
                symbol,
                side.lower(),
                "market" if otype == "MARKET" else "limit",
                quantity,
                price,
                client_order_id=client_id,
                time_in_force=tif,
                post_only=otype == "LIMIT_MAKER",
                fill_ratio=partial.fill_ratio if partial else None,
            )
        except EngineError as err:
            raise engine_error(err) from None
        resp_type = p.get("newOrderRespType", "FULL" if otype in ("MARKET", "LIMIT") else "ACK")
        body: dict[str, Any] = {
            "symbol": order.symbol,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": order.created_ns // 1_000_000,
        }
        if resp_type in ("RESULT", "FULL"):
            body.update(order_fields(order))
            body["workingTime"] = order.created_ns // 1_000_000
            body["selfTradePreventionMode"] = "EXPIRE_MAKER"
        if resp_type == "FULL":
            body["fills"] = [
                {
                    "price": num(f.price),
                    "qty": num(f.quantity),
                    "commission": num(f.fee),
                    "commissionAsset": f.fee_asset,
                    "tradeId": f.trade_id,
                }
                for f in order.fills
            ]
        return web.json_response(body)

    async def query_order(self, _: web.Request, p: dict[str, str]) -> web.Response:
        order = self._find(p, -2013, "Order does not exist.")
        return web.json_response(order_json(order))

    async def cancel_order(self, _: web.Request, p: dict[str, str]) -> web.Response:
        order = self._find(p, -2011, "Unknown order sent.")
        try:
            self.engine.cancel(order.order_id)
        except EngineError:
            raise BinanceError(400, -2011, "Unknown order sent.") from None
        body = order_fields(order)
        body.update(
            symbol=order.symbol,
            origClientOrderId=order.client_order_id,
            orderId=int(order.order_id),
            orderListId=-1,
            clientOrderId=p.get("newClientOrderId") or f"cancel_{time.time_ns()}",
            transactTime=int(time.time() * 1000),
            selfTradePreventionMode="EXPIRE_MAKER",
        )
        return web.json_response(body)

    async def open_orders(self, _: web.Request, p: dict[str, str]) -> web.Response:
        symbol = self._symbol(p) if "symbol" in p else None
        orders = self.engine.open_orders(symbol)
        return web.json_response([order_json(o) for o in orders])

    async def my_trades(self, request: web.Request, p: dict[str, str]) -> web.Response:
        symbol = self._symbol(p)
        start_ms = int(p.get("startTime", "0"))
        end_ms = int(p.get("endTime", str(2**62)))
        from_id = int(p.get("fromId", "0"))
        limit = min(int(p.get("limit", "500")), 1000)
        trades = [
            t
            for t in self.engine.trades(symbol)
            if start_ms <= t.ts_ns // 1_000_000 <= end_ms
            and t.trade_id >= from_id
            and ("orderId" not in p or t.order_id == p["orderId"])
        ][:limit]
        rows = [trade_json(t) for t in trades]
        if fault(request, FaultKind.DUPLICATE_FILLS) is not None:
            rows = rows + rows[-1:]
        if fault(request, FaultKind.FILLS_OUT_OF_ORDER) is not None:
            rows.reverse()
        return web.json_response(rows)

    # -- helpers -----------------------------------------------------------------------------

    def _symbol(self, p: dict[str, str]) -> str:
        symbol = required(p, "symbol")
        if symbol not in self.engine.instruments:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return symbol

    def _find(self, p: dict[str, str], code: int, msg: str) -> Order:
        symbol = self._symbol(p)
        try:
            if "orderId" in p:
                order = self.engine.get(p["orderId"])
            elif "origClientOrderId" in p:
                order = self.engine.get_by_client_id(p["origClientOrderId"])
            else:
                raise BinanceError(400, -1102, NO_ORDER_ID)
        except EngineError:
            raise BinanceError(400, code, msg) from None
        if order.symbol != symbol:
            raise BinanceError(400, code, msg)
        return order


def create(
    engine: Engine | None = None, balances: dict[str, Decimal] | None = None
) -> tuple[FakeBinance, str, str]:
    """A fake Binance with one trading key (no withdrawals); returns (fake, api_key, secret)."""
    engine = engine or Engine(
        default_instruments(),
        balances or {"USDT": Decimal("100000"), "BTC": Decimal("2"), "ETH": Decimal("20")},
        unique_client_ids="open",
    )
    fake = FakeBinance(engine, {})
    api_key, secret = fake.add_key()
    return fake, api_key, secret
