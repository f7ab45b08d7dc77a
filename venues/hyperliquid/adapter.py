"""Hyperliquid perpetuals behind the venue protocol, through hyperliquid-python-sdk.

Trading goes through an API (agent) wallet that signs for the account; the account's own key is
refused unless overridden. Orders carry a Cloid derived from our client order id, so an order
whose answer was lost is found again by that Cloid instead of being sent twice. Actions are built
and signed with the SDK's own wire and signing functions; the connection, reads and writes are in
``session``.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from hyperliquid.utils.signing import order_wires_to_order_action
from hyperliquid.utils.types import Cloid

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
from venues.hyperliquid.errors import UnsafeCredentials
from venues.hyperliquid.orders import order_terms, order_wire
from venues.hyperliquid.session import HyperliquidSession
from venues.hyperliquid.symbols import SymbolMap
from venues.hyperliquid.symbols import round_size as round_to_lot

log = logging.getLogger(__name__)
_FILLS_PAGE = 2000


class PermissionCheck(Frozen):
    account_address: str
    signer_address: str
    via_agent: bool


class HyperliquidAdapter(HyperliquidSession):
    """One Hyperliquid account, trading through one agent wallet."""

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
