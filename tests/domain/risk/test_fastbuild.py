"""The decision hot path's builders give exactly what the validated, slower path gives."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.events import EventMeta, OrderIntentApproved, TradingStateChanged, derive_id
from domain.risk.config import RiskConfig, TradingState
from domain.risk.engine import decide
from domain.risk.fastbuild import client_order_id, envelope, trusted
from domain.risk.view import RiskView
from domain.signal import OrderPreference
from domain.values import OrderType
from store.codec import encode
from tests.domain.risk.factories import D, signal_event


@given(
    stream=st.text(min_size=1, max_size=30),
    version=st.integers(1, 10**9),
    ts=st.integers(0, 2**63),
    source=st.text(min_size=1, max_size=20),
    cause=st.none() | st.uuids(),
)
def test_envelope_and_client_order_id_match_derive_id(
    stream: str, version: int, ts: int, source: str, cause: uuid.UUID | None
) -> None:
    meta = EventMeta(ts_ns=ts, source=source, causation_id=cause, correlation_id="c")
    fast = envelope(meta, stream, version)
    assert fast == meta.envelope(stream, version)
    assert fast["event_id"].version == 5
    assert client_order_id(fast["event_id"]) == derive_id("coid", fast["event_id"]).hex


def test_a_trusted_approval_equals_the_validated_one_and_encodes_identically() -> None:
    se = signal_event(
        price="100",
        stop_loss=D("95"),
        take_profit=D("110"),
        order=OrderPreference(type=OrderType.LIMIT, limit_price=D("99.5")),
    )
    meta = EventMeta(ts_ns=5, source="risk", causation_id=se.event_id)
    approval = decide(se, RiskView(), RiskConfig(), meta, "risk.main", 3)
    assert isinstance(approval, OrderIntentApproved)
    validated = OrderIntentApproved.model_validate(approval.model_dump())
    assert validated == approval
    assert encode(validated).state == encode(approval).state
    assert list(approval.__dict__) == list(OrderIntentApproved.model_fields)


def test_trusted_refuses_missing_or_unknown_fields_and_calls_default_factories() -> None:
    base = EventMeta(ts_ns=1, source="risk").envelope("risk.main", 1)
    with pytest.raises(TypeError):
        trusted(TradingStateChanged, base)
    fields = {**base, "state": TradingState.HALTED, "previous": TradingState.ACTIVE, "reason": "x"}
    with pytest.raises(TypeError):
        trusted(TradingStateChanged, {**fields, "bogus": 1})
    one, two = trusted(TradingStateChanged, fields), trusted(TradingStateChanged, fields)
    assert one == TradingStateChanged(**fields)
    assert one.cancel_client_order_ids is not two.cancel_client_order_ids


def test_a_stop_loss_rounding_to_zero_is_refused_not_recorded() -> None:
    se = signal_event(price="100", stop_loss=D("0.001"))
    meta = EventMeta(ts_ns=5, source="risk", causation_id=se.event_id)
    decision = decide(se, RiskView(), RiskConfig(), meta, "risk.main", 1)
    assert decision.rule == "tick_size"
