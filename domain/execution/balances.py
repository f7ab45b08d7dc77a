"""Spot balances against the tape: between two reconciliations each asset's balance at the venue
should change by exactly what the fills recorded in between imply.

A buy adds its quantity of the base asset and takes quantity x price of the quote asset; a sell
does the reverse; the fee is taken in the asset the venue charged it in (Binance may take a buy's
fee in the base asset, or in BNB). A difference beyond the asset's tolerance is recorded as
``BalanceDiscrepancy``: a fill or a fee the tape lacks, and equally anything done outside this
system (a deposit, a withdrawal, a transfer, a staking reward, an airdrop). Those are real
differences between the venue and the tape, so reporting them is correct, not a false alarm.

Each comparison runs from the balances of the previous reconciliation (the last
``ReconciliationCompleted`` on the tape, so a restarted gateway still checks) to this one's, so
one change is reported once and a later reconciliation that agrees reports nothing. A fill that
executes between the venue's fill list and its balances looks like a difference; the gateway
takes the snapshot again before it records one. Derivatives accounts are not checked here
(their margin moves with profit, loss and funding); their positions are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from pydantic import Field

from domain.values import Frozen, InstrumentId, Side, base_quote

ZERO = Decimal(0)
DEFAULT_FRACTION = Decimal("0.01")


class FillMove(Frozen):
    """One fill as it moves balances: the fee in the asset it was charged in (None: quote)."""

    instrument: InstrumentId
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal = ZERO
    fee_asset: str | None = None


def implied_changes(
    fills: Iterable[FillMove],
    assets: Callable[[str], tuple[str, str]] = base_quote,
) -> dict[str, Decimal]:
    """How much each asset's balance should have changed after ``fills``."""
    change: dict[str, Decimal] = defaultdict(Decimal)
    for fill in fills:
        base, quote = assets(fill.instrument)
        sign = fill.side.sign
        change[base] += sign * fill.quantity
        change[quote] -= sign * fill.quantity * fill.price
        change[fill.fee_asset or quote] -= fill.fee
    return dict(change)


class BalanceTolerance(Frozen):
    """How far an asset's balance may stray before it counts: ``fixed`` when set for the asset,
    else ``fraction`` of its step (the lot size where it is a base asset, the tick where it is a
    quote asset, the smaller of the two if both), else ``default``."""

    fraction: Decimal = Field(default=DEFAULT_FRACTION, ge=0)
    steps: dict[str, Decimal] = Field(default_factory=dict)
    fixed: dict[str, Decimal] = Field(default_factory=dict)
    default: Decimal = Field(default=ZERO, ge=0)

    def of(self, asset: str) -> Decimal:
        if asset in self.fixed:
            return self.fixed[asset]
        step = self.steps.get(asset)
        return self.fraction * step if step is not None else self.default


def steps_of(
    specs: Iterable[tuple[str, Decimal, Decimal]],
    assets: Callable[[str], tuple[str, str]] = base_quote,
) -> dict[str, Decimal]:
    """Each asset's smallest step from ``(instrument, lot_size, tick_size)`` triples."""
    steps: dict[str, Decimal] = {}
    for instrument, lot, tick in specs:
        base, quote = assets(instrument)
        for asset, step in ((base, lot), (quote, tick)):
            if step > 0:
                steps[asset] = min(step, steps.get(asset, step))
    return steps


class BalanceDifference(Frozen):
    asset: str
    previous: Decimal
    expected: Decimal
    observed: Decimal

    @property
    def difference(self) -> Decimal:
        return self.observed - self.expected


def compare_balances(
    previous: Mapping[str, Decimal],
    observed: Mapping[str, Decimal],
    changes: Mapping[str, Decimal],
    tolerance: BalanceTolerance | None = None,
) -> list[BalanceDifference]:
    """Every asset (sorted) whose ``observed`` balance is not ``previous`` plus ``changes``,
    within its tolerance. An asset missing from a mapping has a balance (or change) of zero."""
    tolerance = tolerance or BalanceTolerance()
    out: list[BalanceDifference] = []
    for asset in sorted(set(previous) | set(observed) | set(changes)):
        before = previous.get(asset, ZERO)
        expected = before + changes.get(asset, ZERO)
        now = observed.get(asset, ZERO)
        if abs(now - expected) > tolerance.of(asset):
            out.append(
                BalanceDifference(asset=asset, previous=before, expected=expected, observed=now)
            )
    return out


class BalanceBaseline(Frozen):
    """What a reconciliation compares from: the balances the previous one recorded, and when."""

    balances: dict[str, Decimal]
    ts_ns: int = Field(ge=0)
