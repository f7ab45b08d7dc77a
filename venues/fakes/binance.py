"""A fake Binance spot REST API, faithful enough for unmodified ccxt.

Speaks ``/api/v3`` (exchangeInfo, time, ticker, account, order, openOrders, myTrades) and
``/sapi/v1/account/apiRestrictions``. Signed endpoints check ``X-MBX-APIKEY``, the HMAC-SHA256
signature of query string + body, and timestamp/recvWindow, and answer with Binance's own error
JSON (``{"code": -1022, "msg": ...}``) and HTTP statuses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from venues.fakes.engine import Engine, EngineError, Fill, Instrument, Order
from venues.fakes.faults import FaultKind, FaultSwitch
from venues.fakes.server import FakeVenue, fault

KEY = web.RequestKey("binance_key", "BinanceKey")
_SIGNATURE = re.compile(r"(^|&)signature=[^&]*")
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_STATUS = {"filled": "FILLED", "canceled": "CANCELED", "expired": "EXPIRED", "rejected": "REJECTED"}
_INSUFFICIENT = "Account has insufficient balance for requested action."
_NO_ORDER_ID = "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
_FILTER_MSG = {
    "lot_size": "Filter failure: LOT_SIZE",
    "price": "Filter failure: PRICE_FILTER",
    "min_notional": "Filter failure: NOTIONAL",
}


@dataclass
class BinanceKey:
    secret: str
    enable_withdrawals: bool = False
    enable_internal_transfer: bool = False
    permits_universal_transfer: bool = False
    enable_spot_trading: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class BinanceError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def default_instruments() -> list[Instrument]:
    return [
        Instrument(
            "BTCUSDT",
            "BTC",
            "USDT",
            Decimal("0.00001"),
            Decimal("0.01"),
            Decimal("0.00001"),
            Decimal("5"),
            Decimal("60000"),
        ),
        Instrument(
            "ETHUSDT",
            "ETH",
            "USDT",
            Decimal("0.0001"),
            Decimal("0.01"),
            Decimal("0.0001"),
            Decimal("5"),
            Decimal("3000"),
        ),
    ]


def _n(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.8f}"


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
        symbols = [self._symbol_info(i) for i in self.engine.instruments.values()]
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

    def _symbol_info(self, inst: Instrument) -> dict[str, Any]:
        return {
            "symbol": inst.symbol,
            "status": "TRADING",
            "baseAsset": inst.base,
            "baseAssetPrecision": 8,
            "quoteAsset": inst.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": [
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT_LIMIT",
            ],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _n(inst.tick_size),
                    "maxPrice": "1000000.00000000",
                    "tickSize": _n(inst.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _n(inst.min_qty),
                    "maxQty": _n(inst.max_qty),
                    "stepSize": _n(inst.lot_size),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": _n(inst.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    async def ticker_price(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol is not None:
            inst = self.engine.instruments.get(symbol)
            if inst is None:
                return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
            return web.json_response({"symbol": symbol, "price": _n(inst.mark)})
        return web.json_response(
            [{"symbol": s, "price": _n(i.mark)} for s, i in self.engine.instruments.items()]
        )

    # -- private -----------------------------------------------------------------------------

    async def account(self, request: web.Request, _: dict[str, str]) -> web.Response:
        with self.engine.lock:
            balances = [
                {"asset": a, "free": _n(b.free), "locked": _n(b.locked)}
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
        side, otype = _required(p, "side").upper(), _required(p, "type").upper()
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1100, "Illegal characters found in parameter 'side'.")
        if otype not in ("MARKET", "LIMIT", "LIMIT_MAKER"):
            raise BinanceError(400, -1116, "Invalid orderType.")
        quantity = _decimal(p, "quantity")
        price = _decimal(p, "price") if otype != "MARKET" else None
        tif = p.get("timeInForce", "GTC")
        if otype == "LIMIT" and "timeInForce" not in p:
            _required(p, "timeInForce")
        client_id = p.get("newClientOrderId") or f"web_{secrets.token_hex(8)}"
        if not _CLIENT_ID.match(client_id):
            raise BinanceError(
                400,
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; "
                "legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        if (f := fault(request, FaultKind.REJECT)) is not None:
            raise BinanceError(400, -2010, f.reason or _INSUFFICIENT)
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
            raise _engine_error(err) from None
        resp_type = p.get("newOrderRespType", "FULL" if otype in ("MARKET", "LIMIT") else "ACK")
        body: dict[str, Any] = {
            "symbol": order.symbol,
            "orderId": int(order.order_id),
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": order.created_ns // 1_000_000,
        }
        if resp_type in ("RESULT", "FULL"):
            body.update(self._order_fields(order))
            body["workingTime"] = order.created_ns // 1_000_000
            body["selfTradePreventionMode"] = "EXPIRE_MAKER"
        if resp_type == "FULL":
            body["fills"] = [
                {
                    "price": _n(f.price),
                    "qty": _n(f.quantity),
                    "commission": _n(f.fee),
                    "commissionAsset": f.fee_asset,
                    "tradeId": f.trade_id,
                }
                for f in order.fills
            ]
        return web.json_response(body)

    async def query_order(self, _: web.Request, p: dict[str, str]) -> web.Response:
        order = self._find(p, -2013, "Order does not exist.")
        return web.json_response(self._order_json(order))

    async def cancel_order(self, _: web.Request, p: dict[str, str]) -> web.Response:
        order = self._find(p, -2011, "Unknown order sent.")
        try:
            self.engine.cancel(order.order_id)
        except EngineError:
            raise BinanceError(400, -2011, "Unknown order sent.") from None
        body = self._order_fields(order)
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
        return web.json_response([self._order_json(o) for o in orders])

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
        rows = [self._trade_json(t) for t in trades]
        if fault(request, FaultKind.DUPLICATE_FILLS) is not None:
            rows = rows + rows[-1:]
        if fault(request, FaultKind.FILLS_OUT_OF_ORDER) is not None:
            rows.reverse()
        return web.json_response(rows)

    # -- helpers -----------------------------------------------------------------------------

    def _symbol(self, p: dict[str, str]) -> str:
        symbol = _required(p, "symbol")
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
                raise BinanceError(400, -1102, _NO_ORDER_ID)
        except EngineError:
            raise BinanceError(400, code, msg) from None
        if order.symbol != symbol:
            raise BinanceError(400, code, msg)
        return order

    def _order_fields(self, o: Order) -> dict[str, Any]:
        status = _STATUS.get(o.status) or ("PARTIALLY_FILLED" if o.filled else "NEW")
        return {
            "price": _n(o.price),
            "origQty": _n(o.quantity),
            "executedQty": _n(o.filled),
            "cummulativeQuoteQty": _n(o.quote_filled),
            "status": status,
            "timeInForce": o.time_in_force,
            "type": o.type.upper(),
            "side": o.side.upper(),
        }

    def _order_json(self, o: Order) -> dict[str, Any]:
        body = {
            "symbol": o.symbol,
            "orderId": int(o.order_id),
            "orderListId": -1,
            "clientOrderId": o.client_order_id,
        }
        body.update(self._order_fields(o))
        body.update(
            stopPrice=_n(None),
            icebergQty=_n(None),
            time=o.created_ns // 1_000_000,
            updateTime=o.updated_ns // 1_000_000,
            isWorking=True,
            workingTime=o.created_ns // 1_000_000,
            origQuoteOrderQty=_n(None),
            selfTradePreventionMode="EXPIRE_MAKER",
        )
        return body

    def _trade_json(self, t: Fill) -> dict[str, Any]:
        return {
            "symbol": t.symbol,
            "id": t.trade_id,
            "orderId": int(t.order_id),
            "orderListId": -1,
            "price": _n(t.price),
            "qty": _n(t.quantity),
            "quoteQty": _n(t.price * t.quantity),
            "commission": _n(t.fee),
            "commissionAsset": t.fee_asset,
            "time": t.ts_ns // 1_000_000,
            "isBuyer": t.side == "buy",
            "isMaker": t.is_maker,
            "isBestMatch": True,
        }


def _required(p: dict[str, str], name: str) -> str:
    value = p.get(name)
    if not value:
        raise BinanceError(
            400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


def _decimal(p: dict[str, str], name: str) -> Decimal:
    try:
        return Decimal(_required(p, name))
    except InvalidOperation:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.") from None


def _engine_error(err: EngineError) -> BinanceError:
    if err.kind == "duplicate":
        return BinanceError(400, -2010, "Duplicate order sent.")
    if err.kind == "insufficient":
        return BinanceError(400, -2010, _INSUFFICIENT)
    if err.kind == "post_only":
        return BinanceError(400, -2010, "Order would immediately match and take.")
    if err.kind == "unknown_symbol":
        return BinanceError(400, -1121, "Invalid symbol.")
    return BinanceError(400, -1013, _FILTER_MSG.get(err.kind, "Filter failure: LOT_SIZE"))


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
