"""Our order requests -> Hyperliquid order terms (price, order type, time in force) and wires.

Hyperliquid has no market order: a market order is an IOC limit at the mid price moved by a
slippage bound. Stops are trigger orders (``tpsl: "sl"``). Limit prices are rounded in the
client's favour (buys down, sells up); aggressive prices are rounded the other way so they
still cross. Pure functions; the wire itself comes from the SDK's own encoder.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from hyperliquid.utils.signing import order_request_to_order_wire
from hyperliquid.utils.types import Cloid

from domain.values import OrderType, TimeInForce
from venues.base import OrderRefused, OrderRequest
from venues.hyperliquid.symbols import round_price

_TIF = {TimeInForce.GTC: "Gtc", TimeInForce.IOC: "Ioc"}


class OrderTerms(NamedTuple):
    price: Decimal
    order_type: dict[str, Any]
    tif: str


def order_terms(
    request: OrderRequest, sz_decimals: int, *, mid: Decimal | None, slippage: Decimal
) -> OrderTerms:
    """Price, wire order type and time in force for a request (``mid`` for market orders)."""
    if request.time_in_force is TimeInForce.FOK:
        raise OrderRefused("Hyperliquid has no fill-or-kill orders", "unsupported")
    is_buy = request.side.sign > 0
    slip = 1 + slippage if is_buy else 1 - slippage
    if request.order_type is OrderType.MARKET:
        if mid is None:
            raise OrderRefused("no mid price to bound a market order", "no_price")
        price = round_price(mid * slip, sz_decimals, up=is_buy)
        return OrderTerms(price, {"limit": {"tif": "Ioc"}}, "Ioc")
    if request.order_type is OrderType.LIMIT:
        if request.limit_price is None:
            raise OrderRefused("a limit order needs a limit price", "bad_request")
        price = round_price(request.limit_price, sz_decimals, up=not is_buy)
        tif = "Alo" if request.post_only else _TIF[request.time_in_force]
        return OrderTerms(price, {"limit": {"tif": tif}}, tif)
    if request.stop_price is None:
        raise OrderRefused("a stop order needs a stop price", "bad_request")
    trigger = round_price(request.stop_price, sz_decimals, up=is_buy)
    is_market = request.order_type is OrderType.STOP_MARKET
    if is_market:
        price = round_price(trigger * slip, sz_decimals, up=is_buy)
    elif request.limit_price is None:
        raise OrderRefused("a stop-limit order needs a limit price", "bad_request")
    else:
        price = round_price(request.limit_price, sz_decimals, up=not is_buy)
    wire = {"trigger": {"triggerPx": float(trigger), "isMarket": is_market, "tpsl": "sl"}}
    return OrderTerms(price, wire, "Gtc")


def order_wire(
    *,
    coin: str,
    asset: int,
    is_buy: bool,
    size: Decimal,
    terms: OrderTerms,
    reduce_only: bool,
    cloid: str,
) -> dict[str, Any]:
    """The wire form of one order, encoded by the SDK."""
    wire: dict[str, Any] = order_request_to_order_wire(
        {
            "coin": coin,
            "is_buy": is_buy,
            "sz": float(size),
            "limit_px": float(terms.price),
            "order_type": terms.order_type,  # type: ignore[typeddict-item]
            "reduce_only": reduce_only,
            "cloid": Cloid(cloid),
        },
        asset,
    )
    return wire
