"""Hyperliquid perpetuals behind the venue protocol, through hyperliquid-python-sdk.

The SDK is synchronous, so every call runs in a small thread pool. Trading goes through an API
(agent) wallet that signs for the account; the account's own key is refused unless overridden.
Orders carry a Cloid derived from our client order id, so an order whose answer was lost is found
again by that Cloid instead of being sent twice. Actions are built and signed with the SDK's own
wire and signing functions, with one change: the nonce comes from a per-signer monotonic clock,
because the SDK reads the millisecond clock per call and two writes in the same millisecond would
share a nonce, which the venue refuses.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.constants import MAINNET_API_URL
from hyperliquid.utils.signing import order_wires_to_order_action, sign_l1_action
from hyperliquid.utils.types import Cloid
from pydantic import SecretStr

from domain.values import Frozen, OrderType, Side, TimeInForce
from venues.base import (
    InstrumentSpec,
    OrderRefused,
    OrderRequest,
    VenueFill,
    VenueOrder,
    VenuePosition,
)
from venues.hyperliquid import parsing
from venues.hyperliquid.errors import UnsafeCredentials, check_answer, map_error
from venues.hyperliquid.orders import order_terms, order_wire
from venues.hyperliquid.symbols import SymbolMap, UnknownInstrument, cloid_for
from venues.hyperliquid.symbols import round_size as round_to_lot

log = logging.getLogger(__name__)
T = TypeVar("T")
_FILLS_PAGE = 2000


class _NonceClock:
    """Strictly increasing millisecond nonces per signer, shared by the whole process."""

    _lock = threading.Lock()
    _last: dict[str, int] = {}

    @classmethod
    def next(cls, signer: str) -> int:
        with cls._lock:
            nonce = max(time.time_ns() // 1_000_000, cls._last.get(signer, 0) + 1)
            cls._last[signer] = nonce
            return nonce


class PermissionCheck(Frozen):
    account_address: str
    signer_address: str
    via_agent: bool


class HyperliquidAdapter:
    """One Hyperliquid account, trading through one agent wallet."""

    def __init__(
        self,
        *,
        base_url: str,
        account_address: str,
        agent_key: SecretStr | str,
        venue: str = "hyperliquid",
        timeout_s: float = 10.0,
        allow_account_key: bool = False,
        market_slippage: Decimal = Decimal("0.05"),
        max_workers: int = 4,
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.account_address = account_address
        self._key = agent_key if isinstance(agent_key, SecretStr) else SecretStr(agent_key)
        try:
            self.signer_address: str = Account.from_key(self._key.get_secret_value()).address
        except Exception:
            raise ValueError("the Hyperliquid agent key is not a valid private key") from None
        self._timeout_s = timeout_s
        self._allow_account_key = allow_account_key
        self._slippage = market_slippage
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="hyperliquid")
        self._exchange: Exchange | None = None
        self._symbols: SymbolMap | None = None
        self._init_lock = asyncio.Lock()
        self._client_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"HyperliquidAdapter(venue={self.venue!r}, account={self.account_address!r}, "
            f"signer={self.signer_address!r}, base_url={self.base_url!r})"
        )

    # ------------------------------------------------------------------ plumbing

    async def _run(self, fn: Callable[[], T], *, write: bool, what: str) -> T:
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self._pool, fn)
        except Exception as exc:
            error = map_error(exc, write=write, what=what)
            log.warning("hyperliquid.call_failed", extra={"what": what, "error": str(error)})
            raise error from None
        return check_answer(answer, write=write, what=what)

    async def _sdk(self) -> tuple[Exchange, SymbolMap]:
        if self._exchange is None or self._symbols is None:
            async with self._init_lock:
                if self._exchange is None:
                    exchange, meta = await self._run(self._connect, write=False, what="connect")
                    self._exchange, self._symbols = exchange, SymbolMap(meta["universe"])
        assert self._exchange is not None and self._symbols is not None
        return self._exchange, self._symbols

    def _connect(self) -> tuple[Exchange, Any]:
        empty_meta: Any = {"universe": []}
        empty_spot: Any = {"universe": [], "tokens": []}
        bare = Info(self.base_url, True, empty_meta, empty_spot, None, self._timeout_s)
        meta, spot_meta = bare.meta(), bare.spot_meta()
        bare.session.close()
        wallet = Account.from_key(self._key.get_secret_value())
        exchange = Exchange(
            wallet,
            self.base_url,
            meta=meta,
            spot_meta=spot_meta,
            account_address=self.account_address,
            timeout=self._timeout_s,
        )
        return exchange, meta

    async def _write(self, action: dict[str, Any], what: str) -> Any:
        exchange, _ = await self._sdk()

        def send() -> Any:
            nonce = _NonceClock.next(self.signer_address.lower())
            signature = sign_l1_action(
                exchange.wallet,
                action,
                exchange.vault_address,
                nonce,
                exchange.expires_after,
                exchange.base_url == MAINNET_API_URL,
            )
            payload = {
                "action": action,
                "nonce": nonce,
                "signature": signature,
                "vaultAddress": exchange.vault_address,
                "expiresAfter": exchange.expires_after,
            }
            return exchange.post("/exchange", payload)

        return await self._run(send, write=True, what=what)

    async def _read(self, fn: Callable[[Info], T], what: str) -> T:
        exchange, _ = await self._sdk()
        return await self._run(lambda: fn(exchange.info), write=False, what=what)

    def _client_id(self, cloid: str) -> str:
        """Our client order id for a Cloid when we have seen it; the raw Cloid otherwise."""
        return self._client_ids.get(cloid.lower(), cloid)

    def _cloid(self, client_order_id: str) -> str:
        cloid = cloid_for(client_order_id)
        self._client_ids[cloid] = client_order_id
        return cloid

    async def _coin(self, instrument: str) -> tuple[str, int]:
        _, symbols = await self._sdk()
        try:
            coin = symbols.coin(instrument)
        except UnknownInstrument as exc:
            raise OrderRefused(str(exc), code="unknown_instrument") from None
        return coin, symbols.sz_decimals(coin)

    # ------------------------------------------------------------------ protocol: writes

    async def place(self, request: OrderRequest) -> VenueOrder:
        coin, sz_decimals = await self._coin(request.instrument)
        size = round_to_lot(request.quantity, sz_decimals)
        if size <= 0:
            raise OrderRefused(f"quantity {request.quantity} is below the lot size", "lot_size")
        mid = await self._mid(coin) if request.order_type is OrderType.MARKET else None
        terms = order_terms(request, sz_decimals, mid=mid, slippage=self._slippage)
        cloid = self._cloid(request.client_order_id)
        exchange, _ = await self._sdk()
        wire = order_wire(
            coin=coin,
            asset=exchange.info.name_to_asset(coin),
            is_buy=request.side is Side.BUY,
            size=size,
            terms=terms,
            reduce_only=request.reduce_only,
            cloid=cloid,
        )
        answer = await self._write(order_wires_to_order_action([wire]), "place")
        try:
            order = parsing.placed_order(
                answer,
                client_order_id=request.client_order_id,
                instrument=request.instrument,
                side_=request.side,
                size=size,
                tif=terms.tif,
            )
        except OrderRefused as refused:
            if "duplicate cloid" not in refused.reason.lower():
                raise
            existing = await self.order_by_client_id(request.client_order_id, request.instrument)
            if existing is None:
                raise
            order = existing
        log.info(
            "hyperliquid.order_placed",
            extra={"client_order_id": request.client_order_id, "cloid": cloid,
                   "oid": order.venue_order_id, "status": str(order.status)},
        )  # fmt: skip
        return order

    async def _mid(self, coin: str) -> Decimal | None:
        mids = await self._read(lambda info: info.all_mids(), "all_mids")
        return Decimal(str(mids[coin])) if coin in mids else None

    async def amend(
        self,
        client_order_id: str,
        instrument: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> VenueOrder:
        """Change a resting limit order's open size and/or price; it keeps its Cloid."""
        coin, sz_decimals = await self._coin(instrument)
        cloid = self._cloid(client_order_id)
        found = await self._status(cloid)
        if found is None or found["status"] != "open" or found["order"].get("isTrigger"):
            raise OrderRefused("no resting limit order to amend", "not_open")
        current = found["order"]
        side = parsing.side(current["side"])
        size = round_to_lot(
            quantity if quantity is not None else Decimal(current["sz"]), sz_decimals
        )
        if size <= 0:
            raise OrderRefused("amended quantity is below the lot size", "lot_size")
        request = OrderRequest(
            client_order_id=client_order_id,
            instrument=instrument,
            side=side,
            quantity=size,
            order_type=OrderType.LIMIT,
            limit_price=limit_price if limit_price is not None else Decimal(current["limitPx"]),
            time_in_force=TimeInForce.IOC if current.get("tif") == "Ioc" else TimeInForce.GTC,
            post_only=current.get("tif") == "Alo",
            reduce_only=bool(current.get("reduceOnly")),
        )
        terms = order_terms(request, sz_decimals, mid=None, slippage=self._slippage)
        exchange, _ = await self._sdk()
        wire = order_wire(
            coin=coin,
            asset=exchange.info.name_to_asset(coin),
            is_buy=side is Side.BUY,
            size=size,
            terms=terms,
            reduce_only=request.reduce_only,
            cloid=cloid,
        )
        action = {"type": "batchModify", "modifies": [{"oid": cloid, "order": wire}]}
        answer = await self._write(action, "amend")
        return parsing.placed_order(
            answer,
            client_order_id=client_order_id,
            instrument=instrument,
            side_=side,
            size=size,
            tif=terms.tif,
        )

    async def cancel(self, client_order_id: str, instrument: str) -> VenueOrder | None:
        coin, _ = await self._coin(instrument)
        exchange, _ = await self._sdk()
        cloid = self._cloid(client_order_id)
        action = {
            "type": "cancelByCloid",
            "cancels": [{"asset": exchange.info.name_to_asset(coin), "cloid": cloid}],
        }
        answer = await self._write(action, "cancel")
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise OrderRefused(
                str(answer.get("response") if isinstance(answer, dict) else "")[:300]
            )
        # "success", or an error because the order is already gone: either way, ask its state.
        return await self.order_by_client_id(client_order_id, instrument)

    # ------------------------------------------------------------------ protocol: reads

    async def _status(self, cloid: str) -> dict[str, Any] | None:
        answer = await self._read(
            lambda info: info.query_order_by_cloid(self.account_address, Cloid(cloid)),
            "order_status",
        )
        if not isinstance(answer, dict) or answer.get("status") != "order":
            return None
        found: dict[str, Any] = answer["order"]
        return found

    async def order_by_client_id(self, client_order_id: str, instrument: str) -> VenueOrder | None:
        found = await self._status(self._cloid(client_order_id))
        if found is None:
            return None
        return parsing.order_from_frontend(
            found["order"], found["status"], client_order_id=client_order_id, instrument=instrument
        )

    async def open_orders(self, instrument: str | None = None) -> list[VenueOrder]:
        _, symbols = await self._sdk()
        raw = await self._read(
            lambda info: info.frontend_open_orders(self.account_address), "open_orders"
        )
        orders = []
        for order in raw:
            canonical = symbols.instrument(order["coin"])
            if canonical is None or (instrument is not None and canonical != instrument):
                continue
            cloid = order.get("cloid")
            client_id = self._client_id(cloid) if cloid else f"oid:{order['oid']}"
            orders.append(
                parsing.order_from_frontend(
                    order, "open", client_order_id=client_id, instrument=canonical
                )
            )
        return orders

    async def fills_since(self, since_ns: int, instrument: str | None = None) -> list[VenueFill]:
        _, symbols = await self._sdk()
        start_ms, raw, seen = since_ns // 1_000_000, [], set()
        while True:
            page = await self._read(
                lambda info, s=start_ms: info.user_fills_by_time(self.account_address, s),
                "fills",
            )
            fresh = [f for f in page if str(f.get("tid") or f["hash"]) not in seen]
            raw.extend(fresh)
            seen.update(str(f.get("tid") or f["hash"]) for f in fresh)
            if len(page) < _FILLS_PAGE or not fresh:
                break
            start_ms = max(int(f["time"]) for f in page)
        fills = parsing.fills(
            raw, since_ns=since_ns, instrument_of=symbols.instrument, client_id_of=self._client_id
        )
        return [f for f in fills if instrument is None or f.instrument == instrument]

    async def positions(self) -> list[VenuePosition]:
        _, symbols = await self._sdk()
        state = await self._read(lambda info: info.user_state(self.account_address), "positions")
        result = []
        for entry in state.get("assetPositions", []):
            position = entry["position"]
            canonical = symbols.instrument(position["coin"])
            quantity = Decimal(str(position["szi"]))
            if canonical is None or quantity == 0:
                continue
            entry_px = position.get("entryPx")
            result.append(
                VenuePosition(
                    instrument=canonical,
                    quantity=quantity,
                    entry_price=Decimal(str(entry_px)) if entry_px is not None else None,
                )
            )
        return result

    async def balances(self) -> dict[str, Decimal]:
        state = await self._read(lambda info: info.user_state(self.account_address), "balances")
        return {"USDC": Decimal(str(state["marginSummary"]["accountValue"]))}

    async def instruments(self) -> list[InstrumentSpec]:
        exchange, _ = await self._sdk()
        meta = await self._read(lambda info: info.meta(), "instruments")
        exchange.info.set_perp_meta(meta, 0)
        self._symbols = SymbolMap(meta["universe"])
        return self._symbols.specs()

    async def verify_permissions(self) -> PermissionCheck:
        """Refuse the account's own key (it can withdraw) and a signer that is not its agent."""
        signer, account = self.signer_address.lower(), self.account_address.lower()
        if signer == account:
            if not self._allow_account_key:
                raise UnsafeCredentials(
                    "the signing key is the account's own key, which can withdraw funds; "
                    "trade through an API (agent) wallet or set the explicit override"
                )
            log.warning("hyperliquid.account_key_override", extra={"account": account})
            return PermissionCheck(account_address=account, signer_address=signer, via_agent=False)
        role = await self._read(lambda info: info.user_role(signer), "user_role")
        master = str((role.get("data") or {}).get("user", "")).lower()
        if role.get("role") != "agent" or master != account:
            raise UnsafeCredentials("the signing key is not an approved agent of this account")
        return PermissionCheck(account_address=account, signer_address=signer, via_agent=True)

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._exchange is not None:
            self._exchange.session.close()
            self._exchange.info.session.close()
