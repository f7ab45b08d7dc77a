"""The state and rules of the fake Hyperliquid: accounts, agent wallets, nonces, orders, fills.

Orders cross against a settable mid price; margin, reduce-only, post-only (ALO) and IOC rules,
minimum order value, lot and tick checks, Cloid uniqueness per user and the nonce window per
signer follow the venue. ``FakeHyperliquid`` (in ``venue``) serves this book over HTTP.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from venues.fakes.faults import FaultKind
from venues.hyperliquid.symbols import MIN_ORDER_VALUE, is_valid_price, lot_size, round_size

ZERO = Decimal(0)
TAKER_FEE = Decimal("0.00045")
MAKER_FEE = Decimal("0.00015")
LEVERAGE = Decimal(10)
NONCE_WINDOW = 100
DAY_MS = 86_400_000
DEFAULT_UNIVERSE = (("BTC", 5, "60000"), ("ETH", 4, "3000"), ("SOL", 2, "150"))


def fmt(value: Decimal) -> str:
    if value == 0:
        return "0.0"
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def now_ms() -> int:
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
            "coin": self.coin, "side": "B" if self.is_buy else "A", "limitPx": fmt(self.limit_px),
            "sz": fmt(self.sz), "oid": self.oid, "timestamp": self.timestamp,
            "triggerCondition": f"Price below {self.trigger_px}" if trigger else "N/A",
            "isTrigger": trigger, "triggerPx": fmt(self.trigger_px or ZERO), "children": [],
            "isPositionTpsl": False, "reduceOnly": self.reduce_only,
            "orderType": "Stop Limit" if trigger else "Limit", "origSz": fmt(self.orig_sz),
            "tif": None if trigger else self.tif, "cloid": self.cloid,
        }  # fmt: skip


@dataclass
class _Account:
    usdc: Decimal
    positions: dict[str, list[Decimal]] = field(default_factory=dict)  # coin -> [szi, entry]
    fills: list[dict[str, Any]] = field(default_factory=list)


class HyperliquidBook:
    """Every account, agent, nonce and order of the fake venue, behind one lock."""

    def __init__(self, universe: tuple[tuple[str, int, str], ...] = DEFAULT_UNIVERSE) -> None:
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
                "coin": coin, "szi": fmt(szi), "entryPx": fmt(entry), "positionValue": fmt(value),
                "unrealizedPnl": fmt(pnl), "returnOnEquity": "0.0", "liquidationPx": None,
                "leverage": {"type": "cross", "value": int(LEVERAGE)}, "maxLeverage": 50,
                "marginUsed": fmt(value / LEVERAGE),
            }})  # fmt: skip
        value = account.usdc + upnl
        summary = {"accountValue": fmt(value), "totalNtlPos": fmt(ntl),
                   "totalRawUsd": fmt(account.usdc), "totalMarginUsed": fmt(margin)}  # fmt: skip
        return {
            "assetPositions": positions, "marginSummary": summary,
            "crossMarginSummary": summary, "crossMaintenanceMarginUsed": fmt(margin / 2),
            "withdrawable": fmt(max(value - margin, ZERO)), "time": now_ms(),
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

    def _use_nonce(self, signer: str, nonce: int) -> str | None:
        used = self._nonces.setdefault(signer, [])
        now = now_ms()
        if nonce in used:
            return f"Invalid nonce: duplicate nonce {nonce}"
        too_small = len(used) >= NONCE_WINDOW and nonce < used[0]
        if too_small or not now - 2 * DAY_MS < nonce < now + DAY_MS:
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
                             f"{fmt(mid)}@{fmt(mid)}. asset={asset}"}  # fmt: skip
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
        now = now_ms()
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
        fill = {"totalSz": fmt(filled), "avgPx": fmt(mid), "oid": order.oid, **_cloid(order)}
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
        now = now_ms()
        order.status_ts = now
        if order.sz == 0:
            order.status = "filled"
        tid = next(self._tids)
        fill = {
            "coin": order.coin, "px": fmt(px), "sz": fmt(qty), "side": "B" if order.is_buy else "A",
            "time": now, "startPosition": fmt(szi), "dir": _direction(szi, signed),
            "closedPnl": fmt(pnl), "hash": "0x" + hashlib.sha256(str(tid).encode()).hexdigest(),
            "oid": order.oid, "crossed": crossed, "fee": fmt(fee), "tid": tid,
            "feeToken": "USDC", **_cloid(order),
        }  # fmt: skip
        account.fills.append(fill)
        return fill

    def _cancel(self, user: str, key: Any) -> Any:
        order = self._find(user, key)
        if order is None or order.status != "open":
            return {"error": "Order was never placed, already canceled, or filled."}
        order.status, order.status_ts = "canceled", now_ms()
        return "success"

    def _modify(self, user: str, modify: dict[str, Any], hit: dict[FaultKind, Any]) -> Any:
        order = self._find(user, modify["oid"])
        if order is None or order.status != "open":
            return {"error": "Cannot modify canceled or filled order"}
        order.status, order.status_ts = "canceled", now_ms()
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
