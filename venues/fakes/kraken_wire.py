"""Kraken spot's wire shapes for the fake: pairs, orders, trades, transaction ids, numbers and
error strings (``EOrder:Insufficient funds``), so the fake's handlers (``venues.fakes.kraken``)
only route, authenticate and act.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from venues.fakes.engine import EngineError, Fill, Instrument, Order

STATUS = {"open": "open", "filled": "closed", "canceled": "canceled", "expired": "expired"}
PAIRS: dict[str, dict[str, Any]] = {
    "XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD"},
    "XETHZUSD": {"altname": "ETHUSD", "wsname": "ETH/USD", "base": "XETH", "quote": "ZUSD"},
}


class KrakenError(Exception):
    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error, self.status = error, status


def default_instruments() -> list[Instrument]:
    return [
        Instrument(
            "XXBTZUSD", "XXBT", "ZUSD", Decimal("0.00000001"), Decimal("0.1"),
            Decimal("0.0001"), Decimal("0.5"), Decimal("60000"),
        ),
        Instrument(
            "XETHZUSD", "XETH", "ZUSD", Decimal("0.00000001"), Decimal("0.01"),
            Decimal("0.002"), Decimal("0.5"), Decimal("3000"),
        ),
    ]  # fmt: skip


def num(value: Decimal | None, places: int = 8) -> str:
    return f"{(value or Decimal(0)):.{places}f}"


def tx_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:05d}-FAKE{n % 10}-{n:06d}"


def pair_info(pair: str, inst: Instrument) -> dict[str, Any]:
    names = PAIRS.get(pair, {"altname": pair, "wsname": pair, "base": inst.base,
                              "quote": inst.quote})  # fmt: skip
    return {
        **names,
        "aclass_base": "currency",
        "aclass_quote": "currency",
        "lot": "unit",
        "cost_decimals": 5,
        "pair_decimals": places_of(inst.tick_size),
        "lot_decimals": places_of(inst.lot_size),
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [[0, 0.4], [10000, 0.35]],
        "fees_maker": [[0, 0.25], [10000, 0.2]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": str(inst.min_qty),
        "costmin": str(inst.min_notional),
        "tick_size": str(inst.tick_size),
        "status": "online",
    }


def order_json(o: Order, inst: Instrument, with_trades: bool) -> dict[str, Any]:
    alt = PAIRS.get(o.symbol, {}).get("altname", o.symbol)
    places = places_of(inst.tick_size)
    price = num(o.price, places) if o.price is not None else "0"
    body: dict[str, Any] = {
        "refid": None,
        "userref": o.userref,
        "status": STATUS.get(o.status, "open"),
        "opentm": o.created_ns / 1e9,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": alt,
            "type": o.side,
            "ordertype": o.type,
            "price": price,
            "price2": "0",
            "leverage": "none",
            "order": f"{o.side} {num(o.quantity)} {alt} @ {o.type}"
            + (f" {price}" if o.price is not None else ""),
            "close": "",
        },
        "vol": num(o.quantity),
        "vol_exec": num(o.filled),
        "cost": num(o.quote_filled, 5),
        "fee": num(sum((f.fee for f in o.fills), Decimal(0)), 5),
        "price": num(o.average_price, places),
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
    }
    if o.client_order_id is not None:
        body["cl_ord_id"] = o.client_order_id
    if not o.is_open:
        body["closetm"] = o.updated_ns / 1e9
        body["reason"] = None if o.status == "filled" else "User requested"
    if with_trades:
        body["trades"] = [tx_id("T", f.trade_id) for f in o.fills]
    return body


def trade_json(f: Fill, inst: Instrument, order_type: str) -> dict[str, Any]:
    places = places_of(inst.tick_size)
    return {
        "ordertxid": f.order_id,
        "postxid": tx_id("P", f.trade_id),
        "pair": f.symbol,
        "time": f.ts_ns / 1e9,
        "type": f.side,
        "ordertype": order_type,
        "price": num(f.price, places),
        "cost": num(f.price * f.quantity, 5),
        "fee": num(f.fee, 5),
        "vol": num(f.quantity),
        "margin": "0.00000",
        "misc": "",
        "trade_id": f.trade_id,
        "maker": f.is_maker,
    }


def ok_reply(result: Any) -> web.Response:
    return web.json_response({"error": [], "result": result})


def error_reply(err: KrakenError) -> web.Response:
    return web.json_response({"error": [err.error]}, status=err.status)


def places_of(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def decimal_param(p: dict[str, str], name: str) -> Decimal:
    try:
        return Decimal(p[name])
    except (KeyError, InvalidOperation):
        raise KrakenError(f"EGeneral:Invalid arguments:{name}") from None


ENGINE_ERRORS = {
    "duplicate": "EOrder:Duplicate order",
    "insufficient": "EOrder:Insufficient funds",
    "post_only": "EOrder:Post only order",
    "unknown_symbol": "EQuery:Unknown asset pair",
    "min_notional": "EOrder:Cost minimum not met",
    "price": "EGeneral:Invalid arguments:price",
    "lot_size": "EGeneral:Invalid arguments:volume",
}


def engine_error(err: EngineError) -> KrakenError:
    if err.kind == "lot_size" and "outside" in err.message:
        return KrakenError("EOrder:Order minimum not met")
    return KrakenError(ENGINE_ERRORS.get(err.kind, "EOrder:Invalid order"))
