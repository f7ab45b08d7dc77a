"""Risk manager snapshots: a restart from the latest snapshot plus the rest of the tape holds what
a restart from the whole tape holds, a snapshot that does not fit is never used, and restarts
from snapshots at any point never double a decision or an order."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import risk_snapshot
from actors.risk_manager import RiskManager
from domain.events import OrderIntentApproved, OrderIntentRejected, SignalReceived
from domain.risk.config import TradingState
from domain.signal import Intent, OrderPreference
from domain.values import OrderType
from store import Tape, open_tape, snapshot_codec
from tests.actors.risk_fakes import Desk, FakeGateway

CONFIG = {"limits": {"daily_loss_limit": "80", "max_order_notional": "5000"}}


@pytest.fixture
def tape() -> Iterator[Tape]:
    t = open_tape("memory://")
    yield t
    t.close()


def make(
    tape: Tape, gw: FakeGateway, config: dict[str, Any] | None = None, **kwargs: Any
) -> RiskManager:
    kwargs.setdefault("apply_configured", False)
    config = CONFIG if config is None else config
    return RiskManager("main", config, tape, ["paper"], "paper", lambda venue: gw, **kwargs)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def folded(m: RiskManager) -> dict[str, Any]:
    m.sync()
    return risk_snapshot.prune(risk_snapshot.capture(m))


def decisions_per_signal(desk: Desk) -> dict[Any, int]:
    """Decisions recorded for each signal (bracket children are caused by their parent)."""
    signals = [e.event_id for e in desk.events(SignalReceived)]
    caused = Counter(
        e.causation_id for e in desk.events(OrderIntentApproved) + desk.events(OrderIntentRejected)
    )
    return {s: caused[s] for s in signals}


def history(tape: Tape, gw: FakeGateway, desk: Desk, **kwargs: Any) -> RiskManager:
    """A live manager with some of everything: fills, resting orders, a bracket, a halt."""
    live = make(tape, gw, apply_configured=True, **kwargs)
    desk.bar("100")
    run(live.on_signal(desk.signal(notional="500", stop_loss="95", take_profit="110")))
    limit = OrderPreference(type=OrderType.LIMIT, limit_price="90")
    run(live.on_signal(desk.signal(notional="300", order=limit)))
    gw.fill(gw.intents()[0].client_order_id, "100")
    desk.bar("101", high="104", low="99")
    run(live.step())
    run(live.on_signal(desk.signal(Intent.ENTER_SHORT, notional="200")))
    desk.signal()  # recorded, not decided yet
    return live


# equality with a full fold ---------------------------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("signal"),
            st.sampled_from([Intent.ENTER_LONG, Intent.ENTER_SHORT, Intent.EXIT]),
            st.sampled_from(["300", "1000"]),
            st.booleans(),
            st.booleans(),
        ),
        st.tuples(st.just("record_only")),
        st.tuples(st.just("bar"), st.integers(80, 120), st.integers(0, 12)),
        st.tuples(st.just("fill"), st.integers(0, 99), st.booleans()),
        st.tuples(st.just("cancel"), st.integers(0, 99)),
        st.tuples(st.just("state"), st.sampled_from(list(TradingState)), st.booleans()),
        st.tuples(st.just("fail_submit")),
        st.tuples(st.just("snapshot")),
        st.tuples(st.just("crash")),
    ),
    max_size=40,
)


def play(ops: list[tuple[Any, ...]], native: bool, tape: Tape) -> tuple[RiskManager, FakeGateway]:
    gw, desk = FakeGateway(tape), Desk(tape)
    venues = ["paper"] if native else []
    kwargs: dict[str, Any] = {"native_bracket_venues": venues, "snapshot_every": 6}
    live = make(tape, gw, apply_configured=True, **kwargs)
    close = 100
    desk.bar(str(close))
    for op in ops:
        try:
            match op:
                case ("signal", intent, notional, bracket, limit):
                    extra: dict[str, Any] = {"venue": "paper"}
                    if bracket and intent is not Intent.EXIT:
                        sign = 1 if intent is Intent.ENTER_LONG else -1
                        extra["stop_loss"] = str(close - 5 * sign)
                        extra["take_profit"] = str(close + 10 * sign)
                    if limit:
                        price = str(close - 3)
                        extra["order"] = OrderPreference(type=OrderType.LIMIT, limit_price=price)
                    sig = desk.signal(intent, price=str(close), notional=notional, **extra)
                    run(live.on_signal(sig))
                case ("record_only",):
                    desk.signal(price=str(close))
                case ("bar", c, spread):
                    close = c
                    desk.bar(str(c), high=str(c + spread), low=str(c - spread))
                    run(live.step())
                case ("fill", index, partial):
                    open_ = [coid for coid, o in gw.orders.items() if o.open]
                    if open_:
                        coid = open_[index % len(open_)]
                        qty = gw.orders[coid].intent.quantity
                        gw.fill(coid, str(close), qty / 3 if partial else None)
                        run(live.step())
                case ("cancel", index):
                    open_ = [coid for coid, o in gw.orders.items() if o.open]
                    if open_:
                        run(gw.cancel(open_[index % len(open_)], "venue canceled"))
                case ("state", state, cancel):
                    run(live.change_state(state, "test", cancel_open_orders=cancel))
                case ("fail_submit",):
                    gw.fail_next_submit = True
                case ("snapshot",):
                    live.sync()
                    live.save_snapshot()
                case ("crash",):
                    live = make(tape, gw, **kwargs)
                    run(live.recover())
        except ConnectionError:
            pass  # the gateway was unreachable: recover() hands the approval on later
    return live, gw


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=OPS, native=st.booleans())
def test_snapshot_plus_tail_equals_a_full_fold(ops: list[tuple[Any, ...]], native: bool) -> None:
    with open_tape("memory://") as tape:
        live, gw = play(ops, native, tape)
        venues = ["paper"] if native else []
        full = make(tape, gw, native_bracket_venues=venues, snapshot_every=None)
        restored = make(tape, gw, native_bracket_venues=venues)
        expected = folded(full)
        assert folded(restored) == expected
        assert folded(live) == expected  # what the live manager would save is the same

        gw.fail_next_submit = False
        run(restored.recover())  # and the restored manager finishes the work: once
        desk = Desk(tape)
        assert set(decisions_per_signal(desk).values()) <= {1}
        coids = Counter(e.client_order_id for e in desk.events(OrderIntentApproved))
        assert not [c for c, n in coids.items() if n > 1]


def test_a_restart_uses_the_snapshot_and_folds_only_the_rest(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    live = history(tape, gw, desk)
    live.sync()
    at = live.save_snapshot()
    assert at == tape.max_position()
    desk.bar("97", low="94")  # after the snapshot: fires the bracket's stop on the next step
    restored = make(tape, gw)
    assert restored.follower.position == tape.max_position()
    assert folded(restored) == folded(make(tape, gw, snapshot_every=None))
    run(restored.recover())
    assert len(desk.events(OrderIntentApproved)) == 5  # 3 entries, the undecided one, the stop
    assert set(decisions_per_signal(desk).values()) == {1}


def test_a_long_replay_saves_a_snapshot_and_a_periodic_step_too(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    history(tape, gw, desk, snapshot_every=1000)
    assert tape.latest_snapshot("risk.main") is None
    make(tape, gw, snapshot_every=3)  # replayed more than 3 positions: saved
    found = tape.latest_snapshot("risk.main")
    assert found is not None and found[0] == tape.max_position()
    live = make(tape, gw, snapshot_every=3)
    for close in ("100", "101", "102"):
        desk.bar(close)
    run(live.step())
    assert tape.latest_snapshot("risk.main")[0] == tape.max_position()  # type: ignore[index]


# snapshots that do not fit ---------------------------------------------------------------------


def _poisoned(tape: Tape, key: str, *, format_: int = risk_snapshot.SNAPSHOT_FORMAT) -> None:
    """A snapshot at the tape's end that forgets every decision (wrong, if it were trusted)."""
    gw = FakeGateway(tape)
    state = risk_snapshot.capture(make(tape, gw, snapshot_every=None))
    state["decided"] = set()
    body = risk_snapshot.prune(state)
    blob = snapshot_codec.dumps({"format": format_, "key": key, "state": body})
    tape.save_snapshot("risk.main", tape.max_position(), blob)


def _trusted(tape: Tape, gw: FakeGateway, **kwargs: Any) -> bool:
    """Whether a new manager started from the snapshot rather than the whole tape."""
    m = make(tape, gw, **kwargs)
    return m.decided != make(tape, gw, snapshot_every=None, **kwargs).decided


def test_the_key_gates_a_snapshot(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    history(tape, gw, desk)
    key = make(tape, gw).snapshot_key
    _poisoned(tape, key)
    assert _trusted(tape, gw)  # the control: a snapshot with the right key is used


@pytest.mark.parametrize(
    "change",
    ["older code", "older format", "other native venues", "other sources"],
)
def test_a_snapshot_from_another_code_or_configuration_is_ignored(
    tape: Tape, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    history(tape, gw, desk)
    m = make(tape, gw)
    key = m.snapshot_key
    if change == "older code":
        monkeypatch.setattr(risk_snapshot, "code_digest", lambda: "0" * 64)
        key = risk_snapshot.snapshot_key(m.stream, None, ())
        monkeypatch.undo()
        assert key != m.snapshot_key
    _poisoned(tape, key, format_=0 if change == "older format" else risk_snapshot.SNAPSHOT_FORMAT)
    kwargs: dict[str, Any] = {}
    if change == "other native venues":
        kwargs["native_bracket_venues"] = ["paper"]
    if change == "other sources":
        kwargs["sources"] = ["tv"]
    assert not _trusted(tape, gw, **kwargs)
    bad = make(tape, gw, **kwargs)
    assert folded(bad) == folded(make(tape, gw, snapshot_every=None, **kwargs))


@pytest.mark.parametrize(
    "blob",
    [
        b"not json",
        orjson.dumps({"$o": "os:system", "a": {}}),
        orjson.dumps([1, 2, 3]),
        b"__STATE_WITHOUT_VIEW__",
        b"__CONFIG_OF_ANOTHER_SHAPE__",
    ],
)
def test_an_undecodable_or_malformed_snapshot_is_ignored(tape: Tape, blob: bytes) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    history(tape, gw, desk)
    key = make(tape, gw).snapshot_key
    doc = orjson.loads(risk_snapshot.encode(key, risk_snapshot.capture(make(tape, gw))))
    if blob == b"__STATE_WITHOUT_VIEW__":
        doc["$dict"] = [kv for kv in doc["$dict"] if kv[0] != "state"] + [["state", {"$dict": []}]]
        blob = orjson.dumps(doc)
    elif blob == b"__CONFIG_OF_ANOTHER_SHAPE__":
        text = orjson.dumps(doc).replace(b'"daily_loss_limit"', b'"daily_loss_cap"')
        assert text != orjson.dumps(doc)
        blob = text
    tape.save_snapshot("risk.main", tape.max_position(), blob)
    m = make(tape, gw)
    assert folded(m) == folded(make(tape, gw, snapshot_every=None))


def test_a_snapshot_past_the_end_of_the_tape_is_ignored(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    history(tape, gw, desk)
    key = make(tape, gw).snapshot_key
    blob = risk_snapshot.encode(key, risk_snapshot.capture(make(tape, gw)))
    tape.save_snapshot("risk.main", tape.max_position() + 100, blob)
    assert risk_snapshot.load(tape, "main", key) is None


# restarts never double ------------------------------------------------------------------------


def test_a_restart_between_an_approval_and_its_order_never_doubles_it(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    live = make(tape, gw, apply_configured=True, snapshot_every=1)
    desk.bar("100")
    assert run(live.on_signal(desk.signal())) == "approved"
    gw.fail_next_submit = True  # approved and recorded; the order never leaves
    second = desk.signal(notional="400")
    with pytest.raises(ConnectionError):
        run(live.on_signal(second))
    run(live.step())  # a snapshot that holds the approval as unsubmitted
    assert tape.latest_snapshot("risk.main")[0] == tape.max_position()  # type: ignore[index]

    for _ in range(3):  # restart after restart, each from the latest snapshot
        again = make(tape, gw, snapshot_every=1)
        run(again.recover())
        assert run(again.on_signal(second)) == "duplicate"
    assert len(gw.orders) == 2
    assert set(decisions_per_signal(desk).values()) == {1}


def test_an_approval_in_flight_at_snapshot_time_is_still_unsubmitted_in_it(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    live = make(tape, gw, apply_configured=True, snapshot_every=None)
    desk.bar("100")

    class Stalled(FakeGateway):
        async def submit(self, intent: OrderIntentApproved) -> str:
            live.sync()
            live.save_snapshot()  # the poller's snapshot while the gateway is busy
            raise ConnectionError("the gateway died before recording the order")

    stalled = Stalled(tape)
    live.gateway_for = lambda venue: stalled
    with pytest.raises(ConnectionError):
        run(live.on_signal(desk.signal()))
    restored = make(tape, gw)
    assert restored.follower.position == tape.max_position()  # from the snapshot
    run(restored.recover())
    assert len(gw.orders) == 1  # the approval left after all, once


def test_a_pending_cancel_in_a_snapshot_is_asked_again_after_a_restart(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    live = make(tape, gw, apply_configured=True, snapshot_every=None)
    desk.bar("100")
    limit = OrderPreference(type=OrderType.LIMIT, limit_price="90")
    run(live.on_signal(desk.signal(order=limit)))
    (resting,) = gw.intents()

    async def lost(client_order_id: str, reason: str) -> str:
        return "timeout"  # asked, but the venue never canceled

    gw.cancel, real_cancel = lost, gw.cancel  # type: ignore[method-assign]
    run(live.change_state(TradingState.HALTED, "stop", cancel_open_orders=True))
    live.sync()
    live.save_snapshot()
    gw.cancel = real_cancel  # type: ignore[method-assign]
    restored = make(tape, gw)
    run(restored.recover())
    assert gw.canceled == [resting.client_order_id]
    assert restored.view.pending == {}
    assert restored.view.position("BTC-USDT").quantity == Decimal(0)


def test_an_exit_held_back_while_halted_survives_a_restart_from_a_snapshot(tape: Tape) -> None:
    gw, desk = FakeGateway(tape), Desk(tape)
    live = make(tape, gw, config={}, apply_configured=True, snapshot_every=None)
    desk.bar("100")
    run(live.on_signal(desk.signal(notional="1000", stop_loss="95")))
    (entry,) = gw.intents()
    gw.fill(entry.client_order_id, "100")
    run(live.change_state(TradingState.HALTED, "pause"))
    desk.bar("90", low="89")
    run(live.step())  # the stop fired; its exit waits for the resume
    live.save_snapshot()

    restarted = make(tape, gw)
    assert restarted.follower.position == tape.max_position()  # from the snapshot
    run(restarted.recover())
    assert len(gw.intents()) == 1
    run(restarted.change_state(TradingState.ACTIVE, "go"))
    _, exit_ = gw.intents()
    assert (exit_.reduce_only, exit_.quantity, exit_.reference_price) == (True, 10, 95)
    run(make(tape, gw).recover())
    assert len(gw.intents()) == 2  # fired once
