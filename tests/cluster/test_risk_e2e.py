"""Risk end to end on a real local Ray cluster, bars from a file through the paper venue.

A loss past the daily limit halts trading by itself (open orders canceled) and the next alert is
refused with rule ``trading_state`` on the tape; ``tapeline apply``'s risk part changes the limit
the next signal sees; the CLI resumes and halts with cancel through the running actor, or, with
no system running, on the tape; an emulated bracket's stop fires a reduce-only exit that fills.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import ray

from actors.risk_manager import RiskManager
from actors.tape_access import StreamWriter
from cluster.config import (
    MarketDataConfig,
    RayConfig,
    RiskProfileConfig,
    TapeConfig,
    TapelineConfig,
    VenueConfig,
)
from cluster.risk_cli import apply_risk_config, change_state
from cluster.runtime import System, start_system, stop_system
from domain.events import (
    Event,
    OrderCanceled,
    OrderFilled,
    OrderIntentApproved,
    OrderIntentRejected,
    RiskLimitBreached,
    SignalReceived,
    TradingStateChanged,
    signal_stream,
)
from domain.risk.config import TradingState
from domain.signal import Intent, OrderPreference, Signal, Size, SizeKind
from domain.values import OrderType
from store import open_tape

pytestmark = pytest.mark.ray

INSTRUMENT = "BTC-USDT"
T0_MS = 1_704_067_200_000


def write_bars(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["ts_ms,open,high,low,close,volume"]
    for i, (o, h, low, c) in enumerate(rows):
        lines.append(f"{T0_MS + i * 60_000},{o},{h},{low},{c},1000000")
    path.write_text("\n".join(lines) + "\n")
    return path


def config(
    tmp_path: Path, bars: Path, risk: dict[str, Any], brackets: str = "auto"
) -> TapelineConfig:
    return TapelineConfig(
        tape=TapeConfig(url=f"sqlite:///{tmp_path}/tape.sqlite"),
        ray=RayConfig(namespace=f"r{uuid.uuid4().hex[:8]}", dashboard=False),
        market_data=MarketDataConfig(
            source="file", venue="paper", instruments=[INSTRUMENT], files={INSTRUMENT: str(bars)}
        ),
        strategies=[],
        risk=[RiskProfileConfig(name="main", config=risk)],
        venues=[VenueConfig(name="paper", kind="paper", brackets=brackets)],
    )


class Alerts:
    """Records alerts on the tape as the webhook ingress does, and hands them to the risk actor."""

    def __init__(self, cfg: TapelineConfig, system: System) -> None:
        self.tape = open_tape(cfg.tape.url)
        self.writer = StreamWriter(self.tape, "ingress")
        self.risk = system.risks["main"]

    def send(self, notional: str, intent: Intent = Intent.ENTER_LONG, **kwargs: Any) -> str:
        stream = signal_stream("tv")
        signal = Signal(
            source="tv",
            instrument=INSTRUMENT,
            intent=intent,
            ts_ns=0,
            price_hint=kwargs.pop("price", "100"),
            size=Size(kind=SizeKind.NOTIONAL, value=notional),
            **kwargs,
        )
        event = SignalReceived(
            **self.writer.meta().envelope(stream, self.writer.next_version(stream)), signal=signal
        )
        self.writer.append([event])
        return str(ray.get(self.risk.on_signal.remote(event), timeout=30))

    def events(self, cls: type[Event]) -> list[Any]:
        return [r.event for r in self.tape.iter_all() if isinstance(r.event, cls)]


def bars(system: System, n: int = 1) -> None:
    ray.get(system.market_data.run.remote(max_steps=n), timeout=30)


def test_daily_loss_halts_then_apply_resume_and_halt_with_cancel(
    ray_cluster: object, tmp_path: Path
) -> None:
    rows = [("100", "100", "100", "100"), ("100", "100", "100", "100")]
    rows += [("90", "90", "90", "90")] * 4
    cfg = config(
        tmp_path, write_bars(tmp_path / "bars.csv", rows), {"limits": {"daily_loss_limit": "50"}}
    )
    system = start_system(cfg)
    try:
        alerts = Alerts(cfg, system)
        bars(system)
        assert alerts.send("1000") == "approved"
        resting = OrderPreference(type=OrderType.LIMIT, limit_price="50")
        assert alerts.send("500", order=resting) == "approved"
        bars(system)  # the entry fills near 100
        bars(system)  # marked at 90: about -100, past the limit of 50

        (breach,) = alerts.events(RiskLimitBreached)
        assert (breach.rule, breach.limit, breach.action) == ("daily_loss", "50", "halted")
        (halt,) = alerts.events(TradingStateChanged)
        assert halt.state is TradingState.HALTED and len(halt.cancel_client_order_ids) == 1
        assert [e.client_order_id for e in alerts.events(OrderCanceled)] == (
            halt.cancel_client_order_ids
        )
        assert alerts.send("1000") == "rejected"
        refused = alerts.events(OrderIntentRejected)[-1]
        assert (refused.rule, refused.limit) == ("trading_state", "halted")
        assert "halted" in refused.reason

        ns = cfg.ray.namespace
        apply_risk_config(
            "main", {"limits": {"daily_loss_limit": "500", "max_order_notional": "200"}}, ns
        )
        out = change_state(cfg, "main", TradingState.ACTIVE, "reviewed")
        assert (out["via"], out["state"]) == ("actor", "active")
        assert alerts.send("1000") == "rejected"
        refused = alerts.events(OrderIntentRejected)[-1]
        assert (refused.rule, refused.limit, refused.observed) == (
            "max_order_notional",
            "200",
            "1000",
        )

        assert alerts.send("100", order=resting, price="90") == "approved"
        out = change_state(cfg, "main", TradingState.HALTED, "by hand", cancel_open_orders=True)
        assert out["via"] == "actor" and len(out["cancel_requested"]) == 1
        canceled = {e.client_order_id for e in alerts.events(OrderCanceled)}
        assert set(out["cancel_requested"]) <= canceled
        assert ray.get(system.risks["main"].stats.remote())["state"] == "halted"
    finally:
        stop_system(system)


def test_emulated_bracket_fires_and_an_offline_halt_waits_on_the_tape(
    ray_cluster: object, tmp_path: Path
) -> None:
    rows = [("100", "100", "100", "100"), ("100", "101", "99", "100")]
    rows += [("97", "98", "94", "96"), ("96", "96", "96", "96"), ("96", "96", "96", "96")]
    cfg = config(tmp_path, write_bars(tmp_path / "bars.csv", rows), {}, brackets="emulated")
    system = start_system(cfg)
    try:
        alerts = Alerts(cfg, system)
        bars(system)
        assert alerts.send("1000", stop_loss="95", take_profit="110") == "approved"
        bars(system)  # entry fills
        bars(system)  # low 94 touches the stop: a reduce-only market exit is sent
        bars(system)  # ...and fills on this bar
        entry, exit_ = alerts.events(OrderIntentApproved)
        assert exit_.reduce_only and exit_.order_type is OrderType.MARKET
        assert (exit_.side, exit_.quantity, exit_.reference_price) == (
            entry.side.opposite,
            entry.quantity,
            95,
        )
        fills = {e.client_order_id: e for e in alerts.events(OrderFilled)}
        assert set(fills) == {entry.client_order_id, exit_.client_order_id}
        assert fills[exit_.client_order_id].quantity == entry.quantity
    finally:
        stop_system(system)

    out = change_state(cfg, "main", TradingState.HALTED, "weekend")  # nothing is running
    assert out["via"] == "tape" and "risk.main" in out["note"]
    with open_tape(cfg.tape.url) as tape:  # what a risk actor starting on this tape folds
        risk = RiskManager("main", {}, tape, ["paper"], "paper", lambda venue: None)  # type: ignore[arg-type,return-value]
        assert risk.view.state is TradingState.HALTED
