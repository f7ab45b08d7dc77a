"""A fake Kraken spot REST API, faithful enough for unmodified ccxt.

Public ``/0/public/{Time,Assets,AssetPairs,Ticker}`` and private ``/0/private/...`` (AddOrder
with ``cl_ord_id`` or ``userref``, CancelOrder, OpenOrders, ClosedOrders, QueryOrders,
TradesHistory, Balance, BalanceEx, WithdrawInfo, Withdraw). Private calls check ``API-Key``, a
nonce strictly increasing per key and ``API-Sign`` = HMAC-SHA512(path + SHA256(nonce + body)).
Kraken answers errors with HTTP 200 and ``{"error": ["EAPI:Invalid key"], "result": {}}``. The
JSON shapes and error strings are in ``kraken_wire``; this module routes, authenticates and acts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from venues.fakes.engine import Engine, EngineError, Order
from venues.fakes.faults import FaultKind, FaultSwitch
from venues.fakes.kraken_wire import (
    PAIRS,
    KrakenError,
    decimal_param,
    default_instruments,
    engine_error,
    error_reply,
    num,
    ok_reply,
    order_json,
    pair_info,
    places_of,
    trade_json,
    tx_id,
)
from venues.fakes.server import FakeVenue, fault

_CL_ORD_ID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$"
)
_ASSETS = {"XXBT": ("XBT", 10), "XETH": ("ETH", 10), "ZUSD": ("USD", 4)}


@dataclass
class KrakenKey:
    secret: str  # base64, as Kraken hands it out
    can_trade: bool = True
    can_withdraw: bool = False
    last_nonce: int = 0


class FakeKraken(FakeVenue):
    name = "kraken"

    def __init__(
        self, engine: Engine, keys: dict[str, KrakenKey], faults: FaultSwitch | None = None
    ) -> None:
        super().__init__(engine, faults)
        self.keys = keys

    def add_key(self, **permissions: Any) -> tuple[str, str]:
        """Register a fresh random key; ``permissions`` are ``KrakenKey`` flags."""
        api_key = base64.b64encode(secrets.token_bytes(42)).decode()
        secret = base64.b64encode(secrets.token_bytes(64)).decode()
        self.keys[api_key] = KrakenKey(secret=secret, **permissions)
        return api_key, secret

    def routes(self) -> list[web.RouteDef]:
        private = {
            "AddOrder": self.add_order,
            "CancelOrder": self.cancel_order,
            "OpenOrders": self.open_orders,
            "ClosedOrders": self.closed_orders,
            "QueryOrders": self.query_orders,
            "TradesHistory": self.trades_history,
            "Balance": self.balance,
            "BalanceEx": self.balance_ex,
            "WithdrawInfo": self.withdraw,
            "Withdraw": self.withdraw,
        }
        public = {
            "Time": self.time,
            "Assets": self.assets,
            "AssetPairs": self.asset_pairs,
            "Ticker": self.ticker,
        }
        routes = [web.get(f"/0/public/{name}", self.public(h)) for name, h in public.items()]
        routes += [web.post(f"/0/public/{name}", self.public(h)) for name, h in public.items()]
        routes += [web.post(f"/0/private/{name}", self.private(h)) for name, h in private.items()]
        return routes

    def classify(self, request: web.Request) -> str:
        name = request.path.rsplit("/", 1)[-1]
        return {
            "AddOrder": "place",
            "CancelOrder": "cancel",
            "OpenOrders": "query",
            "ClosedOrders": "query",
            "QueryOrders": "query",
            "TradesHistory": "fills",
            "Balance": "balance",
            "BalanceEx": "balance",
            "WithdrawInfo": "permissions",
            "Withdraw": "permissions",
        }.get(name, "public")

    def throttled(self, status: int, retry_after_s: int) -> web.Response:
        error = "EAPI:Rate limit exceeded" if status == 429 else "EGeneral:Temporary lockout"
        return web.json_response(
            {"error": [error], "result": {}},
            status=status,
            headers={"Retry-After": str(retry_after_s)},
        )

    # -- auth --------------------------------------------------------------------------------

    def public(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                return ok_reply(await handler(dict(request.query)))
            except KrakenError as err:
                return error_reply(err)

        return wrapped

    def private(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                key, params = await self._authenticate(request)
                return ok_reply(await handler(request, key, params))
            except KrakenError as err:
                return error_reply(err)

        return wrapped

    async def _authenticate(self, request: web.Request) -> tuple[KrakenKey, dict[str, str]]:
        key = self.keys.get(request.headers.get("API-Key", ""))
        if key is None:
            raise KrakenError("EAPI:Invalid key")
        body = await request.text()
        params = dict(parse_qsl(body, keep_blank_values=True))
        nonce_text = params.get("nonce", "")
        sha = hashlib.sha256((nonce_text + body).encode()).digest()
        mac = hmac.new(base64.b64decode(key.secret), request.path.encode() + sha, hashlib.sha512)
        expected = base64.b64encode(mac.digest()).decode()
        if not hmac.compare_digest(expected, request.headers.get("API-Sign", "")):
            raise KrakenError("EAPI:Invalid signature")
        try:
            nonce = int(nonce_text)
        except ValueError:
            raise KrakenError("EAPI:Invalid nonce") from None
        with self.engine.lock:
            if nonce <= key.last_nonce:
                raise KrakenError("EAPI:Invalid nonce")
            key.last_nonce = nonce
        return key, params

    # -- public ------------------------------------------------------------------------------

    async def time(self, _: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        return {"unixtime": int(now), "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000")}

    async def assets(self, _: dict[str, str]) -> dict[str, Any]:
        return {
            asset: {"aclass": "currency", "altname": alt, "decimals": decimals,
                    "display_decimals": min(decimals, 5), "status": "enabled"}
            for asset, (alt, decimals) in _ASSETS.items()
        }  # fmt: skip

    async def asset_pairs(self, params: dict[str, str]) -> dict[str, Any]:
        return {
            pair: pair_info(pair, self.engine.instruments[pair]) for pair in self.engine.instruments
        }

    async def ticker(self, params: dict[str, str]) -> dict[str, Any]:
        pair = self._pair(params.get("pair", ""))
        mark = num(self.engine.instruments[pair].mark, 1)
        return {pair: {"a": [mark, "1", "1.000"], "b": [mark, "1", "1.000"], "c": [mark, "0.1"]}}

    # -- private -----------------------------------------------------------------------------

    async def add_order(self, request: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        if not key.can_trade:
            raise KrakenError("EGeneral:Permission denied")
        pair = self._pair(p.get("pair", ""))
        side, otype = p.get("type", ""), p.get("ordertype", "")
        if side not in ("buy", "sell"):
            raise KrakenError("EGeneral:Invalid arguments:type")
        if otype not in ("market", "limit"):
            raise KrakenError("EGeneral:Invalid arguments:ordertype")
        volume = decimal_param(p, "volume")
        price = decimal_param(p, "price") if otype == "limit" else None
        cl_ord_id, userref = p.get("cl_ord_id"), p.get("userref")
        if cl_ord_id is not None and userref is not None:
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id and userref are exclusive")
        if cl_ord_id is not None and not _CL_ORD_ID.match(cl_ord_id):
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id")
        if (f := fault(request, FaultKind.REJECT)) is not None:
            raise KrakenError(f.reason or "EOrder:Insufficient funds")
        partial = fault(request, FaultKind.PARTIAL_FILL)
        try:
            order = self.engine.place(
                pair,
                side,
                otype,
                volume,
                price,
                client_order_id=cl_ord_id,
                time_in_force=p.get("timeinforce", "GTC"),
                post_only="post" in p.get("oflags", ""),
                fill_ratio=partial.fill_ratio if partial else None,
                userref=int(userref) if userref else None,
            )
        except EngineError as err:
            raise engine_error(err) from None
        inst = self.engine.instruments[pair]
        descr = f"{side} {num(volume)} {PAIRS.get(pair, {}).get('altname', pair)} @ {otype}"
        if price is not None:
            descr += f" {num(price, places_of(inst.tick_size))}"
        return {"descr": {"order": descr}, "txid": [order.order_id]}

    async def cancel_order(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        if "cl_ord_id" in p:
            orders = [o for o in self.engine.open_orders() if o.client_order_id == p["cl_ord_id"]]
        elif "txid" in p:
            ref = p["txid"]
            orders = [
                o
                for o in self.engine.open_orders()
                if o.order_id == ref or (o.userref is not None and str(o.userref) == ref)
            ]
        else:
            raise KrakenError("EGeneral:Invalid arguments")
        if not orders:
            raise KrakenError("EOrder:Unknown order")
        for order in orders:
            self.engine.cancel(order.order_id)
        return {"count": len(orders)}

    async def open_orders(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        return {"open": self._orders(self.engine.open_orders(), p)}

    async def closed_orders(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        closed = [o for o in self.engine.all_orders() if not o.is_open]
        closed.sort(key=lambda o: o.updated_ns, reverse=True)
        selected = self._orders(closed, p)
        return {"closed": dict(list(selected.items())[:50]), "count": len(selected)}

    async def query_orders(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        txids = [t for t in p.get("txid", "").split(",") if t]
        if not txids:
            raise KrakenError("EGeneral:Invalid arguments")
        found: dict[str, Any] = {}
        for txid in txids:
            try:
                order = self.engine.get(txid)
            except EngineError:
                raise KrakenError("EOrder:Invalid order") from None
            found[txid] = order_json(
                order,
                self.engine.instruments[order.symbol],
                p.get("trades") in ("true", "True", "1"),
            )
        return found

    async def trades_history(self, request: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        start = float(p.get("start", "0"))
        end = float(p.get("end", str(2**40)))
        fills = [f for f in self.engine.trades() if start <= f.ts_ns / 1e9 <= end]
        fills.sort(key=lambda f: f.ts_ns, reverse=True)  # Kraken lists newest first
        rows = [
            (
                tx_id("T", f.trade_id),
                trade_json(f, self.engine.instruments[f.symbol], self.engine.get(f.order_id).type),
            )
            for f in fills
        ]
        if fault(request, FaultKind.DUPLICATE_FILLS) is not None and rows:
            rows.append((rows[0][0], dict(rows[0][1])))  # a JSON object keeps one of them
        if fault(request, FaultKind.FILLS_OUT_OF_ORDER) is not None:
            rows.reverse()
        return {"trades": dict(rows), "count": len(fills)}

    async def balance(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        with self.engine.lock:
            return {a: num(b.free + b.locked, 10) for a, b in self.engine.balances.items()}

    async def balance_ex(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        with self.engine.lock:
            return {
                a: {"balance": num(b.free + b.locked, 10), "hold_trade": num(b.locked, 10)}
                for a, b in self.engine.balances.items()
            }

    async def withdraw(self, _: web.Request, key: KrakenKey, p: dict[str, str]) -> Any:
        if not key.can_withdraw:
            raise KrakenError("EGeneral:Permission denied")
        if p.get("asset") not in _ASSETS and p.get("asset") not in ("XBT", "ETH", "USD"):
            raise KrakenError("EFunding:Unknown asset")
        raise KrakenError("EFunding:Unknown withdraw key")

    # -- helpers -----------------------------------------------------------------------------

    def _pair(self, name: str) -> str:
        if name in self.engine.instruments:
            return name
        for pair, names in PAIRS.items():
            if name in (names["altname"], names["wsname"]) and pair in self.engine.instruments:
                return pair
        raise KrakenError("EQuery:Unknown asset pair")

    def _orders(self, orders: list[Order], p: dict[str, str]) -> dict[str, Any]:
        if "cl_ord_id" in p:
            orders = [o for o in orders if o.client_order_id == p["cl_ord_id"]]
        if "userref" in p:
            orders = [o for o in orders if str(o.userref) == p["userref"]]
        return {
            o.order_id: order_json(o, self.engine.instruments[o.symbol], p.get("trades") == "true")
            for o in orders
        }


def create(
    engine: Engine | None = None, balances: dict[str, Decimal] | None = None
) -> tuple[FakeKraken, str, str]:
    """A fake Kraken with one trading key (no withdrawals); returns (fake, api_key, secret)."""
    engine = engine or Engine(
        default_instruments(),
        balances or {"ZUSD": Decimal("100000"), "XXBT": Decimal("2"), "XETH": Decimal("20")},
        unique_client_ids="open",
        order_id_factory=lambda n: tx_id("O", n),
    )
    fake = FakeKraken(engine, {})
    api_key, secret = fake.add_key()
    return fake, api_key, secret
