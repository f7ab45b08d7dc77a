"""A fake Coinbase Advanced Trade API (``/api/v3/brokerage``), faithful enough for unmodified ccxt.

Products, orders (create with ``client_order_id``, batch_cancel, historical get/list, fills),
accounts, transaction summary, key_permissions, plus the public ``/v2`` currency lists ccxt loads.
Private calls carry a CDP ES256 JWT: the fake checks the signature with the key's P-256 public
key, ``kid``/``sub`` against the key name, ``nbf``/``exp`` and the ``uri`` claim
``"METHOD host/path"``. ccxt strips only ``https://`` from that claim, so over the fake's plain
HTTP the claim reads ``"METHOD http://host/path"``; the fake accepts both spellings. The JSON
shapes and failure codes are in ``coinbase_wire``; this module routes, authenticates and acts.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from venues.fakes.coinbase_wire import (
    FAILURES,
    STATUS,
    default_instruments,
    failure,
    fill_json,
    iso,
    num,
    order_json,
    product,
    success,
)
from venues.fakes.engine import Engine, EngineError
from venues.fakes.faults import FaultKind, FaultSwitch
from venues.fakes.server import FakeVenue, fault

API = "/api/v3/brokerage"


@dataclass
class CoinbaseKey:
    public_key: ec.EllipticCurvePublicKey
    can_view: bool = True
    can_trade: bool = True
    can_transfer: bool = False
    portfolio_uuid: str = "8f1e5a0c-0000-4000-8000-000000000001"


class Unauthorized(Exception):
    pass


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class FakeCoinbase(FakeVenue):
    name = "coinbase"

    def __init__(
        self,
        engine: Engine,
        keys: dict[str, CoinbaseKey],
        faults: FaultSwitch | None = None,
        *,
        duplicate_returns_existing: bool = True,
    ) -> None:
        super().__init__(engine, faults)
        self.keys = keys
        self.duplicate_returns_existing = duplicate_returns_existing
        self.order_config: dict[str, dict[str, Any]] = {}

    def add_key(self, **permissions: Any) -> tuple[str, str]:
        """A fresh CDP key: (name ``organizations/.../apiKeys/...``, EC private key PEM)."""
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
        self.keys[name] = CoinbaseKey(public_key=private.public_key(), **permissions)
        return name, pem

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/time", self.time),
            web.get(f"{API}/market/products", self.products),
            web.get("/v2/currencies", self.fiat_currencies),
            web.get("/v2/currencies/crypto", self.crypto_currencies),
            web.get("/v2/exchange-rates", self.exchange_rates),
            web.get(f"{API}/products", self.private(self.products)),
            web.get(f"{API}/transaction_summary", self.private(self.transaction_summary)),
            web.get(f"{API}/accounts", self.private(self.accounts)),
            web.get(f"{API}/key_permissions", self.private(self.key_permissions)),
            web.post(f"{API}/orders", self.private(self.create_order)),
            web.post(f"{API}/orders/batch_cancel", self.private(self.batch_cancel)),
            web.get(f"{API}/orders/historical/batch", self.private(self.list_orders)),
            web.get(f"{API}/orders/historical/fills", self.private(self.list_fills)),
            web.get(f"{API}/orders/historical/{{order_id}}", self.private(self.get_order)),
        ]

    def classify(self, request: web.Request) -> str:
        path, method = request.path, request.method
        if path == f"{API}/orders" and method == "POST":
            return "place"
        if path == f"{API}/orders/batch_cancel":
            return "cancel"
        if path == f"{API}/orders/historical/fills":
            return "fills"
        if path.startswith(f"{API}/orders/historical"):
            return "query"
        return {f"{API}/accounts": "balance", f"{API}/key_permissions": "permissions"}.get(
            path, "public"
        )

    def throttled(self, status: int, retry_after_s: int) -> web.Response:
        return web.json_response(
            {"error": "rate_limit_exceeded", "message": "Too many requests"},
            status=status,
            headers={"Retry-After": str(retry_after_s)},
        )

    # -- auth --------------------------------------------------------------------------------

    def private(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                key = self._authenticate(request)
            except Unauthorized:
                return web.Response(status=401, text="Unauthorized\n")
            return await handler(request, key)

        return wrapped

    def _authenticate(self, request: web.Request) -> CoinbaseKey:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise Unauthorized
        try:
            head_b64, claims_b64, sig_b64 = auth[7:].split(".")
            header = json.loads(_b64url(head_b64))
            claims = json.loads(_b64url(claims_b64))
            signature = _b64url(sig_b64)
        except (ValueError, TypeError):
            raise Unauthorized from None
        key = self.keys.get(header.get("kid", ""))
        if key is None or header.get("alg") != "ES256" or claims.get("sub") != header.get("kid"):
            raise Unauthorized
        if len(signature) != 64:
            raise Unauthorized
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            key.public_key.verify(
                der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            raise Unauthorized from None
        now = time.time()
        if not (claims.get("nbf", now + 1) <= now + 5 and now < claims.get("exp", 0)):
            raise Unauthorized
        uri = str(claims.get("uri", ""))
        method, _, target = uri.partition(" ")
        target = target.removeprefix("http://").removeprefix("https://")
        if method != request.method or target != f"{request.host}{request.path}":
            raise Unauthorized
        return key

    # -- public ------------------------------------------------------------------------------

    async def time(self, _: web.Request) -> web.Response:
        now = time.time()
        return web.json_response(
            {"iso": iso(time.time_ns()), "epochSeconds": str(int(now)),
             "epochMillis": str(int(now * 1000))}
        )  # fmt: skip

    async def products(self, request: web.Request, _: CoinbaseKey | None = None) -> web.Response:
        if request.query.get("product_type", "SPOT") != "SPOT":
            return web.json_response({"products": [], "num_products": 0})
        products = [product(i) for i in self.engine.instruments.values()]
        return web.json_response({"products": products, "num_products": len(products)})

    async def fiat_currencies(self, _: web.Request) -> web.Response:
        quotes = sorted({i.quote for i in self.engine.instruments.values()})
        return web.json_response(
            {"data": [{"id": q, "name": q, "min_size": "0.01"} for q in quotes]}
        )

    async def crypto_currencies(self, _: web.Request) -> web.Response:
        bases = sorted({i.base for i in self.engine.instruments.values()})
        return web.json_response(
            {"data": [{"asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, b)), "code": b, "name": b,
                       "exponent": 8, "type": "crypto"} for b in bases]}
        )  # fmt: skip

    async def exchange_rates(self, _: web.Request) -> web.Response:
        rates = {i.base: num(1 / i.mark) for i in self.engine.instruments.values()}
        return web.json_response({"data": {"currency": "USD", "rates": rates}})

    # -- private -----------------------------------------------------------------------------

    async def transaction_summary(self, _: web.Request, key: CoinbaseKey) -> web.Response:
        return web.json_response(
            {"total_volume": 0, "total_fees": 0, "fee_tier": {
                "pricing_tier": "Advanced 1", "usd_from": "0", "usd_to": "10000",
                "taker_fee_rate": "0.001", "maker_fee_rate": "0.001"}}
        )  # fmt: skip

    async def key_permissions(self, _: web.Request, key: CoinbaseKey) -> web.Response:
        return web.json_response(
            {"can_view": key.can_view, "can_trade": key.can_trade,
             "can_transfer": key.can_transfer, "portfolio_uuid": key.portfolio_uuid,
             "portfolio_type": "DEFAULT"}
        )  # fmt: skip

    async def accounts(self, _: web.Request, key: CoinbaseKey) -> web.Response:
        with self.engine.lock:
            accounts = [
                {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, asset)), "name": f"{asset} Wallet",
                 "currency": asset, "available_balance": {"value": num(b.free), "currency": asset},
                 "default": True, "active": True, "type": "ACCOUNT_TYPE_CRYPTO", "ready": True,
                 "hold": {"value": num(b.locked), "currency": asset},
                 "retail_portfolio_id": key.portfolio_uuid}
                for asset, b in self.engine.balances.items()
            ]  # fmt: skip
        return web.json_response(
            {"accounts": accounts, "has_next": False, "cursor": "", "size": len(accounts)}
        )

    async def create_order(self, request: web.Request, key: CoinbaseKey) -> web.Response:
        body = await request.json()
        if not key.can_trade:
            return web.json_response(
                {"error": "PERMISSION_DENIED", "message": "Missing required scopes"}, status=403
            )
        config = body.get("order_configuration") or {}
        cid = str(body.get("client_order_id") or "")
        if not cid:
            return failure(body, "INVALID_REQUEST", "client_order_id is required", "")
        kind, spec = next(iter(config.items()), ("", {}))
        if kind not in ("market_market_ioc", "limit_limit_gtc", "sor_limit_ioc") or (
            "base_size" not in spec
        ):
            return failure(body, "UNSUPPORTED_ORDER_CONFIGURATION", "Unsupported order", "")
        if (f := fault(request, FaultKind.REJECT)) is not None:
            return failure(body, f.reason or "INSUFFICIENT_FUND", "Rejected", "")
        existing = self.engine.by_client_id.get(cid)
        if existing is not None and self.duplicate_returns_existing:
            return web.json_response(success(existing, body))
        try:
            size = Decimal(spec["base_size"])
            price = Decimal(spec["limit_price"]) if "limit_price" in spec else None
        except InvalidOperation:
            return failure(body, "INVALID_REQUEST", "Invalid number", "")
        partial = fault(request, FaultKind.PARTIAL_FILL)
        try:
            order = self.engine.place(
                str(body.get("product_id")),
                str(body.get("side", "")).lower(),
                "market" if kind == "market_market_ioc" else "limit",
                size,
                price,
                client_order_id=cid,
                time_in_force="IOC" if kind != "limit_limit_gtc" else "GTC",
                post_only=bool(spec.get("post_only")),
                fill_ratio=partial.fill_ratio if partial else None,
            )
        except EngineError as err:
            return failure(body, *FAILURES.get(err.kind, ("UNKNOWN_FAILURE_REASON", "", "")))
        self.order_config[order.order_id] = config
        return web.json_response(success(order, body))

    async def batch_cancel(self, request: web.Request, key: CoinbaseKey) -> web.Response:
        body = await request.json()
        results = []
        for order_id in body.get("order_ids") or []:
            try:
                self.engine.cancel(str(order_id))
                results.append({"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON",
                                "order_id": order_id})  # fmt: skip
            except EngineError as err:
                reason = "UNKNOWN_CANCEL_ORDER"
                if err.kind != "unknown_order":
                    reason = "INVALID_CANCEL_REQUEST"
                results.append({"success": False, "failure_reason": reason, "order_id": order_id})
        return web.json_response({"results": results})

    async def get_order(self, request: web.Request, key: CoinbaseKey) -> web.Response:
        try:
            order = self.engine.get(request.match_info["order_id"])
        except EngineError:
            msg = "order with this orderID was not found"
            return web.json_response(
                {"error": "NOT_FOUND", "error_details": msg, "message": msg}, status=404
            )
        return web.json_response(
            {"order": order_json(order, self.order_config.get(order.order_id))}
        )

    async def list_orders(self, request: web.Request, key: CoinbaseKey) -> web.Response:
        q = request.query
        statuses = set(q.getall("order_status", []))
        products = set(q.getall("product_ids", [])) | set(q.getall("product_id", []))
        orders = [
            o for o in reversed(self.engine.all_orders())
            if (not statuses or STATUS.get(o.status) in statuses)
            and (not products or o.symbol in products)
        ][: int(q.get("limit", "100"))]  # fmt: skip
        rows = [order_json(o, self.order_config.get(o.order_id)) for o in orders]
        return web.json_response({"orders": rows, "sequence": "0", "has_next": False, "cursor": ""})

    async def list_fills(self, request: web.Request, key: CoinbaseKey) -> web.Response:
        q = request.query
        products = set(q.getall("product_ids", [])) | set(q.getall("product_id", []))
        order_ids = set(q.getall("order_ids", [])) | set(q.getall("order_id", []))
        since = q.get("start_sequence_timestamp")
        since_ns = 0
        if since:
            since_ns = int(datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() * 1e9)
        fills = [
            f for f in reversed(self.engine.trades())
            if (not products or f.symbol in products) and (not order_ids or f.order_id in order_ids)
            and f.ts_ns >= since_ns
        ]  # fmt: skip
        rows = [fill_json(f) for f in fills]
        if fault(request, FaultKind.DUPLICATE_FILLS) is not None:
            rows = rows + rows[:1]
        if fault(request, FaultKind.FILLS_OUT_OF_ORDER) is not None:
            rows.reverse()
        return web.json_response({"fills": rows, "cursor": ""})


def create(
    engine: Engine | None = None,
    balances: dict[str, Decimal] | None = None,
    duplicate_returns_existing: bool = True,
) -> tuple[FakeCoinbase, str, str]:
    """A fake Coinbase with one trading key (can_transfer false): (fake, key name, PEM)."""
    engine = engine or Engine(
        default_instruments(),
        balances or {"USD": Decimal("100000"), "BTC": Decimal("2"), "ETH": Decimal("20")},
        unique_client_ids="all",
        order_id_factory=lambda n: str(uuid.UUID(int=(0xC0B0 << 112) | n)),
    )
    fake = FakeCoinbase(engine, {}, duplicate_returns_existing=duplicate_returns_existing)
    api_key, secret = fake.add_key()
    return fake, api_key, secret
