"""Hyperliquid's JSON answers -> the venue protocol's models.

Pure functions over the dicts the SDK returns (``orderStatus``, ``frontendOpenOrders``,
``userFillsByTime``, ``clearinghouseState`` and the ``/exchange`` order statuses), so the shapes
are tested without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from domain.values import Side
from venues.base import OrderRefused, OutcomeUnknown, VenueFill, VenueOrder, VenueOrderStatus

_STATUS = {
    "open": VenueOrderStatus.OPEN,
    "triggered": VenueOrderStatus.OPEN,
    "filled": VenueOrderStatus.FILLED,
    "rejected": VenueOrderStatus.REJECTED,
}


def order_status(status: str) -> VenueOrderStatus:
    """Venue statuses: open, filled, canceled, triggered, rejected, marginCanceled, ..."""
    if status in _STATUS:
        return _STATUS[status]
    if status.endswith("Rejected"):
        return VenueOrderStatus.REJECTED
    return VenueOrderStatus.CANCELED


def side(code: str) -> Side:
    return Side.BUY if code == "B" else Side.SELL


def order_from_frontend(
    order: dict[str, Any], status: str, *, client_order_id: str, instrument: str
) -> VenueOrder:
    original = Decimal(str(order.get("origSz", order["sz"])))
    remaining = Decimal(str(order["sz"]))
    return VenueOrder(
        client_order_id=client_order_id,
        venue_order_id=str(order["oid"]),
        instrument=instrument,
        side=side(order["side"]),
        quantity=original,
        filled_quantity=original - remaining,
        status=order_status(status),
    )


def placed_order(
    answer: Any, *, client_order_id: str, instrument: str, side_: Side, size: Decimal, tif: str
) -> VenueOrder:
    """The VenueOrder for an ``/exchange`` order answer, or the error it carries."""
    if not isinstance(answer, dict) or "status" not in answer:
        raise OutcomeUnknown("place: unreadable answer")
    if answer["status"] != "ok":
        raise OrderRefused(str(answer.get("response", "refused"))[:300])
    try:
        status = answer["response"]["data"]["statuses"][0]
    except (KeyError, IndexError, TypeError):
        raise OutcomeUnknown("place: answer without an order status") from None
    base = {"client_order_id": client_order_id, "instrument": instrument, "side": side_}
    if isinstance(status, dict) and "resting" in status:
        oid = str(status["resting"]["oid"])
        return VenueOrder(**base, venue_order_id=oid, quantity=size)
    if isinstance(status, dict) and "filled" in status:
        filled = status["filled"]
        total = Decimal(str(filled["totalSz"]))
        if total >= size:
            state = VenueOrderStatus.FILLED
        else:
            state = VenueOrderStatus.CANCELED if tif == "Ioc" else VenueOrderStatus.OPEN
        return VenueOrder(
            **base,
            venue_order_id=str(filled["oid"]),
            quantity=size,
            filled_quantity=total,
            average_price=Decimal(str(filled["avgPx"])),
            status=state,
        )
    if isinstance(status, dict) and "error" in status:
        raise OrderRefused(str(status["error"])[:300])
    raise OutcomeUnknown("place: unrecognised order status")


def fills(
    raw: Iterable[dict[str, Any]],
    *,
    since_ns: int,
    instrument_of: Callable[[str], str | None],
    client_id_of: Callable[[str], str],
) -> list[VenueFill]:
    """Fills at or after ``since_ns``, each once (by trade id), in time order."""
    seen: set[str] = set()
    result: list[VenueFill] = []
    for fill in sorted(raw, key=lambda f: (int(f["time"]), int(f.get("tid", 0)))):
        fill_id = str(fill.get("tid") or fill["hash"])
        instrument = instrument_of(fill["coin"])
        ts_ns = int(fill["time"]) * 1_000_000
        if fill_id in seen or instrument is None or ts_ns < since_ns:
            continue
        seen.add(fill_id)
        cloid = fill.get("cloid")
        result.append(
            VenueFill(
                fill_id=fill_id,
                client_order_id=client_id_of(cloid) if cloid else None,
                venue_order_id=str(fill["oid"]),
                instrument=instrument,
                side=side(fill["side"]),
                quantity=Decimal(str(fill["sz"])),
                price=Decimal(str(fill["px"])),
                fee=Decimal(str(fill.get("fee", "0"))),
                fee_currency=fill.get("feeToken"),
                liquidity="taker" if fill.get("crossed", True) else "maker",
                ts_ns=ts_ns,
            )
        )
    return result
