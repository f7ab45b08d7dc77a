"""The risk manager in-process: config from the tape, automatic halts, control, recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from actors.risk_manager import RiskManager
from domain.events import (
    OrderCanceled,
    OrderIntentApproved,
    OrderIntentRejected,
    RiskConfigApplied,
    RiskLimitBreached,
    TradingStateChanged,
)
from domain.risk.config import TradingState
from domain.signal import Intent, OrderPreference
from domain.values import OrderType
from store import Tape, open_tape
from tests.actors.risk_fakes import Desk, FakeGateway

LIMITS = {"limits": {"daily_loss_limit": "50", "max_order_notional": "5000"}}


@pytest.fixture
def tape() -> Iterator[Tape]:
    t = open_tape("memory://")
    yield t
    t.close()


def manager(
    tape: Tape, gateway: FakeGateway, config: dict[str, Any] | None = None, **kwargs: Any
) -> RiskManager:
    return RiskManager(
        "main",
        LIMITS if config is None else config,
        tape,
        ["paper"],
        "paper",
        lambda venue: gateway,
        **kwargs,
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_config_is_recorded_once_and_a_restart_keeps_what_apply_recorded(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    first = manager(tape, gw)
    manager(tape, gw)  # same configuration: nothing new
    assert len(desk.events(RiskConfigApplied)) == 1

    bigger = {"limits": {"daily_loss_limit": "500"}}
    digest = first.apply_config(bigger)
    assert first.apply_config(bigger) == digest  # unchanged: not recorded twice
    assert len(desk.events(RiskConfigApplied)) == 2

    restarted = manager(tape, gw, apply_configured=False)  # Ray restart: constructor args are old
    assert str(restarted.config.limits.daily_loss_limit) == "500"
    fresh = manager(tape, gw)  # a deliberate start with a configuration file wins
    assert str(fresh.config.limits.daily_loss_limit) == "50"
    assert len(desk.events(RiskConfigApplied)) == 3


def test_the_next_signal_sees_a_new_limit_without_restart(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {"limits": {"max_order_notional": "500"}})
    assert run(risk.on_signal(desk.signal(notional="1000"))) == "rejected"
    (rejected,) = desk.events(OrderIntentRejected)
    assert (rejected.rule, rejected.limit, rejected.observed) == (
        "max_order_notional",
        "500",
        "1000",
    )
    risk.apply_config({"limits": {"max_order_notional": "2000"}})
    assert run(risk.on_signal(desk.signal(notional="1000"))) == "approved"


def test_a_daily_loss_halts_cancels_open_orders_and_refuses_the_next_signal(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw)
    desk.bar("100")
    assert run(risk.on_signal(desk.signal(notional="1000"))) == "approved"
    limit = OrderPreference(type=OrderType.LIMIT, limit_price="90")
    assert run(risk.on_signal(desk.signal(notional="500", order=limit))) == "approved"
    entry, resting = gw.intents()
    gw.fill(entry.client_order_id, "100")
    desk.bar("94")  # 10 units lose 60 > 50
    run(risk.step())

    (breach,) = desk.events(RiskLimitBreached)
    assert (breach.rule, breach.limit, breach.observed, breach.action) == (
        "daily_loss",
        "50",
        "60",
        "halted",
    )
    (halt,) = desk.events(TradingStateChanged)
    assert halt.state is TradingState.HALTED and halt.causation_id == breach.causation_id
    assert halt.cancel_client_order_ids == [resting.client_order_id]
    assert gw.canceled == [resting.client_order_id]
    assert risk.view.pending == {}

    assert run(risk.on_signal(desk.signal())) == "rejected"
    last = desk.events(OrderIntentRejected)[-1]
    assert (last.rule, last.reason) == ("trading_state", "trading is halted (kill switch)")
    desk.bar("80")
    run(risk.step())
    assert len(desk.events(RiskLimitBreached)) == 1  # once per risk day


def test_halt_resume_and_reduce_only_by_hand(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw)
    desk.bar("100")
    run(risk.on_signal(desk.signal(notional="300")))
    gw.fill(gw.intents()[0].client_order_id, "100")
    limit = OrderPreference(type=OrderType.LIMIT, limit_price="95")
    run(risk.on_signal(desk.signal(notional="300", order=limit)))
    resting = gw.intents()[1].client_order_id

    out = run(risk.change_state(TradingState.HALTED, "by hand", cancel_open_orders=True))
    assert out == {
        "profile": "main",
        "state": "halted",
        "previous": "active",
        "cancel_requested": [resting],
    }
    assert [e.client_order_id for e in desk.events(OrderCanceled)] == [resting]
    assert run(risk.on_signal(desk.signal(Intent.EXIT))) == "rejected"

    run(risk.change_state(TradingState.REDUCING, "only out"))
    assert run(risk.on_signal(desk.signal(notional="300"))) == "rejected"
    assert desk.events(OrderIntentRejected)[-1].rule == "trading_state"
    assert run(risk.on_signal(desk.signal(Intent.EXIT))) == "approved"

    run(risk.change_state(TradingState.ACTIVE, "back"))
    assert run(risk.on_signal(desk.signal(notional="300"))) == "approved"
    states = [e.state for e in desk.events(TradingStateChanged)]
    assert states == [TradingState.HALTED, TradingState.REDUCING, TradingState.ACTIVE]


def test_emulated_take_profit_fires_one_reduce_only_exit(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {})
    desk.bar("100")
    sig = desk.signal(notional="1000", stop_loss="95", take_profit="110")
    assert run(risk.on_signal(sig)) == "approved"
    (entry,) = gw.intents()
    assert (entry.stop_loss, entry.take_profit) == (95, 110)
    desk.bar("101", high="111", low="94")  # before the fill nothing can fire
    gw.fill(entry.client_order_id, "100")
    desk.bar("101", high="109", low="96")
    run(risk.step())
    assert len(gw.intents()) == 1

    desk.bar("111", high="112", low="108")
    run(risk.step())
    _, exit_ = gw.intents()
    assert exit_.reduce_only and exit_.order_type is OrderType.MARKET
    assert (exit_.side, exit_.quantity) == (entry.side.opposite, entry.quantity)
    assert exit_.reference_price == 110  # the take profit fired

    gw.fill(exit_.client_order_id, "111")
    desk.bar("80", low="70")
    run(risk.step())
    assert len(gw.intents()) == 2 and risk.book.brackets == {}
    assert risk.view.position("BTC-USDT").quantity == 0


def test_an_emulated_stop_touched_while_halted_leaves_on_resume_even_after_a_restart(
    tape: Tape,
) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {})
    desk.bar("100")
    run(risk.on_signal(desk.signal(notional="1000", stop_loss="95")))
    (entry,) = gw.intents()
    gw.fill(entry.client_order_id, "100")
    run(risk.change_state(TradingState.HALTED, "pause"))
    desk.bar("90", low="89")
    run(risk.step())
    assert len(gw.intents()) == 1  # nothing leaves while halted

    restarted = manager(tape, gw, {})  # the replay reaches the same held-back exit
    run(restarted.recover())
    assert len(gw.intents()) == 1
    run(restarted.change_state(TradingState.ACTIVE, "go"))
    _, exit_ = gw.intents()
    assert (exit_.reduce_only, exit_.quantity, exit_.reference_price) == (True, 10, 95)
    desk.bar("90", low="80")
    run(restarted.step())
    assert len(gw.intents()) == 2  # fired once


def test_native_bracket_places_both_children_and_one_cancels_the_other(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {}, native_bracket_venues=["paper"])
    desk.bar("100")
    sig = desk.signal(notional="1000", stop_loss="95", take_profit="110", venue="paper")
    run(risk.on_signal(sig))
    (entry,) = gw.intents()
    gw.fill(entry.client_order_id, "100")
    run(risk.step())
    _, stop, take = gw.intents()
    assert (stop.order_type, stop.stop_price, stop.reduce_only) == (OrderType.STOP_MARKET, 95, True)
    assert (take.order_type, take.limit_price, take.quantity) == (OrderType.LIMIT, 110, 10)
    gw.fill(take.client_order_id, "110")
    run(risk.step())
    assert gw.canceled == [stop.client_order_id]


def test_a_restart_finishes_what_a_crash_interrupted(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {}, sources=["tv"])
    desk.bar("100")
    gw.fail_next_submit = True
    with pytest.raises(ConnectionError):
        run(risk.on_signal(desk.signal()))
    undecided = desk.signal()  # recorded, never handed to the risk manager
    assert len(desk.events(OrderIntentApproved)) == 1 and gw.intents() == []

    again = manager(tape, gw, {}, sources=["tv"])
    assert run(again.recover()) >= 2
    assert len(gw.intents()) == 2
    assert {a.signal_event_id for a in desk.events(OrderIntentApproved)} >= {undecided.event_id}
    assert run(again.on_signal(undecided)) == "duplicate"


def test_a_control_event_written_beside_the_running_manager_is_respected(tape: Tape) -> None:
    """The CLI without a running system appends to the risk stream; a running manager that did
    not see it collides on the version, catches up and decides again."""
    from cluster.risk_cli import record_state_change

    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {})
    desk.bar("100")
    assert run(risk.on_signal(desk.signal())) == "approved"
    record_state_change(tape, "main", TradingState.HALTED, "offline halt", cancel_open_orders=False)
    assert run(risk.on_signal(desk.signal())) == "rejected"
    assert desk.events(OrderIntentRejected)[-1].rule == "trading_state"


def test_a_halt_recorded_while_nothing_ran_cancels_its_orders_at_the_next_start(
    tape: Tape,
) -> None:
    from cluster.risk_cli import record_state_change

    gw, desk = FakeGateway(tape), Desk(tape)
    risk = manager(tape, gw, {})
    desk.bar("100")
    limit = OrderPreference(type=OrderType.LIMIT, limit_price="90")
    run(risk.on_signal(desk.signal(order=limit)))
    (resting,) = gw.intents()
    del risk  # the system stops; the CLI writes to the tape
    halt = record_state_change(
        tape, "main", TradingState.HALTED, "offline", cancel_open_orders=True
    )
    assert halt.cancel_client_order_ids == [resting.client_order_id]
    restarted = manager(tape, gw, {})
    run(restarted.recover())
    assert gw.canceled == [resting.client_order_id]
    assert restarted.view.state is TradingState.HALTED and restarted.view.pending == {}
