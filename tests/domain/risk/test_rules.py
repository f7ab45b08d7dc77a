"""One test (or two) per pre-trade rule, through decide(): rule, limit and observed value."""

from __future__ import annotations

from domain.risk.config import RiskConfig, RiskLimits, TradingState
from domain.risk.control import halt, reduce_only, resume
from domain.signal import Intent, OrderPreference
from domain.values import OrderType
from tests.domain.risk.factories import INSTRUMENT, NS, T0, D, Desk, bar, fill


def desk_with(**limits: object) -> Desk:
    return Desk(config=RiskConfig(limits=RiskLimits(**limits)))


def triple(event: object) -> tuple[str, str | None, str | None]:
    return (event.rule, event.limit, event.observed)  # type: ignore[attr-defined]


def test_allowlist() -> None:
    desk = desk_with(allowed_instruments=frozenset({"ETH-USDT"}))
    assert triple(desk.rejected()) == ("instrument_allowlist", "ETH-USDT", INSTRUMENT)
    desk.approved(instrument="ETH-USDT")


def test_allowlist_lets_an_exit_through() -> None:
    desk = Desk()
    desk.record(fill(desk.approved()))
    desk.config = RiskConfig(limits=RiskLimits(allowed_instruments=frozenset({"ETH-USDT"})))
    desk.approved(Intent.EXIT)


def test_max_position_notional() -> None:
    desk = desk_with(max_position_notional=D("1500"))
    desk.approved()
    assert triple(desk.rejected()) == ("max_position_notional", "1500", "2000")


def test_max_position_counts_the_short_side_too() -> None:
    desk = desk_with(max_position_quantity=D("15"))
    desk.approved(Intent.ENTER_SHORT)
    assert triple(desk.rejected(Intent.ENTER_SHORT)) == ("max_position", "15", "20")


def test_max_gross_exposure_across_instruments() -> None:
    desk = desk_with(max_gross_exposure=D("2500"))
    desk.approved()
    desk.approved(Intent.ENTER_SHORT, instrument="ETH-USDT")
    assert triple(desk.rejected(instrument="SOL-USDT")) == ("max_gross_exposure", "2500", "3000")


def test_max_net_exposure_lets_hedges_through() -> None:
    desk = desk_with(max_net_exposure=D("1500"))
    desk.approved()
    assert triple(desk.rejected(instrument="ETH-USDT")) == ("max_net_exposure", "1500", "2000")
    desk.approved(Intent.ENTER_SHORT, instrument="SOL-USDT")


def test_max_leverage() -> None:
    desk = Desk(
        config=RiskConfig(starting_equity=D("1000"), limits=RiskLimits(max_leverage=D("1.5")))
    )
    desk.approved()
    assert triple(desk.rejected()) == ("max_leverage", "1.5", "2")


def test_max_open_orders() -> None:
    desk = desk_with(max_open_orders=2)
    first = desk.approved()
    desk.approved()
    assert triple(desk.rejected()) == ("max_open_orders", "2", "3")
    desk.record(fill(first))
    desk.approved()


def test_order_rate_per_second_uses_the_passed_timestamps() -> None:
    desk = desk_with(max_orders_per_second=2)
    desk.approved(ts_ns=T0)
    desk.approved(ts_ns=T0 + NS // 2)
    assert triple(desk.rejected(ts_ns=T0 + NS - 1)) == ("order_rate_1s", "2", "3")
    desk.approved(ts_ns=T0 + NS)


def test_order_rate_per_minute() -> None:
    desk = desk_with(max_orders_per_minute=1)
    desk.approved(ts_ns=T0)
    assert triple(desk.rejected(ts_ns=T0 + 59 * NS)) == ("order_rate_60s", "1", "2")
    desk.approved(ts_ns=T0 + 60 * NS)


def test_price_band_against_the_mark() -> None:
    desk = desk_with(price_band_pct=D("5"))
    desk.record(bar("100"))
    order = OrderPreference(type=OrderType.LIMIT, limit_price=D("110"))
    assert triple(desk.rejected(order=order)) == ("price_band", "5", "10")
    desk.approved(order=OrderPreference(type=OrderType.LIMIT, limit_price=D("104")))
    assert desk.rejected(price="94").rule == "price_band"


def test_daily_loss_rule_rejects_new_exposure_but_not_exits() -> None:
    desk = desk_with(daily_loss_limit=D("100"))
    desk.record(fill(desk.approved()))  # 10 @ 100
    desk.record(bar("89", ts_ns=T0 + NS))  # -110 unrealized
    assert triple(desk.rejected(price="89")) == ("daily_loss", "100", "110")
    desk.approved(Intent.EXIT, price="89")


def test_daily_loss_resets_at_the_configured_hour() -> None:
    hour = (T0 // NS // 3600) % 24
    desk = desk_with(daily_loss_limit=D("100"), daily_reset_hour_utc=(hour + 1) % 24)
    desk.record(fill(desk.approved()))
    desk.record(bar("89", ts_ns=T0 + NS))
    assert desk.rejected(price="89").rule == "daily_loss"
    next_day = (T0 // NS // 3600 + 1) * 3600 * NS
    desk.approved(price="89", ts_ns=next_day)


def test_halted_refuses_everything_even_exits() -> None:
    desk = Desk()
    desk.record(fill(desk.approved()))
    desk.record(halt(desk.view, desk.meta(), "risk.main", 100))
    assert triple(desk.rejected()) == ("trading_state", "halted", "order")
    assert desk.rejected(Intent.EXIT).rule == "trading_state"
    desk.record(resume(desk.view, desk.meta(), "risk.main", 101))
    desk.approved()


def test_reducing_lets_only_reducing_orders_through() -> None:
    desk = Desk()
    desk.record(fill(desk.approved()))
    desk.record(reduce_only(desk.view, desk.meta(), "risk.main", 100))
    assert desk.view.state is TradingState.REDUCING
    assert desk.rejected().rule == "trading_state"
    assert desk.rejected(Intent.REVERSE).rule == "trading_state"
    partial = desk.approved(Intent.TARGET_POSITION, target=D("4"))
    assert partial.quantity == D("6")
    desk.approved(Intent.EXIT)


def test_reducing_orders_skip_exposure_limits() -> None:
    desk = Desk()
    desk.record(fill(desk.approved()))
    desk.config = RiskConfig(limits=RiskLimits(max_position_quantity=D("1")))
    assert desk.rejected().rule == "max_position"
    desk.approved(Intent.TARGET_POSITION, target=D("5"))
