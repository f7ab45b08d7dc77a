"""A local Hyperliquid that the real SDK can talk to: ``POST /info`` and ``POST /exchange``.

It exists so the adapter is proven against the venue's wire protocol without the internet. Every
``/exchange`` action has its signer recovered with the SDK's own functions (an agent wallet trades
for the master that approved it), nonces are checked per signer as the venue does, and answers use
Hyperliquid's response shapes. Orders cross against a settable mid price; the shared fault switch
(``self.faults``) injects latency, hangs, 429/418, 5xx, lost responses, partial/duplicate/out of
order fills and rejections. Runs on 127.0.0.1 (ephemeral port) in a background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web
from hyperliquid.utils.signing import (
    recover_agent_or_user_from_l1_action,
    recover_user_from_user_signed_action,
)

from venues.fakes.busy import BusyMeter, thread_cpu_ns
from venues.fakes.faults import FaultKind, FaultSwitch
from venues.hyperliquid.symbols import MIN_ORDER_VALUE, is_valid_price, lot_size, round_size

ZERO = Decimal(0)
TAKER_FEE = Decimal("0.00045")
MAKER_FEE = Decimal("0.00015")
LEVERAGE = Decimal(10)
NONCE_WINDOW = 100
_DAY_MS = 86_400_000
APPROVE_AGENT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]
DEFAULT_UNIVERSE = (("BTC", 5, "60000"), ("ETH", 4, "3000"), ("SOL", 2, "150"))


def _s(value: Decimal) -> str:
    if value == 0:
        return "0.0"
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Refused(Exception):
    """An order-level error: goes into that order's ``statuses`` entry."""


@dataclass
class _Order:
    oid: int
    user: str
    coin: str
    is_buy: bool
    limit_px: Decimal
    orig_sz: Decimal
    sz: Decimal
    tif: str
    reduce_only: bool
    cloid: str | None
    timestamp: int
    trigger_px: Decimal | None = None
    status: str = "open"
    status_ts: int = 0

    def frontend(self) -> dict[str, Any]:
        trigger = self.trigger_px is not None
        return {
            "coin": self.coin, "side": "B" if self.is_buy else "A", "limitPx": _s(self.limit_px),
            "sz": _s(self.sz), "oid": self.oid, "timestamp": self.timestamp,
            "triggerCondition": f"Price below {self.trigger_px}" if trigger else "N/A",
            "isTrigger": trigger, "triggerPx": _s(self.trigger_px or ZERO), "children": [],
            "isPositionTpsl": False, "reduceOnly": self.reduce_only,
            "orderType": "Stop Limit" if trigger else "Limit", "origSz": _s(self.orig_sz),
            "tif": None if trigger else self.tif, "cloid": self.cloid,
        }  # fmt: skip


@dataclass
class _Account:
    usdc: Decimal
    positions: dict[str, list[Decimal]] = field(default_factory=dict)  # coin -> [szi, entry]
    fills: list[dict[str, Any]] = field(default_factory=list)


class FakeHyperliquid:
    """The fake venue. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, *, universe: tuple[tuple[str, int, str], ...] = DEFAULT_UNIVERSE) -> None:
        self.faults = FaultSwitch()
        self.busy = BusyMeter()
        self.is_mainnet = False  # the SDK signs for testnet unless it talks to the mainnet URL
        self._lock = threading.RLock()
        self._coins = [coin for coin, _, _ in universe]
        self._sz_decimals = {coin: sz for coin, sz, _ in universe}
        self._mids = {coin: Decimal(mid) for coin, _, mid in universe}
        self._accounts: dict[str, _Account] = {}
        self._agents: dict[str, tuple[str, str]] = {}  # agent -> (master, name)
        self._nonces: dict[str, list[int]] = {}
        self._orders: dict[int, _Order] = {}
        self._by_cloid: dict[tuple[str, str], int] = {}
        self._oids = itertools.count(1000)
        self._tids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ test controls

    def add_user(self, address: str, usdc: Decimal | str = "100000") -> None:
        with self._lock:
            self._accounts[address.lower()] = _Account(usdc=Decimal(usdc))

    def set_mid(self, coin: str, price: Decimal | str) -> None:
        with self._lock:
            self._mids[coin] = Decimal(price)

    def orders(self, user: str) -> list[dict[str, Any]]:
        """Every order the venue ever took for ``user``, with its status."""
        with self._lock:
            return [
                {**o.frontend(), "status": o.status}
                for o in self._orders.values()
                if o.user == user.lower()
            ]

    def agents(self, master: str) -> list[str]:
        with self._lock:
            return [a for a, (m, _) in self._agents.items() if m == master.lower()]

    def fill_resting(
        self, *, oid: int | None = None, cloid: str | None = None, size: Decimal | None = None
    ) -> dict[str, Any]:
        """A counterparty hits a resting order (maker fill at its limit price)."""
        with self._lock:
            order = self._find(None, oid if oid is not None else cloid)
            if order is None or order.status != "open":
                raise KeyError("no such open order")
            qty = order.sz if size is None else min(Decimal(size), order.sz)
            return self._fill(order, qty, order.limit_px, crossed=False)

    # ------------------------------------------------------------------ server lifecycle

    def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve(sock))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-hyperliquid", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self.base_url

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application()
        app.router.add_post("/info", self._handle_info)
        app.router.add_post("/exchange", self._handle_exchange)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> FakeHyperliquid:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ HTTP + faults

    async def _handle_info(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._info, _info_op)

    async def _handle_exchange(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._exchange, _exchange_op)

    async def _handle(self, request: web.Request, process: Any, classify: Any) -> Any:
        started = thread_cpu_ns()
        try:
            return await self._answer(request, process, classify)
        finally:
            self.busy.add(thread_cpu_ns() - started)

    async def _answer(self, request: web.Request, process: Any, classify: Any) -> Any:
        try:
            body = json.loads(await request.read())
            op = classify(body)
        except (ValueError, TypeError, AttributeError):
            return web.Response(status=422, text="Failed to deserialize the JSON body")
        hit = self.faults.take(op)
        if FaultKind.LATENCY in hit:
            await asyncio.sleep(hit[FaultKind.LATENCY].latency_s)
        for kind, status in ((FaultKind.RATE_LIMIT, 429), (FaultKind.BANNED, 418)):
            if kind in hit:
                retry = str(hit[kind].retry_after_s)
                return web.Response(status=status, text="null", headers={"Retry-After": retry})
        if FaultKind.SERVER_ERROR in hit:
            return web.Response(status=hit[FaultKind.SERVER_ERROR].status, text="Bad Gateway")
        timeout = hit.get(FaultKind.TIMEOUT)
        if timeout is not None and not timeout.placed:
            await asyncio.sleep(timeout.hang_s)
            _drop(request)
        try:
            with self._lock:
                answer = process(body, hit)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return web.Response(status=422, text="Failed to deserialize the JSON body")
        if timeout is not None:
            await asyncio.sleep(timeout.hang_s)
            _drop(request)
        lost = hit.get(FaultKind.RESPONSE_LOST)
        if lost is not None:
            if lost.drop:
                _drop(request)
            return web.Response(status=500, text="Internal Server Error")
        return web.json_response(answer)

    # ------------------------------------------------------------------ /info

    def _info(self, body: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        kind = body.get("type")
        user = str(body.get("user", "")).lower()
        if kind == "meta":
            universe = [
                {"name": c, "szDecimals": self._sz_decimals[c], "maxLeverage": 50}
                for c in self._coins
            ]
            return {"universe": universe, "marginTables": []}
        if kind == "spotMeta":
            return _SPOT_META
        if kind == "allMids":
            return {coin: _s(px) for coin, px in self._mids.items()}
        if kind == "clearinghouseState":
            return self._clearinghouse(user)
        if kind == "openOrders":
            keys = ("coin", "limitPx", "oid", "side", "sz", "timestamp", "origSz", "cloid")
            return [{k: o.frontend()[k] for k in keys} for o in self._open(user)]
        if kind == "frontendOpenOrders":
            return [o.frontend() for o in self._open(user)]
        if kind == "orderStatus":
            order = self._find(user, body.get("oid"))
            if order is None:
                return {"status": "unknownOid"}
            info = {"order": order.frontend(), "status": order.status}
            return {"status": "order", "order": {**info, "statusTimestamp": order.status_ts}}
        if kind in ("userFills", "userFillsByTime"):
            return self._user_fills(user, body, hit)
        if kind == "userRole":
            if user in self._agents:
                return {"role": "agent", "data": {"user": self._agents[user][0]}}
            return {"role": "user"} if user in self._accounts else {"role": "missing"}
        if kind == "extraAgents":
            return [
                {"name": name, "address": agent, "validUntil": _now_ms() + 180 * _DAY_MS}
                for agent, (master, name) in self._agents.items()
                if master == user
            ]
        raise TypeError(f"unsupported info type {kind}")

    def _clearinghouse(self, user: str) -> dict[str, Any]:
        account = self._accounts.get(user) or _Account(usdc=ZERO)
        positions, ntl, margin, upnl = [], ZERO, ZERO, ZERO
        for coin, (szi, entry) in account.positions.items():
            if szi == 0:
                continue
            mid = self._mids[coin]
            value, pnl = abs(szi) * mid, szi * (mid - entry)
            ntl, margin, upnl = ntl + value, margin + value / LEVERAGE, upnl + pnl
            positions.append({"type": "oneWay", "position": {
                "coin": coin, "szi": _s(szi), "entryPx": _s(entry), "positionValue": _s(value),
                "unrealizedPnl": _s(pnl), "returnOnEquity": "0.0", "liquidationPx": None,
                "leverage": {"type": "cross", "value": int(LEVERAGE)}, "maxLeverage": 50,
                "marginUsed": _s(value / LEVERAGE),
            }})  # fmt: skip
        value = account.usdc + upnl
        summary = {"accountValue": _s(value), "totalNtlPos": _s(ntl),
                   "totalRawUsd": _s(account.usdc), "totalMarginUsed": _s(margin)}  # fmt: skip
        return {
            "assetPositions": positions, "marginSummary": summary,
            "crossMarginSummary": summary, "crossMaintenanceMarginUsed": _s(margin / 2),
            "withdrawable": _s(max(value - margin, ZERO)), "time": _now_ms(),
        }  # fmt: skip

    def _user_fills(self, user: str, body: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        fills = list(self._accounts[user].fills) if user in self._accounts else []
        if body["type"] == "userFillsByTime":
            start, end = int(body["startTime"]), body.get("endTime")
            fills = [f for f in fills if f["time"] >= start and (end is None or f["time"] <= end)]
        else:
            fills.reverse()  # userFills answers most recent first
        if FaultKind.DUPLICATE_FILLS in hit:
            fills = [f for fill in fills for f in (fill, fill)]
        if FaultKind.FILLS_OUT_OF_ORDER in hit:
            fills = fills[1::2] + fills[0::2]
        return fills[:2000]

    # ------------------------------------------------------------------ /exchange

    def _exchange(self, body: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        action, nonce, sig = body["action"], int(body["nonce"]), body["signature"]
        kind = action.get("type")
        if kind == "approveAgent":
            return self._approve_agent(action, nonce, sig)
        if body.get("vaultAddress"):
            return _err("Vault trading is not supported by this venue.")
        expires = body.get("expiresAfter")
        if expires is not None and int(expires) < _now_ms():
            return _err("Action expired.")
        try:
            signer = recover_agent_or_user_from_l1_action(
                action, sig, None, nonce, expires, self.is_mainnet
            ).lower()
        except Exception:
            return _err("Invalid signature.")
        user = self._agents[signer][0] if signer in self._agents else signer
        if user not in self._accounts:
            return _err(f"User or API Wallet {signer} does not exist.")
        problem = self._use_nonce(signer, nonce)
        if problem:
            return _err(problem)
        if kind == "order":
            statuses = [self._place(user, wire, hit) for wire in action["orders"]]
            return _ok("order", statuses)
        if kind in ("cancel", "cancelByCloid"):
            statuses = [self._cancel(user, c.get("o", c.get("cloid"))) for c in action["cancels"]]
            return _ok("cancel", statuses)
        if kind == "batchModify":
            return _ok("batchModify", [self._modify(user, m, hit) for m in action["modifies"]])
        return _err(f"Unsupported action: {kind}")

    def _approve_agent(self, action: dict[str, Any], nonce: int, sig: dict[str, Any]) -> Any:
        message = {**action, "agentName": action.get("agentName", "")}
        try:
            signer = recover_user_from_user_signed_action(
                message, sig, APPROVE_AGENT_TYPES,
                "HyperliquidTransaction:ApproveAgent", self.is_mainnet,
            ).lower()  # fmt: skip
        except Exception:
            return _err("Invalid signature.")
        if signer not in self._accounts or signer in self._agents:
            return _err(f"User or API Wallet {signer} does not exist.")
        if int(action["nonce"]) != nonce:
            return _err("Invalid nonce: action nonce does not match.")
        problem = self._use_nonce(signer, nonce)
        if problem:
            return _err(problem)
        name = action.get("agentName", "")
        for agent, (master, old) in list(self._agents.items()):
            if master == signer and old == name:
                del self._agents[agent]  # approving a new agent under a name replaces the old
        self._agents[str(action["agentAddress"]).lower()] = (signer, name)
        return {"status": "ok", "response": {"type": "default"}}

    def _use_nonce(self, signer: str, nonce: int) -> str | None:
        used = self._nonces.setdefault(signer, [])
        now = _now_ms()
        if nonce in used:
            return f"Invalid nonce: duplicate nonce {nonce}"
        too_small = len(used) >= NONCE_WINDOW and nonce < used[0]
        if too_small or not now - 2 * _DAY_MS < nonce < now + _DAY_MS:
            return f"Invalid nonce: nonce {nonce} is too old or too far in the future"
        used.append(nonce)
        used.sort()
        del used[:-NONCE_WINDOW]
        return None

    def _find(self, user: str | None, key: Any) -> _Order | None:
        if isinstance(key, str) and key.startswith("0x"):
            if user is None:
                oid = next((o for (_, c), o in self._by_cloid.items() if c == key), None)
            else:
                oid = self._by_cloid.get((user, key.lower()))
        else:
            oid = int(key) if key is not None else None
        order = self._orders.get(oid) if oid is not None else None
        return order if order is not None and user in (None, order.user) else None

    def _open(self, user: str) -> list[_Order]:
        return [o for o in self._orders.values() if o.user == user and o.status == "open"]

    def _place(self, user: str, wire: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        try:
            order = self._accept(user, wire, hit)
        except _Refused as refused:
            return {"error": str(refused)}
        reject = hit.get(FaultKind.REJECT)
        if reject is not None:
            return {"error": reject.reason or "Insufficient margin to place order. asset=0"}
        mid, asset = self._mids[order.coin], self._coins.index(order.coin)
        crosses = order.limit_px >= mid if order.is_buy else order.limit_px <= mid
        if order.trigger_px is None and order.tif == "Alo" and crosses:
            return {"error": f"Post only order would have immediately matched, bbo was "
                             f"{_s(mid)}@{_s(mid)}. asset={asset}"}  # fmt: skip
        if order.trigger_px is None and order.tif == "Ioc" and not crosses:
            return {"error": "Order could not immediately match against any resting "
                             f"orders. asset={asset}"}  # fmt: skip
        self._orders[order.oid] = order
        if order.cloid:
            self._by_cloid[(user, order.cloid)] = order.oid
        return self._match(order, hit)

    def _accept(self, user: str, wire: dict[str, Any], hit: dict[FaultKind, Any]) -> _Order:
        asset = int(wire["a"])
        if not 0 <= asset < len(self._coins):
            raise _Refused("Invalid asset.")
        coin = self._coins[asset]
        sz, px, sz_dec = Decimal(wire["s"]), Decimal(wire["p"]), self._sz_decimals[coin]
        if sz <= 0 or sz != round_size(sz, sz_dec):
            raise _Refused(f"Order has invalid size. asset={asset}")
        if not is_valid_price(px, sz_dec):
            raise _Refused(f"Order has invalid price. asset={asset}")
        cloid = wire.get("c")
        if cloid and (user, cloid.lower()) in self._by_cloid:
            raise _Refused(f"Duplicate cloid. asset={asset}")
        if not wire["r"] and sz * px < MIN_ORDER_VALUE:
            raise _Refused(f"Order must have minimum value of $10. asset={asset}")
        szi = self._accounts[user].positions.get(coin, [ZERO, ZERO])[0]
        is_buy = bool(wire["b"])
        if wire["r"] and (szi == 0 or (szi > 0) == is_buy):
            raise _Refused(f"Reduce only order would increase position. asset={asset}")
        if not wire["r"] and sz * px / LEVERAGE > self._free_margin(user):
            raise _Refused(f"Insufficient margin to place order. asset={asset}")
        kind = wire["t"]
        trigger = kind.get("trigger")
        now = _now_ms()
        return _Order(
            oid=next(self._oids), user=user, coin=coin, is_buy=is_buy, limit_px=px,
            orig_sz=sz, sz=sz, tif=kind.get("limit", {}).get("tif", "Gtc"),
            reduce_only=bool(wire["r"]), cloid=cloid.lower() if cloid else None, timestamp=now,
            trigger_px=Decimal(trigger["triggerPx"]) if trigger else None, status_ts=now,
        )  # fmt: skip

    def _free_margin(self, user: str) -> Decimal:
        state = self._clearinghouse(user)
        used = sum((o.sz * o.limit_px / LEVERAGE for o in self._open(user)), ZERO)
        return Decimal(state["withdrawable"]) - used

    def _match(self, order: _Order, hit: dict[FaultKind, Any]) -> Any:
        mid = self._mids[order.coin]
        crosses = order.limit_px >= mid if order.is_buy else order.limit_px <= mid
        if order.trigger_px is not None or not crosses:
            return {"resting": {"oid": order.oid, **_cloid(order)}}
        qty = order.sz
        partial = hit.get(FaultKind.PARTIAL_FILL)
        if partial is not None:
            lot = lot_size(self._sz_decimals[order.coin])
            qty = max(round_size(order.sz * partial.fill_ratio, self._sz_decimals[order.coin]), lot)
        self._fill(order, qty, mid, crossed=True)
        if order.sz > 0 and order.tif == "Ioc":
            order.status = "canceled"
        if order.status == "open":
            return {"resting": {"oid": order.oid, **_cloid(order)}}
        filled = order.orig_sz - order.sz
        fill = {"totalSz": _s(filled), "avgPx": _s(mid), "oid": order.oid, **_cloid(order)}
        return {"filled": fill}

    def _fill(self, order: _Order, qty: Decimal, px: Decimal, *, crossed: bool) -> dict[str, Any]:
        account = self._accounts[order.user]
        szi, entry = account.positions.get(order.coin, [ZERO, ZERO])
        signed = qty if order.is_buy else -qty
        closing = min(abs(signed), abs(szi)) if szi * signed < 0 else ZERO
        pnl = closing * (px - entry) * (1 if szi > 0 else -1)
        new = szi + signed
        if new == 0:
            entry = ZERO
        elif szi * new <= 0:
            entry = px
        elif abs(new) > abs(szi):
            entry = (abs(szi) * entry + qty * px) / abs(new)
        account.positions[order.coin] = [new, entry]
        fee = qty * px * (TAKER_FEE if crossed else MAKER_FEE)
        account.usdc += pnl - fee
        order.sz -= qty
        now = _now_ms()
        order.status_ts = now
        if order.sz == 0:
            order.status = "filled"
        tid = next(self._tids)
        fill = {
            "coin": order.coin, "px": _s(px), "sz": _s(qty), "side": "B" if order.is_buy else "A",
            "time": now, "startPosition": _s(szi), "dir": _direction(szi, signed),
            "closedPnl": _s(pnl), "hash": "0x" + hashlib.sha256(str(tid).encode()).hexdigest(),
            "oid": order.oid, "crossed": crossed, "fee": _s(fee), "tid": tid,
            "feeToken": "USDC", **_cloid(order),
        }  # fmt: skip
        account.fills.append(fill)
        return fill

    def _cancel(self, user: str, key: Any) -> Any:
        order = self._find(user, key)
        if order is None or order.status != "open":
            return {"error": "Order was never placed, already canceled, or filled."}
        order.status, order.status_ts = "canceled", _now_ms()
        return "success"

    def _modify(self, user: str, modify: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        order = self._find(user, modify["oid"])
        if order is None or order.status != "open":
            return {"error": "Cannot modify canceled or filled order"}
        order.status, order.status_ts = "canceled", _now_ms()
        if order.cloid:
            del self._by_cloid[(user, order.cloid)]
        status = self._place(user, modify["order"], hit)
        if "error" in status:
            order.status = "open"
            if order.cloid:
                self._by_cloid[(user, order.cloid)] = order.oid
        return status


def _cloid(order: _Order) -> dict[str, str]:
    return {"cloid": order.cloid} if order.cloid else {}


def _direction(start: Decimal, signed: Decimal) -> str:
    end = start + signed
    if start * end < 0:
        return "Long > Short" if start > 0 else "Short > Long"
    if abs(end) > abs(start):
        return "Open Long" if end > 0 else "Open Short"
    return "Close Long" if start > 0 else "Close Short"


def _ok(kind: str, statuses: list[Any]) -> dict[str, Any]:
    return {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}


def _err(message: str) -> dict[str, Any]:
    return {"status": "err", "response": message}


def _drop(request: web.Request) -> None:
    """Close the connection without an answer, as a lost response or a dead link looks."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def _info_op(body: dict[str, Any]) -> str:
    kind = body["type"]
    if kind in ("orderStatus", "openOrders", "frontendOpenOrders"):
        return "query"
    if kind in ("userFills", "userFillsByTime"):
        return "fills"
    if kind == "clearinghouseState":
        return "balance"
    return "permissions" if kind in ("userRole", "extraAgents") else "public"


def _exchange_op(body: dict[str, Any]) -> str:
    kind = body["action"]["type"]
    if kind in ("cancel", "cancelByCloid"):
        return "cancel"
    return "permissions" if kind == "approveAgent" else "place"


_SPOT_META: dict[str, Any] = {
    "universe": [{"tokens": [1, 0], "name": "PURR/USDC", "index": 0, "isCanonical": True}],
    "tokens": [
        {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
         "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": True},
        {"name": "PURR", "szDecimals": 0, "weiDecimals": 5, "index": 1,
         "tokenId": "0xc1fb593aeffbeb02f85e0308e9956a90", "isCanonical": True},
    ],
}  # fmt: skip
