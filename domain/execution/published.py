"""Each venue's published request limits and what each gateway operation costs against them.

Sources (checked when this was written; venues change them, so ``params`` may override):

- Binance spot: request weight 6000 per minute; order placements 100 per 10 s and 200 000 per
  day per account. Weights: new order 1, cancel 1, query order 4, open orders without a symbol
  80, account 20, myTrades 20 per symbol, exchangeInfo 20.
- Hyperliquid: 1200 weight per minute per IP across /info and /exchange. An exchange action
  weighs 1 + floor(batch/40); info: orderStatus, allMids, clearinghouseState 2; userRole 60;
  openOrders, userFillsByTime, meta and the rest 20.
- Kraken spot (Starter tier by default): a REST call counter of at most 15 decaying 0.33/s
  (Intermediate 20 and 0.5/s, Pro 20 and 1/s); trade history costs 2, other calls 1, AddOrder
  and CancelOrder are not counted there but on a per-pair trading counter of 60 decaying 1/s
  (Intermediate 125 and 2.34/s, Pro 180 and 3.75/s): a placement adds 1, a cancel up to 8 when
  the order is younger than 5 s.
- Coinbase Advanced Trade: private endpoints 30 requests per second per user; public 10 per
  second per IP.

An operation's cost is an upper bound of what the adapter sends for it (a Hyperliquid market
order also reads the mid price; a cancel is followed by a lookup).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.execution.limits import Budgets, BudgetSpec, Costs

OPERATIONS = (
    "place",
    "place_market",
    "cancel",
    "lookup",
    "open_orders",
    "fills",
    "balances",
    "positions",
    "instruments",
    "permissions",
)


@dataclass(frozen=True)
class VenueLimits:
    venue_kind: str
    specs: Mapping[str, BudgetSpec]
    costs: Mapping[str, Costs]
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def cost(self, op: str) -> Costs:
        try:
            return self.costs[op]
        except KeyError:
            raise ValueError(f"{self.venue_kind}: no cost known for operation {op!r}") from None

    def budgets(self, headroom: float = 0.9) -> Budgets:
        return Budgets(specs=self.specs, headroom=headroom)

    def sustained_orders_per_s(self, headroom: float = 0.9) -> float:
        """The long-run placement rate these limits allow (placements only, no reads)."""
        rates = []
        for name, units in self.cost("place").items():
            spec = self.specs[name]
            per_s = spec.capacity / spec.window_s if spec.kind == "window" else spec.decay_per_s
            rates.append(per_s * headroom / units)
        return min(rates)


def _binance() -> VenueLimits:
    specs = {
        "weight": BudgetSpec("window", 6000, window_s=60),
        "orders_10s": BudgetSpec("window", 100, window_s=10, slots=10),
        "orders_day": BudgetSpec("window", 200_000, window_s=86_400, slots=96),
    }
    place = {"weight": 1, "orders_10s": 1, "orders_day": 1}
    costs: dict[str, Costs] = {
        "place": place,
        "place_market": place,
        "cancel": {"weight": 5},
        "lookup": {"weight": 4},
        "open_orders": {"weight": 80},
        "fills": {"weight": 20},
        "balances": {"weight": 20},
        "positions": {},
        "instruments": {"weight": 20},
        "permissions": {"weight": 1},
    }
    return VenueLimits("binance", specs, costs)


def _hyperliquid() -> VenueLimits:
    specs = {"weight": BudgetSpec("window", 1200, window_s=60)}
    costs: dict[str, Costs] = {
        "place": {"weight": 1},
        "place_market": {"weight": 3},
        "cancel": {"weight": 3},
        "lookup": {"weight": 2},
        "open_orders": {"weight": 20},
        "fills": {"weight": 20},
        "balances": {"weight": 2},
        "positions": {"weight": 2},
        "instruments": {"weight": 20},
        "permissions": {"weight": 60},
    }
    return VenueLimits("hyperliquid", specs, costs)


KRAKEN_TIERS = {
    "starter": (15, 0.33, 60, 1.0),
    "intermediate": (20, 0.5, 125, 2.34),
    "pro": (20, 1.0, 180, 3.75),
}


def _kraken(tier: str = "starter") -> VenueLimits:
    try:
        rest_max, rest_decay, trade_max, trade_decay = KRAKEN_TIERS[tier]
    except KeyError:
        raise ValueError(f"unknown Kraken tier {tier!r}: {sorted(KRAKEN_TIERS)}") from None
    specs = {
        "rest": BudgetSpec("counter", rest_max, decay_per_s=rest_decay),
        "trading": BudgetSpec("counter", trade_max, decay_per_s=trade_decay, per_instrument=True),
    }
    costs: dict[str, Costs] = {
        "place": {"trading": 1},
        "place_market": {"trading": 1},
        "cancel": {"trading": 8, "rest": 2},
        "lookup": {"rest": 2},
        "open_orders": {"rest": 1},
        "fills": {"rest": 2},
        "balances": {"rest": 1},
        "positions": {},
        "instruments": {},
        "permissions": {"rest": 1},
    }
    return VenueLimits("kraken", specs, costs, extra={"tier": tier})


def _coinbase() -> VenueLimits:
    specs = {
        "private": BudgetSpec("window", 30, window_s=1, slots=10),
        "public": BudgetSpec("window", 10, window_s=1, slots=10),
    }
    one = {"private": 1}
    costs: dict[str, Costs] = {
        "place": one,
        "place_market": one,
        "cancel": {"private": 2},
        "lookup": one,
        "open_orders": one,
        "fills": one,
        "balances": one,
        "positions": {},
        "instruments": {"public": 1},
        "permissions": one,
    }
    return VenueLimits("coinbase", specs, costs)


def published_limits(kind: str, **options: Any) -> VenueLimits | None:
    """The limits of venue ``kind``; None for venues without any (paper)."""
    if kind == "binance":
        return _binance()
    if kind == "hyperliquid":
        return _hyperliquid()
    if kind == "kraken":
        return _kraken(str(options.get("tier", "starter")))
    if kind == "coinbase":
        return _coinbase()
    return None
