"""Risk decision latency: in-process (10 rules, 100 open positions) and through the risk actor.

Prints one JSON object on its last line:

- ``decision_p50_us`` / ``decision_p99_us``: one intent checked by ``domain.risk.engine.decide``
  in-process (the set-up of ``benchmarks/risk_inprocess.py``), over every sample of every round;
  ``decision_p99_us_best_round`` is the p99 of the least disturbed round (on a shared machine the
  tail is mostly the scheduler, not the code), reported beside the load average.
- ``actor_decision_p50_ms``: ``RiskActor.on_signal`` on local Ray for a recorded signal: fold the
  tape, decide, append the decision to a SQLite tape, hand the approval to the paper gateway actor
  (which records the order) and return. ``actor_reject_p50_ms`` is the same for a refused signal
  (no gateway hop). ``ray_call_p50_ms`` is a bare Ray actor call measured in the same run, and
  the ``*_ratio`` fields divide by it.

Usage: ``python benchmarks/risk.py [--n 20000] [--rounds 5] [--actor-n 200]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit, machine, percentile
from benchmarks.risk_inprocess import T0, _instrument, build_view
from domain.events import EventMeta, SignalReceived, derive_id, signal_stream
from domain.risk.config import RiskConfig, RiskLimits
from domain.risk.engine import compiled_rules, decide
from domain.signal import Intent, Signal, Size, SizeKind


def bench_config(positions: int) -> RiskConfig:
    return RiskConfig(
        starting_equity=Decimal("1000000"),
        limits=RiskLimits(
            allowed_instruments=frozenset(_instrument(i) for i in range(positions)),
            max_position_quantity=Decimal("1000"),
            max_order_notional=Decimal("50000"),
            max_gross_exposure=Decimal("5000000"),
            max_net_exposure=Decimal("5000000"),
            max_leverage=Decimal("5"),
            max_open_orders=100000,
            price_band_pct=Decimal("5"),
            daily_loss_limit=Decimal("100000"),
        ),
    )


def in_process(n: int, rounds: int, positions: int) -> dict[str, Any]:
    config = bench_config(positions)
    view = build_view(positions)
    price = Decimal(100 + positions // 2)
    signal = Signal(
        source="bench",
        instrument=_instrument(positions // 2),
        intent=Intent.ENTER_LONG,
        ts_ns=T0,
        price_hint=price,
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
    for i in range(2000):  # warm-up
        decide(sig, view, config, meta, "risk.bench", i + 1)
    clock = time.perf_counter_ns
    every: list[float] = []
    round_p99: list[float] = []
    for _ in range(rounds):
        samples: list[float] = []
        gc.collect()
        gc.disable()
        try:
            for i in range(n):
                start = clock()
                decide(sig, view, config, meta, "risk.bench", i + 1)
                samples.append((clock() - start) / 1000)
        finally:
            gc.enable()
        round_p99.append(percentile(samples, 99))
        every += samples
    return {
        "decision_p50_us": round(statistics.median(every), 2),
        "decision_p99_us": round(percentile(every, 99), 2),
        "decision_p99_us_best_round": round(min(round_p99), 2),
        "rules": len(compiled_rules(config)),
        "positions": positions,
        "samples": len(every),
    }


def through_actor(n: int) -> dict[str, Any]:
    import ray

    from actors.gateway import GatewayActor
    from actors.risk import RiskActor
    from actors.tape_access import StreamWriter
    from store import open_tape

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ns = f"bench{uuid.uuid4().hex[:6]}"
    # Ray workers get the driver's sys.path: drop this script's folder (its store.py would shadow
    # the store package in the actors).
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    ray.init(
        _node_ip_address="127.0.0.1",
        num_cpus=2,
        object_store_memory=80 * 1024 * 1024,
        include_dashboard=False,
        namespace=ns,
        log_to_driver=False,
        configure_logging=False,
    )

    @ray.remote(num_cpus=0)
    class Bare:
        async def call(self, event: Any) -> str:
            return "ok"

    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/tape.sqlite"
            opts: dict[str, Any] = {"namespace": ns, "num_cpus": 0}
            gateway = GatewayActor.options(name="gateway.paper", **opts).remote(
                {"name": "paper", "kind": "paper"}, url
            )
            limits = {"limits": {"max_order_notional": "5000"}}
            risk = RiskActor.options(name="risk.bench", **opts).remote(
                "bench", limits, url, ["paper"], "paper", [], ns
            )
            bare = Bare.remote()
            ray.get([gateway.stats.remote(), risk.recover.remote(), bare.call.remote(None)])
            tape = open_tape(url)
            writer = StreamWriter(tape, "bench")

            def signal(notional: str) -> SignalReceived:
                stream = signal_stream("bench")
                sig = Signal(
                    source="bench",
                    instrument="BTC-USDT",
                    intent=Intent.ENTER_LONG,
                    ts_ns=T0,
                    price_hint=Decimal("100"),
                    size=Size(kind=SizeKind.NOTIONAL, value=Decimal(notional)),
                )
                meta = writer.meta()
                event = SignalReceived(
                    **meta.envelope(stream, writer.next_version(stream)), signal=sig
                )
                writer.append([event])
                return event

            def timed(call: Any, args: list[Any]) -> list[float]:
                out = []
                for arg in args:
                    start = time.perf_counter()
                    ray.get(call(arg))
                    out.append((time.perf_counter() - start) * 1000)
                return out

            approved = [signal("100") for _ in range(n + 20)]
            refused = [signal("9000") for _ in range(n + 20)]
            timed(bare.call.remote, approved[:20])
            bare_ms = timed(bare.call.remote, approved[20:])
            timed(risk.on_signal.remote, approved[:20])
            decide_ms = timed(risk.on_signal.remote, approved[20:])
            timed(risk.on_signal.remote, refused[:20])
            reject_ms = timed(risk.on_signal.remote, refused[20:])
            stats = ray.get(risk.stats.remote())
            tape.close()
    finally:
        ray.shutdown()
    assert stats["approved"] == n + 20 and stats["rejected"] == n + 20, stats
    base = statistics.median(bare_ms)
    decision = statistics.median(decide_ms)
    rejection = statistics.median(reject_ms)
    return {
        "actor_decision_p50_ms": round(decision, 3),
        "actor_decision_p99_ms": round(percentile(decide_ms, 99), 3),
        "actor_reject_p50_ms": round(rejection, 3),
        "ray_call_p50_ms": round(base, 3),
        "actor_decision_ratio": round(decision / base, 1),
        "actor_reject_ratio": round(rejection / base, 1),
        "actor_samples": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000, help="in-process samples per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--positions", type=int, default=100)
    parser.add_argument("--actor-n", type=int, default=200, help="signals through the actor")
    args = parser.parse_args()
    figures: dict[str, Any] = {"load_avg_1m": round(os.getloadavg()[0], 2), **machine()}
    figures.update(in_process(args.n, args.rounds, args.positions))
    if args.actor_n > 0:
        figures.update(through_actor(args.actor_n))
    emit(figures)


if __name__ == "__main__":
    main()
