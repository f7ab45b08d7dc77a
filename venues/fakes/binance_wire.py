"""Binance spot's wire shapes for the fake: instruments, exchangeInfo symbols, orders, trades,
request parameters and error codes (``{"code": -2010, "msg": ...}``), so the fake's handlers
(``venues.fakes.binance``) only route, authenticate and act.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from venues.fakes.engine import EngineError, Fill, Instrument, Order

STATUS = {"filled": "FILLED", "canceled": "CANCELED", "expired": "EXPIRED", "rejected": "REJECTED"}
INSUFFICIENT = "Account has insufficient balance for requested action."
NO_ORDER_ID = "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
FILTER_MSG = {
    "lot_size": "Filter failure: LOT_SIZE",
    "price": "Filter failure: PRICE_FILTER",
    "min_notional": "Filter failure: NOTIONAL",
}


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


def num(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.8f}"


def symbol_info(inst: Instrument) -> dict[str, Any]:
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
                "minPrice": num(inst.tick_size),
                "maxPrice": "1000000.00000000",
                "tickSize": num(inst.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": num(inst.min_qty),
                "maxQty": num(inst.max_qty),
                "stepSize": num(inst.lot_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": num(inst.min_notional),
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


def order_fields(o: Order) -> dict[str, Any]:
    status = STATUS.get(o.status) or ("PARTIALLY_FILLED" if o.filled else "NEW")
    return {
        "price": num(o.price),
        "origQty": num(o.quantity),
        "executedQty": num(o.filled),
        "cummulativeQuoteQty": num(o.quote_filled),
        "status": status,
        "timeInForce": o.time_in_force,
        "type": o.type.upper(),
        "side": o.side.upper(),
    }


def order_json(o: Order) -> dict[str, Any]:
    body = {
        "symbol": o.symbol,
        "orderId": int(o.order_id),
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
    }
    body.update(order_fields(o))
    body.update(
        stopPrice=num(None),
        icebergQty=num(None),
        time=o.created_ns // 1_000_000,
        updateTime=o.updated_ns // 1_000_000,
        isWorking=True,
        workingTime=o.created_ns // 1_000_000,
        origQuoteOrderQty=num(None),
        selfTradePreventionMode="EXPIRE_MAKER",
    )
    return body


def trade_json(t: Fill) -> dict[str, Any]:
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": int(t.order_id),
        "orderListId": -1,
        "price": num(t.price),
        "qty": num(t.quantity),
        "quoteQty": num(t.price * t.quantity),
        "commission": num(t.fee),
        "commissionAsset": t.fee_asset,
        "time": t.ts_ns // 1_000_000,
        "isBuyer": t.side == "buy",
        "isMaker": t.is_maker,
        "isBestMatch": True,
    }


def required(p: dict[str, str], name: str) -> str:
    value = p.get(name)
    if not value:
        raise BinanceError(
            400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
        )
    return value


def decimal_param(p: dict[str, str], name: str) -> Decimal:
    try:
        return Decimal(required(p, name))
    except InvalidOperation:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.") from None


def engine_error(err: EngineError) -> BinanceError:
    if err.kind == "duplicate":
        return BinanceError(400, -2010, "Duplicate order sent.")
    if err.kind == "insufficient":
        return BinanceError(400, -2010, INSUFFICIENT)
    if err.kind == "post_only":
        return BinanceError(400, -2010, "Order would immediately match and take.")
    if err.kind == "unknown_symbol":
        return BinanceError(400, -1121, "Invalid symbol.")
    return BinanceError(400, -1013, FILTER_MSG.get(err.kind, "Filter failure: LOT_SIZE"))
