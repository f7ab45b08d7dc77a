"""Any sequence of signals, fills, cancels, price moves, limit changes and halts keeps the limits.

The venue here is honest: fills never exceed an order, reduce-only orders never flip a position.
Checked after every step: every approval that adds exposure left the worst case (filled plus
pending) within the limits in force; nothing passed while HALTED; the filled position matches an
independent count; and folding the tape rebuilds exactly the live view.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.events import OrderIntentApproved
from domain.risk.config import InstrumentSpec, RiskConfig, RiskLimits, TradingState
from domain.risk.control import apply_config, halt, reduce_only, resume
from domain.risk.view import RiskView, fold
from domain.signal import Intent
from domain.values import Side
from tests.domain.risk.factories import NS, T0, Desk, bar, cancel, fill

INSTRUMENTS = ("BTC-USDT", "ETH-USDT")
LIMITS = st.builds(
    RiskLimits,
    max_position_quantity=st.sampled_from([Decimal(5), Decimal(10), Decimal(25)]),
    max_gross_exposure=st.sampled_from([Decimal(1000), Decimal(3000), None]),
    max_net_exposure=st.sampled_from([Decimal(800), None]),
    max_open_orders=st.sampled_from([3, 10, None]),
)
SPEC = InstrumentSpec(lot_size=Decimal(1), tick_size=Decimal("0.01"))


class RiskMachine(RuleBasedStateMachine):
    @initialize(limits=LIMITS)
    def start(self, limits: RiskLimits) -> None:
        self.desk = Desk(config=self._config(limits))
        self.marks = {i: Decimal(100) for i in INSTRUMENTS}
        self.filled = {i: Decimal(0) for i in INSTRUMENTS}
        self.remaining: dict[str, tuple[OrderIntentApproved, Decimal, int]] = {}
        self.step = 0
        for i in INSTRUMENTS:
            self._tick()
            self.desk.record(bar(self.marks[i], instrument=i, ts_ns=self.desk.ts_ns))

    @staticmethod
    def _config(limits: RiskLimits) -> RiskConfig:
        return RiskConfig(limits=limits, default_instrument=SPEC)

    def _tick(self) -> int:
        self.step += 1
        self.desk.ts_ns = T0 + self.step * NS
        return self.desk.ts_ns

    @rule(
        intent=st.sampled_from(list(Intent)),
        instrument=st.sampled_from(INSTRUMENTS),
        quantity=st.integers(1, 12),
        goal=st.integers(-30, 30),
    )
    def signal(self, intent: Intent, instrument: str, quantity: int, goal: int) -> None:
        self._tick()
        view_before = self.desk.view.copy()
        kwargs: dict[str, object] = {"instrument": instrument, "price": self.marks[instrument]}
        if intent is Intent.TARGET_POSITION:
            kwargs["target"] = Decimal(goal)
        else:
            kwargs["quantity"] = quantity
        event = self.desk.signal(intent, **kwargs)
        base = view_before.copy()
        with base.trial() as trial:
            trial.apply(event)
            horizon = event.ts_ns - 60 * NS
            kept = deque(t for t in trial.approvals_ts if t >= horizon)  # as the view keeps
            assert replace(trial, approvals_ts=kept) == self.desk.view, "folds as on the view"
            assert trial.orders_since(horizon) == self.desk.view.orders_since(horizon)
        assert base == view_before, "the view is as it was after the trial"
        if not isinstance(event, OrderIntentApproved):
            return
        assert view_before.state is not TradingState.HALTED, "order approved while halted"
        self.remaining[event.client_order_id] = (event, event.quantity, 0)
        pos_before = view_before.position(instrument)
        before = max(abs(pos_before.hi), abs(pos_before.lo))
        pos = self.desk.view.position(instrument)
        worst = max(abs(pos.hi), abs(pos.lo))
        if worst <= before:
            return  # reduced (or kept) the worst case: allowed in any state, past any limit
        assert view_before.state is TradingState.ACTIVE, "exposure added while not ACTIVE"
        limits = self.desk.config.limits
        assert limits.max_position_quantity is not None
        assert worst <= limits.max_position_quantity
        if limits.max_gross_exposure is not None:
            assert self.desk.view.gross_exposure <= limits.max_gross_exposure
        if limits.max_net_exposure is not None:
            net = max(abs(self.desk.view.net_hi), abs(self.desk.view.net_lo))
            assert net <= limits.max_net_exposure
        if limits.max_open_orders is not None:
            assert len(self.desk.view.pending) <= limits.max_open_orders

    @rule(pick=st.integers(0, 50), half=st.booleans())
    def fill_order(self, pick: int, half: bool) -> None:
        if not self.remaining:
            return
        coid = sorted(self.remaining)[pick % len(self.remaining)]
        order, left, n = self.remaining[coid]
        quantity = max(Decimal(1), (left / 2).to_integral_value()) if half else left
        position = self.filled[order.instrument]
        if order.reduce_only:  # the venue never lets a reduce-only order flip the position
            room = position if order.side is Side.SELL else -position
            quantity = min(quantity, max(room, Decimal(0)))
        ts = self._tick()
        if quantity > 0:
            price = self.marks[order.instrument]
            self.desk.record(fill(order, quantity=quantity, price=price, ts_ns=ts, fill_id=str(n)))
            self.filled[order.instrument] += quantity * order.side.sign
            left -= quantity
        if left == 0:
            del self.remaining[coid]
        elif quantity == 0:
            self.desk.record(cancel(order, ts_ns=ts))
            del self.remaining[coid]
        else:
            self.remaining[coid] = (order, left, n + 1)

    @rule(pick=st.integers(0, 50))
    def cancel_order(self, pick: int) -> None:
        if not self.remaining:
            return
        coid = sorted(self.remaining)[pick % len(self.remaining)]
        self.desk.record(cancel(self.remaining.pop(coid)[0], ts_ns=self._tick()))

    @rule(instrument=st.sampled_from(INSTRUMENTS), move=st.integers(-30, 30))
    def price_moves(self, instrument: str, move: int) -> None:
        self.marks[instrument] = max(Decimal(10), self.marks[instrument] + move)
        ts = self._tick()
        self.desk.record(bar(self.marks[instrument], instrument=instrument, ts_ns=ts, n=ts))

    @rule(limits=LIMITS)
    def change_limits(self, limits: RiskLimits) -> None:
        config = self._config(limits)
        self.desk.record(apply_config(config, self.desk.meta(self._tick()), "risk.main", 9000))
        self.desk.config = config

    @rule(state=st.sampled_from(list(TradingState)), cancel_all=st.booleans())
    def change_state(self, state: TradingState, cancel_all: bool) -> None:
        meta = self.desk.meta(self._tick())
        view = self.desk.view
        if state is TradingState.HALTED:
            event = halt(view, meta, "risk.main", 9001, cancel_open_orders=cancel_all)
        elif state is TradingState.REDUCING:
            event = reduce_only(view, meta, "risk.main", 9001)
        else:
            event = resume(view, meta, "risk.main", 9001)
        self.desk.record(event)
        for coid in event.cancel_client_order_ids:
            self.desk.record(cancel(self.remaining.pop(coid)[0], ts_ns=meta.ts_ns))

    @invariant()
    def positions_match_an_independent_count(self) -> None:
        for instrument in INSTRUMENTS:
            pos = self.desk.view.position(instrument)
            assert pos.quantity == self.filled[instrument]
            assert pos.lo <= pos.quantity <= pos.hi
        assert set(self.desk.view.pending) == set(self.remaining)

    @invariant()
    def rebuilt_view_equals_live_view(self) -> None:
        rebuilt: RiskView = fold(self.desk.tape)
        assert rebuilt == self.desk.view


RiskMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRiskMachine = RiskMachine.TestCase
