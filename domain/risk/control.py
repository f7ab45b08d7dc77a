"""Changing how the risk manager trades: halt, resume, reduce, new config, automatic breaches.

All pure: each returns the events to append (the caller owns the stream and versions). A halt
may cancel every open order; the event lists their client order ids so the gateways can act and
a replay knows why they went. ``detect_breaches`` runs after each fill or bar: the first time in a
risk day that the daily loss reaches its limit it records ``RiskLimitBreached`` and moves the
trading state to the configured one (HALTED by default). Resuming is by hand.
"""

from __future__ import annotations

import hashlib

from domain.events import Event, EventMeta, RiskLimitBreached
from domain.events.risk import RiskConfigApplied, TradingStateChanged
from domain.risk.config import RiskConfig, TradingState
from domain.risk.rules import decimal_str
from domain.risk.view import RiskView, trading_day

SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def change_state(
    view: RiskView,
    state: TradingState,
    meta: EventMeta,
    stream: str,
    version: int,
    *,
    reason: str,
    cancel_open_orders: bool = False,
) -> TradingStateChanged:
    """Move to ``state``; optionally cancel every open order (listed on the event)."""
    return TradingStateChanged(
        **meta.envelope(stream, version),
        state=state,
        previous=view.state,
        reason=reason,
        cancel_client_order_ids=view.open_client_order_ids() if cancel_open_orders else [],
    )


def halt(
    view: RiskView,
    meta: EventMeta,
    stream: str,
    version: int,
    *,
    reason: str = "halted by hand",
    cancel_open_orders: bool = True,
) -> TradingStateChanged:
    """The kill switch: nothing passes until ``resume``."""
    return change_state(
        view,
        TradingState.HALTED,
        meta,
        stream,
        version,
        reason=reason,
        cancel_open_orders=cancel_open_orders,
    )


def reduce_only(
    view: RiskView,
    meta: EventMeta,
    stream: str,
    version: int,
    *,
    reason: str = "reducing by hand",
    cancel_open_orders: bool = False,
) -> TradingStateChanged:
    """Only orders that reduce exposure pass."""
    return change_state(
        view,
        TradingState.REDUCING,
        meta,
        stream,
        version,
        reason=reason,
        cancel_open_orders=cancel_open_orders,
    )


def resume(
    view: RiskView, meta: EventMeta, stream: str, version: int, *, reason: str = "resumed by hand"
) -> TradingStateChanged:
    return change_state(view, TradingState.ACTIVE, meta, stream, version, reason=reason)


def config_digest(config: RiskConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


def apply_config(
    config: RiskConfig, meta: EventMeta, stream: str, version: int
) -> RiskConfigApplied:
    """Record a new configuration; the view (and the next decision) picks it up from the tape."""
    return RiskConfigApplied(
        **meta.envelope(stream, version), config=config, digest=config_digest(config)
    )


def detect_breaches(
    view: RiskView, config: RiskConfig, meta: EventMeta, stream: str, version: int
) -> list[Event]:
    """Events to append because a limit is breached now (empty when nothing new is breached).

    Call after applying each fill or bar to the view. At most one daily-loss breach per day.
    """
    limits = config.limits
    limit = limits.daily_loss_limit
    if limit is None:
        return []
    ts = max(meta.ts_ns, view.last_ts_ns)
    loss = -view.daily_pnl(ts, limits.daily_reset_hour_utc)
    if loss < limit:
        return []
    hour = limits.daily_reset_hour_utc
    breached = view.breached_ts_ns
    if breached is not None and trading_day(breached, hour) == trading_day(ts, hour):
        return []
    target = limits.on_daily_loss
    escalate = SEVERITY[target] > SEVERITY[view.state]
    action = target.value if escalate else "none"
    events: list[Event] = [
        RiskLimitBreached(
            **meta.envelope(stream, version),
            rule="daily_loss",
            limit=decimal_str(limit),
            observed=decimal_str(loss),
            action=action,
        )
    ]
    if escalate:
        events.append(
            change_state(
                view,
                target,
                meta,
                stream,
                version + 1,
                reason=f"daily loss {decimal_str(loss)} reached the limit {decimal_str(limit)}",
                cancel_open_orders=target is TradingState.HALTED,
            )
        )
    return events
