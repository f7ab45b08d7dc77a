"""Coinbase Advanced Trade's wire shapes for the fake: products, orders, fills, order
configurations, create-order successes and failures (``INSUFFICIENT_FUND`` ...), so the fake's
handlers (``venues.fakes.coinbase``) only route, authenticate and act.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from venues.fakes.engine import Fill, Instrument, Order

STATUS = {"open": "OPEN", "filled": "FILLED", "canceled": "CANCELLED", "expired": "EXPIRED"}
TIF = {"GTC": "GOOD_UNTIL_CANCELLED", "IOC": "IMMEDIATE_OR_CANCEL", "FOK": "FILL_OR_KILL"}
FAILURES = {
    "insufficient": ("INSUFFICIENT_FUND", "Insufficient balance in source account",
                     "PREVIEW_INSUFFICIENT_FUND"),
    "lot_size": ("INVALID_SIZE_PRECISION", "Invalid order size", "PREVIEW_INVALID_SIZE_PRECISION"),
    "price": ("INVALID_PRICE_PRECISION", "Invalid price", "PREVIEW_INVALID_PRICE_PRECISION"),
    "min_notional": ("UNKNOWN_FAILURE_REASON", "Order size too small",
                     "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL"),
    "post_only": ("INVALID_LIMIT_PRICE_POST_ONLY", "Post only order would cross", ""),
    "unknown_symbol": ("INVALID_PRODUCT_ID", "Invalid product_id", ""),
    "duplicate": ("INVALID_REQUEST", "Duplicate client_order_id", ""),
}  # fmt: skip


def default_instruments() -> list[Instrument]:
    return [
        Instrument(
            "BTC-USD", "BTC", "USD", Decimal("0.00000001"), Decimal("0.01"),
            Decimal("0.00001"), Decimal("1"), Decimal("60000"),
        ),
        Instrument(
            "ETH-USD", "ETH", "USD", Decimal("0.00000001"), Decimal("0.01"),
            Decimal("0.0001"), Decimal("1"), Decimal("3000"),
        ),
    ]  # fmt: skip


def iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(value: Decimal | None) -> str:
    return format((value or Decimal(0)).normalize(), "f")


def product(inst: Instrument) -> dict[str, Any]:
    return {
        "product_id": inst.symbol, "price": num(inst.mark), "base_increment": num(inst.lot_size),
        "quote_increment": num(inst.tick_size), "price_increment": num(inst.tick_size),
        "base_min_size": num(inst.min_qty), "base_max_size": num(inst.max_qty),
        "quote_min_size": num(inst.min_notional), "quote_max_size": "10000000",
        "base_name": inst.base, "quote_name": inst.quote, "status": "online",
        "cancel_only": False, "limit_only": False, "post_only": False,
        "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
        "quote_currency_id": inst.quote, "base_currency_id": inst.base,
        "base_display_symbol": inst.base, "quote_display_symbol": inst.quote,
        "view_only": False, "alias": "", "alias_to": [], "is_disabled": False, "new": False,
    }  # fmt: skip


def order_json(o: Order, config: dict[str, Any] | None) -> dict[str, Any]:
    config = config or config_of(o)
    fees = sum((f.fee for f in o.fills), Decimal(0))
    return {
        "order_id": o.order_id, "product_id": o.symbol, "user_id": "fake-user",
        "order_configuration": config, "side": o.side.upper(),
        "client_order_id": o.client_order_id, "status": STATUS.get(o.status, "OPEN"),
        "time_in_force": TIF.get(o.time_in_force, "GOOD_UNTIL_CANCELLED"),
        "created_time": iso(o.created_ns),
        "completion_percentage": num(o.filled / o.quantity * 100),
        "filled_size": num(o.filled), "average_filled_price": num(o.average_price),
        "number_of_fills": str(len(o.fills)), "filled_value": num(o.quote_filled),
        "pending_cancel": False, "size_in_quote": False, "total_fees": num(fees),
        "size_inclusive_of_fees": False, "total_value_after_fees": num(o.quote_filled + fees),
        "trigger_status": "INVALID_ORDER_TYPE", "order_type": o.type.upper(),
        "reject_reason": "REJECT_REASON_UNSPECIFIED", "settled": not o.is_open,
        "product_type": "SPOT", "reject_message": "", "cancel_message": "",
        "order_placement_source": "RETAIL_ADVANCED", "outstanding_hold_amount": "0",
        "is_liquidation": False, "last_fill_time": iso(o.updated_ns) if o.fills else None,
        "edit_history": [], "leverage": "", "margin_type": "UNKNOWN_MARGIN_TYPE",
    }  # fmt: skip


def fill_json(f: Fill) -> dict[str, Any]:
    return {
        "entry_id": f"entry-{f.trade_id}", "trade_id": f"trade-{f.trade_id}",
        "order_id": f.order_id, "trade_time": iso(f.ts_ns), "trade_type": "FILL",
        "price": num(f.price), "size": num(f.quantity), "commission": num(f.fee),
        "product_id": f.symbol, "sequence_timestamp": iso(f.ts_ns),
        "liquidity_indicator": "MAKER" if f.is_maker else "TAKER",
        "size_in_quote": False, "user_id": "fake-user", "side": f.side.upper(),
        "retail_portfolio_id": "",
    }  # fmt: skip


def config_of(o: Order) -> dict[str, Any]:
    if o.type == "market":
        return {"market_market_ioc": {"base_size": num(o.quantity)}}
    return {"limit_limit_gtc": {"base_size": num(o.quantity), "limit_price": num(o.price),
                                "post_only": False}}  # fmt: skip


def success(order: Order, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": True,
        "success_response": {
            "order_id": order.order_id, "product_id": order.symbol,
            "side": order.side.upper(), "client_order_id": order.client_order_id,
        },
        "order_configuration": body.get("order_configuration"),
    }  # fmt: skip


def failure(body: dict[str, Any], error: str, message: str, preview: str) -> web.Response:
    return web.json_response(
        {"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
         "error_response": {"error": error, "message": message, "error_details": "",
                            "preview_failure_reason": preview},
         "order_configuration": body.get("order_configuration")}
    )  # fmt: skip
