"""Halt, resume, new configurations, and the automatic daily-loss breach."""

from __future__ import annotations

from domain.events import RiskLimitBreached
from domain.events.risk import RiskConfigApplied, TradingStateChanged
from domain.risk.config import RiskConfig, RiskLimits, TradingState
from domain.risk.control import apply_config, detect_breaches, halt, resume
from domain.risk.view import fold
from domain.signal import Intent
from tests.domain.risk.factories import NS, T0, D, Desk, bar, fill


def test_halt_can_cancel_every_open_order() -> None:
    desk = Desk()
    a, b = desk.approved(), desk.approved(instrument="ETH-USDT")
    event = halt(desk.view, desk.meta(), "risk.main", 50, cancel_open_orders=True)
    assert event.state is TradingState.HALTED and event.previous is TradingState.ACTIVE
    assert sorted(event.cancel_client_order_ids) == sorted([a.client_order_id, b.client_order_id])
    keep = halt(desk.view, desk.meta(), "risk.main", 50, cancel_open_orders=False)
    assert keep.cancel_client_order_ids == []


def test_applied_config_is_rebuilt_from_the_tape_and_used_by_the_next_signal() -> None:
    desk = Desk()
    new = RiskConfig(limits=RiskLimits(max_order_notional=D("10")))
    applied = desk.record(apply_config(new, desk.meta(), "risk.main", 40))
    assert isinstance(applied, RiskConfigApplied)
    round_trip = RiskConfigApplied.model_validate_json(applied.model_dump_json())
    assert round_trip.config == new and round_trip.digest == applied.digest
    assert fold([round_trip]).config == new
    desk.config = desk.view.config  # what the actor does
    assert desk.rejected().rule == "max_order_notional"


def test_daily_loss_breach_halts_once_per_day_and_the_next_signal_is_refused() -> None:
    desk = Desk(config=RiskConfig(limits=RiskLimits(daily_loss_limit=D("100"))))
    desk.record(fill(desk.approved()))
    desk.record(bar("95", ts_ns=T0 + NS))
    assert detect_breaches(desk.view, desk.config, desk.meta(T0 + NS), "risk.main", 10) == []
    desk.record(bar("89", ts_ns=T0 + 2 * NS))
    events = detect_breaches(desk.view, desk.config, desk.meta(T0 + 2 * NS), "risk.main", 10)
    assert [type(e) for e in events] == [RiskLimitBreached, TradingStateChanged]
    breach, change = events
    assert isinstance(breach, RiskLimitBreached) and isinstance(change, TradingStateChanged)
    assert (breach.rule, breach.limit, breach.observed, breach.action) == (
        "daily_loss",
        "100",
        "110",
        "halted",
    )
    assert (change.version, change.state) == (11, TradingState.HALTED)
    for event in events:
        desk.record(event)
    refused = desk.rejected(price="89")
    assert (refused.rule, refused.limit) == ("trading_state", "halted")
    # resumed by hand the same day: no second automatic halt, but new exposure stays refused
    desk.record(resume(desk.view, desk.meta(), "risk.main", 12))
    assert detect_breaches(desk.view, desk.config, desk.meta(T0 + 3 * NS), "risk.main", 13) == []
    assert desk.rejected(price="89").rule == "daily_loss"


def test_breach_into_reducing_when_configured() -> None:
    limits = RiskLimits(daily_loss_limit=D("50"), on_daily_loss=TradingState.REDUCING)
    desk = Desk(config=RiskConfig(limits=limits))
    desk.record(fill(desk.approved()))
    desk.record(bar("90", ts_ns=T0 + NS))
    events = detect_breaches(desk.view, desk.config, desk.meta(T0 + NS), "risk.main", 10)
    assert isinstance(events[1], TradingStateChanged)
    assert events[1].state is TradingState.REDUCING
    assert events[1].cancel_client_order_ids == []


def test_realized_losses_and_fees_count_toward_the_daily_loss() -> None:
    desk = Desk(config=RiskConfig(limits=RiskLimits(daily_loss_limit=D("100"))))
    desk.record(fill(desk.approved(), fee="5"))
    desk.record(fill(desk.approved(Intent.EXIT), price="90"))
    assert desk.view.realized == D("-105")
    assert desk.view.position("BTC-USDT").quantity == 0
    assert len(detect_breaches(desk.view, desk.config, desk.meta(), "risk.main", 10)) == 2
