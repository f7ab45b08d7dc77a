"""Fuzz: random bodies, content types, headers, peers and sources through the whole app.

At least 10,000 requests (batches of several per example). Every request must be answered,
never with a 5xx, and passed to the sink exactly once with the same verdict it was answered
with; no secret may appear in any response or recorded outcome.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.signals import RateLimit, SourceSettings
from ingress import AcceptedSignal, IngressSettings, RefusedRequest, create_app
from ingress.client_ip import TRADINGVIEW_IPS
from ingress.outcomes import MemorySink
from tests.ingress.conftest import NOW_ISO, NOW_NS, OTHER_SECRET, SECRET, Clock

EXAMPLES = 1_000
BODIES_PER_EXAMPLE = 2
VARIANTS_PER_BODY = 5
MIN_REQUESTS = 10_000
SECRETS = (SECRET, OTHER_SECRET)

SETTINGS = IngressSettings(
    sources={
        "tv": SourceSettings(secret=SECRET, ip_preset="tradingview", rate_limit=None),
        "cmd": SourceSettings(secret=OTHER_SECRET, rate_limit=None, dedupe_window_s=5),
        "rl": SourceSettings(secret=SECRET, rate_limit=RateLimit(per_second=1, burst=2)),
    },
    trusted_proxies=("10.0.0.0/8",),
    max_body_bytes=2048,
)

TEMPLATES = [
    {
        "secret": SECRET,
        "ticker": "BINANCE:BTCUSDT.P",
        "action": "buy",
        "position_size": "0.01",
        "market_position": "long",
        "order_id": "Long",
        "price": "64000.5",
        "time": NOW_ISO,
    },
    {"secret": SECRET, "ticker": "ETHUSDT", "action": "sell", "contracts": 2},
    {
        "secret": SECRET,
        "instrument": "BTC-USDT",
        "intent": "enter_long",
        "size": {"kind": "quantity", "value": "0.5"},
    },
    {"secret": OTHER_SECRET, "instrument": "ETH/USDT", "intent": "target_position", "target": -1},
    {
        "secret": SECRET,
        "tv_instrument": "BTCUSDT",
        "action": "enter_long",
        "bot_uuid": "b",
        "order": {"amount": "10", "currency_type": "quote"},
    },
]
LINES = [
    f"buy BTCUSDT 0.01 sl=60000 tp=70000 secret={SECRET}",
    f"close ETHUSDT secret={OTHER_SECRET}",
    f"target BTC-USDT -0.5 secret={OTHER_SECRET}",
    f"{SECRET},buy,BTCUSDT,risk=1,sl=60000",
    f"{OTHER_SECRET},closelong,ETHUSDT",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from((*SECRETS, "NaN", "1e999", "{{close}}", "0", "-1", "BTCUSDT")),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def mutated_template(draw: st.DrawFn) -> bytes:
    obj = dict(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*obj.keys(), "format", "tags", "extra", "secret"]))
        if draw(st.booleans()):
            obj[key] = draw(json_values)
        else:
            obj.pop(key, None)
    return json.dumps(obj).encode()


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    words = draw(st.sampled_from(LINES)).replace(",", " , ").split()
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, len(words)))
        words.insert(index, draw(st.text(max_size=12) | st.sampled_from(["sl=", "@", "%", "$"])))
    return " ".join(words).replace(" , ", ",").encode()


bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    mutated_template(),
    mutated_line(),
    st.sampled_from(TEMPLATES).map(orjson.dumps),
    st.sampled_from(LINES).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b"x" * 3000),
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
CONTENT_TYPES: list[str | None] = [
    None,
    None,
    "application/json",
    "application/json",
    "text/plain",
    "text/plain",
    "text/plain; charset=utf-8",
    "application/json; charset=latin-1",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "image/png",
    "application/vnd.api+json",
    "",
    ";;;",
]
FORWARDED: list[str | None] = [
    *[None] * 6,
    *TRADINGVIEW_IPS,
    "1.2.3.4",
    "10.0.0.9",
    "::1",
    "junk",
    "52.89.214.238, x",
    "1.1.1.1, 52.89.214.238",
]
PEERS = [TRADINGVIEW_IPS[0], TRADINGVIEW_IPS[1], "10.0.0.1", "1.2.3.4", "::1", "203.0.113.5"]
SOURCES = ["tv", "tv", "tv", "cmd", "cmd", "cmd", "rl", "nobody"]
STEPS_S = [0.0, 0.2, 1.0, 3.0]
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
path_segment = st.text(st.sampled_from("abcXYZ019_.~-"), min_size=1, max_size=20).filter(
    lambda s: s not in (".", "..")
)
"""Any single path segment except '.' and '..', which the client would normalise away."""


@dataclass(frozen=True)
class Variant:
    """Where and how one body is sent: one cheap integer picks among all combinations."""

    source: str
    content_type: str | None
    forwarded_for: str | None
    peer: str
    step_s: float


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[bytes, Variant]]:
    """A few bodies, each sent under several variants (plus one random source, type, XFF)."""
    sources = [*SOURCES, draw(path_segment)]
    types = [*CONTENT_TYPES, draw(header_text)]
    forwarded = [*FORWARDED, draw(header_text)]
    choices = (sources, types, forwarded, PEERS, STEPS_S)
    total = math.prod(len(c) for c in choices)
    batch = []
    for _ in range(BODIES_PER_EXAMPLE):
        body = draw(bodies)
        picks = st.lists(
            st.integers(0, total - 1), min_size=VARIANTS_PER_BODY, max_size=VARIANTS_PER_BODY
        )
        for index in draw(picks):
            picked = []
            for options in choices:
                index, position = divmod(index, len(options))
                picked.append(options[position])
            batch.append((body, Variant(*picked)))
    return batch


async def send_batch(batch: list[tuple[bytes, Variant]]) -> int:
    sink = MemorySink()
    clock = Clock(NOW_NS)
    app = create_app(SETTINGS, sink, clock)
    sent = 0
    for body, variant in batch:
        clock.advance(variant.step_s)
        headers = {}
        if variant.content_type is not None:
            headers["content-type"] = variant.content_type
        if variant.forwarded_for is not None:
            headers["x-forwarded-for"] = variant.forwarded_for
        transport = httpx.ASGITransport(app=app, client=(variant.peer, 4242))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
            response = await http.post(f"/webhook/{variant.source}", content=body, headers=headers)
        sent += 1
        assert response.status_code < 500, response.text
        assert len(sink.outcomes) == sent, "every request goes to the sink exactly once"
        outcome = sink.outcomes[-1]
        payload = response.json()
        if response.status_code == 200:
            assert isinstance(outcome, AcceptedSignal)
            assert payload["signal_id"] == str(outcome.signal_id)
        else:
            assert isinstance(outcome, RefusedRequest)
            assert 400 <= response.status_code < 500
            assert outcome.status == response.status_code
            assert payload["code"] == outcome.code.value != "parser_error", outcome.reason
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
        recorded = outcome.model_dump_json()
        for secret in SECRETS:
            assert secret not in response.text
            assert secret not in recorded
    return sent


def test_fuzz_webhook_never_5xx_and_records_every_request() -> None:
    loop = asyncio.new_event_loop()
    total = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batches())
    def run(batch: list[tuple[bytes, Variant]]) -> None:
        nonlocal total
        total += loop.run_until_complete(send_batch(batch))

    try:
        run()
    finally:
        loop.close()
    assert total >= MIN_REQUESTS
