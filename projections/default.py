"""The standard set of read models every deployment keeps: orders, positions, trades, equity."""

from __future__ import annotations

from decimal import Decimal

from projections.bundle import ProjectionBundle
from projections.equity import EquityProjection
from projections.orders import OrdersProjection
from projections.positions import PositionsProjection
from projections.trades import TradesProjection


def default_bundle(starting_cash: Decimal = Decimal("100000")) -> ProjectionBundle:
    return ProjectionBundle(
        [
            OrdersProjection(),
            PositionsProjection(),
            TradesProjection(),
            EquityProjection(starting_cash),
        ]
    )
