"""A deterministic trading session as tape events, for the replay benchmark and its tests.

Bars close for a few instruments every step (one instrument also trades on a second venue, so
marks fall back across venues); strategies trade in and out of positions, cross zero, reduce
partially and pay fees (sometimes a rebate). With ``full_chain`` each trade is the whole causal
chain the live system records: ``SignalReceived`` -> ``OrderIntentApproved`` (or rejected) ->
``OrderSubmitted`` -> ``OrderAccepted`` -> ``OrderFilled`` (one or two partial fills), with
correlation and causation ids and increasing record times. Some fills are recorded twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from domain.events import (
    BarClosed,
    Event,
    EventMeta,
    OrderAccepted,
    OrderFilled,
    OrderIntentApproved,
    OrderIntentRejected,
    OrderSubmitted,
    SignalReceived,
    bar_stream,
    decision_stream,
    order_stream,
    signal_stream,
)
from domain.signal import Intent, Signal
from domain.values import OrderType, Side

NS = 1_000_000_000
START_NS = 1_704_067_200 * NS  # 2024-01-01T00:00:00Z
INTERVAL_S = 60
MARKETS = (
    ("paper", "BTC-USDT"),
    ("paper", "ETH-USDT"),
    ("other", "SOL-USDT"),
    ("other", "BTC-USDT"),
)
STRATEGIES = ("trend", "meanrev", "tv")
_QTY = {"BTC-USDT": "0.001", "ETH-USDT": "0.01", "SOL-USDT": "0.1"}
_PRICE = {"BTC-USDT": 42000.0, "ETH-USDT": 2300.0, "SOL-USDT": 100.0}


class SessionGen:
    """Yields events step by step; ``trade_every`` steps on average, a trade is made."""

    def __init__(self, seed: int = 7, *, full_chain: bool = True, trade_prob: float = 0.5):
        self.rng = random.Random(seed)
        self.full_chain = full_chain
        self.trade_prob = trade_prob
        self.versions: dict[str, int] = {}
        self.price = {m: _PRICE[m[1]] for m in MARKETS}
        self.position: dict[tuple[str, str, str], int] = {}
        self.clock = START_NS
        self.orders = 0

    def _env(self, stream: str, meta: EventMeta) -> dict[str, object]:
        v = self.versions[stream] = self.versions.get(stream, 0) + 1
        return meta.envelope(stream, v)

    def _meta(self, source: str, cause: Event | None = None, lag_us: int = 150) -> EventMeta:
        self.clock += lag_us * 1000 + self.rng.randrange(1000)
        meta = EventMeta(ts_ns=self.clock, source=source)
        return meta.caused_by(cause) if cause is not None else meta

    def step(self, k: int) -> Iterator[Event]:
        open_ts = START_NS + k * INTERVAL_S * NS
        self.clock = max(self.clock, open_ts + INTERVAL_S * NS)
        for venue, instrument in MARKETS:
            p = self.price[(venue, instrument)] * (1 + self.rng.gauss(0, 0.002))
            self.price[(venue, instrument)] = p
            close = Decimal(f"{p:.2f}")
            yield BarClosed(
                **self._env(bar_stream(venue, instrument), self._meta("market_data")),
                venue=venue,
                instrument=instrument,
                open_ts_ns=open_ts,
                interval_s=INTERVAL_S,
                open=close,
                high=close,
                low=close,
                close=close,
                volume=Decimal("3.5"),
            )
            if self.rng.random() < self.trade_prob:
                yield from self._trade(venue, instrument, close)

    def _trade(self, venue: str, instrument: str, close: Decimal) -> Iterator[Event]:
        rng = self.rng
        strategy = rng.choice(STRATEGIES)
        key = (strategy, venue, instrument)
        held = self.position.get(key, 0)
        lots = rng.choice((1, 2, 3, 5))
        if held and rng.random() < 0.45:
            lots = abs(held) + (rng.choice((0, 0, 2)))  # close out, or cross zero
            side = Side.SELL if held > 0 else Side.BUY
        else:
            side = rng.choice((Side.BUY, Side.SELL))
        unit = Decimal(_QTY[instrument])
        quantity = unit * lots
        self.orders += 1
        coid = f"{strategy}-{self.orders}"
        cause: Event | None = None
        intent_id = None
        if self.full_chain:
            signal = Signal(
                source=strategy,
                instrument=instrument,
                intent=Intent.ENTER_LONG if side is Side.BUY else Intent.ENTER_SHORT,
                ts_ns=self.clock,
            )
            env = self._env(signal_stream(strategy), self._meta(f"strategy.{strategy}"))
            env["correlation_id"] = str(env["event_id"])
            received = SignalReceived(**env, signal=signal, format="python")
            yield received
            if rng.random() < 0.1:
                yield OrderIntentRejected(
                    **self._env(decision_stream("risk"), self._meta("risk", received)),
                    signal_event_id=received.event_id,
                    strategy=strategy,
                    instrument=instrument,
                    rule="max_position",
                    limit="10",
                    observed="12",
                    reason="position limit",
                )
                return
            approved = OrderIntentApproved(
                **self._env(decision_stream("risk"), self._meta("risk", received)),
                signal_event_id=received.event_id,
                strategy=strategy,
                client_order_id=coid,
                instrument=instrument,
                side=side,
                quantity=quantity,
                venue=venue,
            )
            yield approved
            submitted = OrderSubmitted(
                **self._env(order_stream(coid), self._meta(f"gateway.{venue}", approved)),
                client_order_id=coid,
                intent_event_id=approved.event_id,
                strategy=strategy,
                venue=venue,
                instrument=instrument,
                side=side,
                quantity=quantity,
                order_type=OrderType.MARKET,
            )
            yield submitted
            cause = OrderAccepted(
                **self._env(order_stream(coid), self._meta(f"gateway.{venue}", submitted, 900)),
                client_order_id=coid,
                venue_order_id=f"v{self.orders}",
            )
            yield cause
            intent_id = approved.event_id
        del intent_id
        parts = [quantity] if lots == 1 or rng.random() < 0.6 else [unit, quantity - unit]
        for i, part in enumerate(parts):
            price = (close * Decimal(1 + rng.gauss(0, 0.0005))).quantize(Decimal("0.01"))
            fee = (part * price * Decimal("0.0004")).quantize(Decimal("0.000001"))
            if rng.random() < 0.05:
                fee = -fee / 4  # a maker rebate
            fill = OrderFilled(
                **self._env(order_stream(coid), self._meta(f"gateway.{venue}", cause, 2_000)),
                client_order_id=coid,
                fill_id=f"{coid}-{i}",
                strategy=strategy,
                venue=venue,
                instrument=instrument,
                side=side,
                quantity=part,
                price=price,
                fee=fee,
                liquidity="taker",
                fill_ts_ns=self.clock,
            )
            yield fill
            if rng.random() < 0.01:  # the same execution recorded again (a re-sent report)
                yield fill.model_copy(
                    update={**self._env(order_stream(coid), self._meta(f"gateway.{venue}"))}
                )
        self.position[key] = held + (lots if side is Side.BUY else -lots)


def session_events(steps: int, seed: int = 7, *, full_chain: bool = True) -> list[Event]:
    gen = SessionGen(seed, full_chain=full_chain)
    return [event for k in range(steps) for event in gen.step(k)]


def iter_session(n_events: int, seed: int = 7, *, full_chain: bool = False) -> Iterator[Event]:
    """At least ``n_events`` events (whole steps), lazily."""
    gen = SessionGen(seed, full_chain=full_chain)
    made, k = 0, 0
    while made < n_events:
        for event in gen.step(k):
            made += 1
            yield event
        k += 1
