"""In-process latency of one risk decision: 10 active rules, 100 open positions.

Prints one JSON object on its last line: ``decision_p50_us`` and ``decision_p99_us``
(goal: p99 <= 50 us). Usage: ``python benchmarks/risk_inprocess.py [--n 20000]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from decimal import Decimal

from domain.events import BarClosed, EventMeta, OrderFilled, SignalReceived, derive_id
from domain.risk.config import RiskConfig, RiskLimits
from domain.risk.engine import compiled_rules, decide
from domain.risk.view import RiskView
from domain.signal import Intent, Signal

T0 = 1_700_000_000 * 1_000_000_000


def _instrument(i: int) -> str:
    return f"C{i:03d}-USDT"


def build_view(positions: int) -> RiskView:
    view = RiskView()
    for i in range(positions):
        inst = _instrument(i)
        price = Decimal(100 + i)
        view.apply(
            BarClosed(
                event_id=derive_id("bar", i),
                stream=f"bars.paper.{inst}",
                version=1,
                ts_ns=T0,
                source="md",
                venue="paper",
                instrument=inst,
                open_ts_ns=T0,
                interval_s=60,
                open=price,
                high=price,
                low=price,
                close=price,
                volume=Decimal(1),
            )
        )
        view.apply(
            OrderFilled(
                event_id=derive_id("fill", i),
                stream=f"order.c{i}",
                version=2,
                ts_ns=T0,
                source="gw",
                client_order_id=f"c{i}",
                fill_id="1",
                strategy="bench",
                venue="paper",
                instrument=inst,
                side="buy" if i % 2 else "sell",
                quantity=Decimal("1.5"),
                price=price,
                fee=Decimal("0.01"),
                fill_ts_ns=T0,
            )
        )
    return view


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--positions", type=int, default=100)
    args = parser.parse_args()

    config = RiskConfig(
        starting_equity=Decimal("1000000"),
        limits=RiskLimits(
            allowed_instruments=frozenset(_instrument(i) for i in range(args.positions)),
            max_position_quantity=Decimal("1000"),
            max_order_notional=Decimal("50000"),
            max_gross_exposure=Decimal("5000000"),
            max_net_exposure=Decimal("5000000"),
            max_leverage=Decimal("5"),
            max_open_orders=1000,
            price_band_pct=Decimal("5"),
            daily_loss_limit=Decimal("100000"),
        ),
    )
    rules = compiled_rules(config)
    view = build_view(args.positions)
    signal = Signal(
        source="bench",
        instrument=_instrument(args.positions // 2),
        intent=Intent.ENTER_LONG,
        ts_ns=T0,
        price_hint=Decimal(100 + args.positions // 2),
    )
    sig = SignalReceived(
        event_id=derive_id("sig"),
        stream="signals.bench",
        version=1,
        ts_ns=T0,
        source="ingress",
        signal=signal,
    )
    meta = EventMeta(ts_ns=T0 + 1, source="risk", causation_id=sig.event_id)
    first = decide(sig, view, config, meta, "risk.bench", 1)
    assert type(first).__name__ == "OrderIntentApproved", first

    for i in range(min(args.n, 2000)):  # warm-up: caches, allocator, branch predictors
        decide(sig, view, config, meta, "risk.bench", i + 1)
    samples: list[float] = []
    gc.collect()
    gc.disable()
    clock = time.perf_counter_ns
    for i in range(args.n):
        start = clock()
        decide(sig, view, config, meta, "risk.bench", i + 1)
        samples.append((clock() - start) / 1000)
    gc.enable()
    samples.sort()
    result = {
        "decision_p50_us": round(statistics.median(samples), 2),
        "decision_p99_us": round(samples[int(len(samples) * 0.99) - 1], 2),
        "rules": len(rules),
        "positions": args.positions,
        "samples": args.n,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
