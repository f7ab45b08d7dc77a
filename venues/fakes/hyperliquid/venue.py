"""A local Hyperliquid that the real SDK can talk to: ``POST /info`` and ``POST /exchange``.

It exists so the adapter is proven against the venue's wire protocol without the internet. Every
``/exchange`` action has its signer recovered with the SDK's own functions (an agent wallet trades
for the master that approved it), nonces are checked per signer as the venue does, and answers use
Hyperliquid's response shapes. The book itself (accounts, orders, matching) is in ``book``; the
shared fault switch (``self.faults``) injects latency, hangs, 429/418, 5xx, lost responses,
partial/duplicate/out of order fills and rejections. Runs on 127.0.0.1 (ephemeral port) in a
background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from typing import Any

from aiohttp import web
from hyperliquid.utils.signing import (
    recover_agent_or_user_from_l1_action,
    recover_user_from_user_signed_action,
)

from venues.fakes.busy import BusyMeter, thread_cpu_ns
from venues.fakes.faults import FaultKind, FaultSwitch
from venues.fakes.hyperliquid.book import (
    DAY_MS,
    DEFAULT_UNIVERSE,
    HyperliquidBook,
    fmt,
    now_ms,
)

APPROVE_AGENT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]


class FakeHyperliquid(HyperliquidBook):
    """The fake venue. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, *, universe: tuple[tuple[str, int, str], ...] = DEFAULT_UNIVERSE) -> None:
        super().__init__(universe)
        self.faults = FaultSwitch()
        self.busy = BusyMeter()
        self.is_mainnet = False  # the SDK signs for testnet unless it talks to the mainnet URL
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

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
            return {coin: fmt(px) for coin, px in self._mids.items()}
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
                {"name": name, "address": agent, "validUntil": now_ms() + 180 * DAY_MS}
                for agent, (master, name) in self._agents.items()
                if master == user
            ]
        raise TypeError(f"unsupported info type {kind}")

    def _exchange(self, body: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        action, nonce, sig = body["action"], int(body["nonce"]), body["signature"]
        kind = action.get("type")
        if kind == "approveAgent":
            return self._approve_agent(action, nonce, sig)
        if body.get("vaultAddress"):
            return _err("Vault trading is not supported by this venue.")
        expires = body.get("expiresAfter")
        if expires is not None and int(expires) < now_ms():
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
