"""decide(): sizing by intent, rounding, venue minimums, and the step-one limits."""

from __future__ import annotations

from decimal import Decimal

from domain.events import EventMeta, OrderIntentApproved, derive_id
from domain.risk.config import (
    InstrumentLimits,
    InstrumentSpec,
    RiskConfig,
    RiskLimits,
    SizingConfig,
    SizingKind,
)
from domain.risk.engine import decide
from domain.risk.view import RiskView
from domain.signal import Intent, OrderPreference
from domain.values import OrderType, Side
from tests.domain.risk.factories import D, Desk, fill, signal_event


def test_default_sizing_is_fixed_notional_rounded_down_to_the_lot() -> None:
    config = RiskConfig(instruments={"BTC-USDT": InstrumentSpec(lot_size=D("0.001"))})
    desk = Desk(config=config)
    approval = desk.approved(price="30000")
    assert approval.side is Side.BUY
    assert approval.quantity == D("0.033")  # 1000 / 30000 = 0.0333.. floored to the lot
    assert approval.reference_price == D("30000")
    assert approval.order_type is OrderType.MARKET


def test_approval_is_deterministic_and_its_client_order_id_derives_from_its_event_id() -> None:
    se = signal_event(price="100")
    meta = EventMeta(ts_ns=5, source="risk", causation_id=se.event_id)
    one = decide(se, RiskView(), RiskConfig(), meta, "risk.main", 7)
    two = decide(se, RiskView(), RiskConfig(), meta, "risk.main", 7)
    assert isinstance(one, OrderIntentApproved)
    assert one == two
    assert one.client_order_id == derive_id("coid", one.event_id).hex
    assert (one.stream, one.version, one.signal_event_id) == ("risk.main", 7, se.event_id)
    # the event survives the tape's round trip
    assert OrderIntentApproved.model_validate_json(one.model_dump_json()) == one


def test_below_min_quantity_is_refused_with_limit_and_observed() -> None:
    spec = InstrumentSpec(lot_size=D("0.01"), min_quantity=D("1"))
    desk = Desk(config=RiskConfig(instruments={"BTC-USDT": spec}))
    rejection = desk.rejected(price="2000")  # 1000 / 2000 = 0.5 < 1
    assert (rejection.rule, rejection.limit, rejection.observed) == ("min_quantity", "1", "0.5")


def test_size_rounding_to_zero_is_refused() -> None:
    spec = InstrumentSpec(lot_size=D("1"))
    desk = Desk(config=RiskConfig(instruments={"BTC-USDT": spec}))
    assert desk.rejected(price="5000").rule == "min_quantity"


def test_below_min_notional_is_refused() -> None:
    spec = InstrumentSpec(min_notional=D("50"))
    desk = Desk(config=RiskConfig(instruments={"BTC-USDT": spec}))
    rejection = desk.rejected(price="100", notional="20")
    assert (rejection.rule, rejection.limit, rejection.observed) == ("min_notional", "50", "20")


def test_max_order_notional() -> None:
    desk = Desk(config=RiskConfig(limits=RiskLimits(max_order_notional=D("500"))))
    rejection = desk.rejected(price="100")
    assert (rejection.rule, rejection.limit, rejection.observed) == (
        "max_order_notional",
        "500",
        "1000",
    )
    assert desk.approved(price="100", notional="500").quantity == D("5")


def test_pending_orders_count_toward_max_position() -> None:
    limits = RiskLimits(max_position_quantity=D("25"))
    desk = Desk(config=RiskConfig(limits=limits))
    desk.approved(price="100")  # 10 pending
    desk.approved(price="100")  # 20 pending
    rejection = desk.rejected(price="100")
    assert (rejection.rule, rejection.limit, rejection.observed) == ("max_position", "25", "30")


def test_canceling_a_pending_order_frees_its_room() -> None:
    from tests.domain.risk.factories import cancel

    desk = Desk(config=RiskConfig(limits=RiskLimits(max_position_quantity=D("15"))))
    first = desk.approved(price="100")
    desk.rejected(price="100")
    desk.record(cancel(first))
    desk.approved(price="100")


def test_per_instrument_override_wins() -> None:
    config = RiskConfig(
        limits=RiskLimits(max_position_quantity=D("100")),
        instrument_limits={"ETH-USDT": InstrumentLimits(max_position_quantity=D("5"))},
    )
    desk = Desk(config=config)
    desk.approved(price="100")
    assert desk.rejected(instrument="ETH-USDT", price="100").rule == "max_position"


def test_source_sizing_override() -> None:
    config = RiskConfig(
        sizing_by_source={"bot": SizingConfig(kind=SizingKind.FIXED_QUANTITY, quantity=D("3"))}
    )
    desk = Desk(config=config)
    assert desk.approved(price="100", source="bot").quantity == D("3")
    assert desk.approved(price="100").quantity == D("10")


def test_exit_closes_the_filled_position_reduce_only() -> None:
    desk = Desk()
    entry = desk.approved(price="100")
    desk.record(fill(entry))
    exit_ = desk.approved(Intent.EXIT, price="100")
    assert (exit_.side, exit_.quantity, exit_.reduce_only) == (Side.SELL, D("10"), True)
    # the exit is pending: a second exit has nothing left to close
    assert desk.rejected(Intent.EXIT, price="100").rule == "no_change"


def test_exit_when_flat_is_no_change() -> None:
    assert Desk().rejected(Intent.EXIT).rule == "no_change"


def test_reverse_closes_and_opens_the_other_way() -> None:
    desk = Desk()
    desk.record(fill(desk.approved(price="100")))
    rev = desk.approved(Intent.REVERSE, price="100")
    assert (rev.side, rev.quantity, rev.reduce_only) == (Side.SELL, D("20"), False)


def test_reverse_when_flat_is_refused() -> None:
    assert Desk().rejected(Intent.REVERSE).rule == "no_position"


def test_enter_short_against_a_long_closes_it_first() -> None:
    desk = Desk()
    desk.record(fill(desk.approved(price="100")))
    short = desk.approved(Intent.ENTER_SHORT, price="100")
    assert (short.side, short.quantity) == (Side.SELL, D("20"))


def test_target_position_orders_the_difference_counting_pending() -> None:
    desk = Desk()
    first = desk.approved(Intent.TARGET_POSITION, target=D("4"), price="100")
    assert (first.side, first.quantity) == (Side.BUY, D("4"))
    # repeated alert: the pending order already gets us there
    again = desk.rejected(Intent.TARGET_POSITION, target=D("4"), price="100")
    assert (again.rule, again.limit, again.observed) == ("no_change", "4", "4")
    down = desk.approved(Intent.TARGET_POSITION, target=D("-1"), price="100")
    assert (down.side, down.quantity) == (Side.SELL, D("5"))


def test_no_price_anywhere_is_refused() -> None:
    assert Desk().rejected(price=None).rule == "reference_price"


def test_mark_from_the_view_prices_a_market_order_without_hint() -> None:
    from tests.domain.risk.factories import bar

    desk = Desk()
    desk.record(bar("250"))
    approval = desk.approved(price=None)
    assert approval.reference_price == D("250")
    assert approval.quantity == D("4")


def test_limit_order_prices_are_rounded_to_the_tick_away_from_crossing() -> None:
    spec = InstrumentSpec(tick_size=D("0.5"), lot_size=D("0.001"))
    desk = Desk(config=RiskConfig(instruments={"BTC-USDT": spec}))
    order = OrderPreference(type=OrderType.LIMIT, limit_price=D("100.7"))
    buy = desk.approved(order=order, stop_loss=D("90.3"), take_profit=D("120.2"))
    assert buy.limit_price == D("100.5")
    assert (buy.stop_loss, buy.take_profit) == (D("90.5"), D("120"))
    sell = Desk(config=desk.config).approved(Intent.ENTER_SHORT, order=order)
    assert sell.limit_price == D("101")
    assert sell.quantity == D("9.930")  # 1000 / 100.7, floored to the lot


def test_order_preferences_pass_through() -> None:
    order = OrderPreference(
        type=OrderType.LIMIT, limit_price=D("99"), post_only=True, time_in_force="ioc"
    )
    approval = Desk().approved(order=order)
    assert approval.post_only and approval.time_in_force.value == "ioc"
    assert approval.order_type is OrderType.LIMIT


def test_signal_quantity_is_used_as_given() -> None:
    assert Desk().approved(quantity="1.5").quantity == Decimal("1.5")
