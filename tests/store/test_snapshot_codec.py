"""The snapshot codec: values come back equal, pydantic models are validated on the way back,
and nothing outside the project's own classes is ever built."""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from decimal import Decimal
from uuid import uuid4

import orjson
import pytest

from domain.events import EventMeta, SignalReceived, signal_stream
from domain.risk.brackets import Bracket, ChildRole
from domain.risk.config import RiskConfig, TradingState
from domain.risk.view import RiskView
from domain.signal import Intent, Signal
from domain.values import Side
from store.snapshot_codec import SnapshotError, dumps, loads


def _signal() -> SignalReceived:
    env = EventMeta(ts_ns=5, source="test").envelope(signal_stream("tv"), 1)
    sig = Signal(source="tv", instrument="BTC-USDT", intent=Intent.ENTER_LONG, ts_ns=1)
    return SignalReceived(**env, signal=sig)


def test_values_and_containers_round_trip() -> None:
    value = {
        "d": Decimal("1.2300"),
        "u": uuid4(),
        "e": TradingState.HALTED,
        "t": (1, "a", None),
        "s": {("coid", "f1")},
        "fs": frozenset({1, 2}),
        "dq": deque([1, 2], maxlen=3),
        "c": Counter({"a": 2}),
        "o": OrderedDict([("b", 1), ("a", 2)]),
        7: [1.5, True],
    }
    back = loads(dumps(value))
    assert back == value
    assert back["dq"].maxlen == 3 and str(back["d"]) == "1.2300"
    assert isinstance(back["o"], OrderedDict) and isinstance(back["c"], Counter)


def test_domain_objects_and_models_round_trip() -> None:
    view = RiskView(config=RiskConfig.model_validate({"limits": {"daily_loss_limit": "50"}}))
    bracket = Bracket(
        "p", "BTC-USDT", Side.BUY, Decimal(95), None, True, triggered=ChildRole.STOP_LOSS
    )
    event = _signal()
    back = loads(dumps({"view": view, "bracket": bracket, "event": event}))
    assert back == {"view": view, "bracket": bracket, "event": event}
    assert type(back["event"]) is SignalReceived


def test_a_model_whose_fields_changed_does_not_decode() -> None:
    blob = dumps(RiskConfig())
    changed = blob.replace(b'"starting_equity"', b'"opening_equity"')
    assert changed != blob
    with pytest.raises(SnapshotError):
        loads(changed)


@pytest.mark.parametrize(
    "payload",
    [
        {"$m": "pydantic:BaseModel", "v": {}},
        {"$m": "domain.risk.view:RiskView", "v": {}},  # not a model
        {"$o": "domain.risk.config:RiskConfig", "a": {}},  # a model, unvalidated
        {"$o": "subprocess:Popen", "a": {}},
        {"$e": "domain.risk.view:RiskView", "v": 1},  # not an enum
    ],
)
def test_foreign_or_unvalidated_classes_are_refused(payload: dict) -> None:
    with pytest.raises(SnapshotError):
        loads(orjson.dumps(payload))
