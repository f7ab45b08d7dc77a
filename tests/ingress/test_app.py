from __future__ import annotations

import asyncio

import orjson
import pytest

from domain.events import EventMeta, SignalReceived, SignalRefused
from domain.signals import SourceSettings
from ingress import AcceptedSignal, IngressSettings, RefusedRequest, create_app
from ingress.outcomes import MemorySink
from tests.ingress.conftest import (
    NOW_ISO,
    OTHER_SECRET,
    SECRET,
    Clock,
    apost,
    ingress_settings,
    post,
)

JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain; charset=utf-8"}


def tv_alert(**changes: object) -> str:
    alert = {
        "secret": SECRET,
        "ticker": "BTCUSDT.P",
        "exchange": "BINANCE",
        "action": "buy",
        "contracts": "0.01",
        "position_size": "0.01",
        "market_position": "long",
        "order_id": "Long",
        "price": "64213.7",
        "time": NOW_ISO,
    }
    alert.update(changes)
    return orjson.dumps(alert).decode()


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(sink: MemorySink, clock: Clock):
    return create_app(ingress_settings(), sink, clock)


def assert_no_secret(sink: MemorySink, *texts: str) -> None:
    for outcome in sink.outcomes:
        dumped = outcome.model_dump_json()
        assert SECRET not in dumped and OTHER_SECRET not in dumped
    for text in texts:
        assert SECRET not in text and OTHER_SECRET not in text


def test_accepted_alert_is_recorded_then_answered(app, sink: MemorySink) -> None:
    response = post(app, "/webhook/tv", tv_alert(), JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    [outcome] = sink.outcomes
    assert isinstance(outcome, AcceptedSignal)
    assert body["signal_id"] == str(outcome.signal_id)
    assert outcome.format == "tradingview"
    assert outcome.signal.instrument == "BTC-USDT-PERP"
    assert outcome.client_ip == "52.89.214.238"
    assert_no_secret(sink, response.text)

    event = outcome.to_event(EventMeta(ts_ns=outcome.received_ns, source="ingress"), 1)
    assert isinstance(event, SignalReceived)
    assert event.event_id == outcome.signal_id
    assert event.stream == "signals.tv"
    assert event.correlation_id == str(outcome.signal_id)
    assert SECRET not in event.model_dump_json()


def test_answer_waits_for_the_sink(clock: Clock) -> None:
    class SlowSink(MemorySink):
        def __init__(self) -> None:
            super().__init__()
            self.entered = asyncio.Event()
            self.release = asyncio.Event()

        async def record(self, outcome) -> None:
            self.entered.set()
            await self.release.wait()
            await super().record(outcome)

    async def scenario() -> None:
        sink = SlowSink()
        app = create_app(ingress_settings(), sink, clock)
        request = asyncio.create_task(apost(app, "/webhook/tv", tv_alert(), JSON))
        await sink.entered.wait()
        assert not request.done()
        assert sink.outcomes == []
        sink.release.set()
        response = await request
        assert response.status_code == 200
        assert len(sink.outcomes) == 1

    asyncio.run(scenario())


def test_sink_failure_is_503_and_a_retry_can_pass(clock: Clock) -> None:
    class FlakySink(MemorySink):
        fail = True

        async def record(self, outcome) -> None:
            if self.fail and isinstance(outcome, AcceptedSignal):
                self.fail = False
                raise OSError("disk full")
            await super().record(outcome)

    sink = FlakySink()
    app = create_app(ingress_settings(), sink, clock)
    assert post(app, "/webhook/tv", tv_alert(), JSON).status_code == 503
    assert post(app, "/webhook/tv", tv_alert(), JSON).status_code == 200
    assert len(sink.accepted) == 1


def refused(app, sink: MemorySink, status: int, code: str, *args, **kwargs) -> RefusedRequest:
    before = len(sink.outcomes)
    response = post(app, *args, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "refused" and body["code"] == code and body["error"]
    assert len(sink.outcomes) == before + 1
    outcome = sink.outcomes[-1]
    assert isinstance(outcome, RefusedRequest)
    assert outcome.code == code and outcome.status == status and outcome.reason == body["error"]
    assert_no_secret(sink, response.text)
    return outcome


def test_every_refusal_is_answered_4xx_and_recorded(app, sink: MemorySink, clock: Clock) -> None:
    refused(app, sink, 400, "malformed", "/webhook/tv", '{"secret": "x",', JSON)
    refused(app, sink, 400, "malformed", "/webhook/tv", b"\xff\xfe\x00junk", JSON)
    refused(app, sink, 400, "malformed", "/webhook/tv", '{"a": NaN}', JSON)
    refused(app, sink, 401, "bad_secret", "/webhook/tv", tv_alert(secret="nope-nope"), JSON)
    refused(app, sink, 401, "bad_secret", "/webhook/tv", tv_alert(secret=OTHER_SECRET), JSON)
    refused(
        app, sink, 403, "ip_not_allowed", "/webhook/tv", tv_alert(), JSON, client=("1.2.3.4", 1)
    )
    outcome = refused(app, sink, 404, "unknown_source", "/webhook/nobody", tv_alert(), JSON)
    assert outcome.to_event(EventMeta(ts_ns=1, source="ingress"), 1).stream == "signals._unknown"
    refused(app, sink, 413, "too_large", "/webhook/tv", "x" * 2000, TEXT)
    refused(
        app,
        sink,
        415,
        "unsupported_media_type",
        "/webhook/tv",
        tv_alert(),
        {"content-type": "multipart/form-data; boundary=x"},
    )
    refused(
        app,
        sink,
        415,
        "unsupported_media_type",
        "/webhook/tv",
        tv_alert(),
        {"content-type": "application/json; charset=latin-1"},
    )
    refused(
        app, sink, 422, "invalid", "/webhook/tv", tv_alert(action="hold", position_size=""), JSON
    )
    refused(app, sink, 422, "unknown_symbol", "/webhook/tv", tv_alert(ticker="NOPE"), JSON)
    refused(app, sink, 422, "stale", "/webhook/tv", tv_alert(time="2024-05-01T11:00:00Z"), JSON)
    assert post(app, "/webhook/tv", tv_alert(), JSON).status_code == 200
    refused(app, sink, 409, "duplicate", "/webhook/tv", tv_alert(), JSON)
    clock.advance(1)
    refused(app, sink, 409, "duplicate", "/webhook/tv", tv_alert(price="64000"), JSON)


def test_rate_limit_answers_429_with_retry_after(sink: MemorySink, clock: Clock) -> None:
    from domain.signals import RateLimit

    app = create_app(ingress_settings(rate_limit=RateLimit(per_second=0.5, burst=2)), sink, clock)
    statuses = [
        post(app, "/webhook/tv", f"buy BTCUSDT {i} secret={SECRET}", TEXT).status_code
        for i in (1, 2)
    ]
    assert statuses == [200, 200]
    response = post(app, "/webhook/tv", f"buy BTCUSDT 3 secret={SECRET}", TEXT)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert sink.refused[-1].code == "rate_limited"
    clock.advance(2)
    assert post(app, "/webhook/tv", f"buy BTCUSDT 3 secret={SECRET}", TEXT).status_code == 200


def test_forwarded_for_is_trusted_only_from_configured_proxies(app, sink: MemorySink) -> None:
    via_proxy = {**JSON, "x-forwarded-for": "52.89.214.238"}
    ok = post(app, "/webhook/tv", tv_alert(), via_proxy, client=("10.1.2.3", 1))
    assert ok.status_code == 200
    assert sink.accepted[-1].client_ip == "52.89.214.238"
    spoofed = post(app, "/webhook/tv", tv_alert(price="1"), via_proxy, client=("8.8.8.8", 1))
    assert spoofed.status_code == 403


def test_text_formats_and_no_ip_restriction(app, sink: MemorySink) -> None:
    text = post(app, "/webhook/cmd", f"sell ETHUSDT 1 secret={OTHER_SECRET}", TEXT, ("9.9.9.9", 1))
    assert text.status_code == 200
    pine = post(app, "/webhook/cmd", f"{OTHER_SECRET},closelong,ETHUSDT", TEXT, ("9.9.9.9", 1))
    assert pine.status_code == 200
    assert [o.format for o in sink.accepted] == ["text", "pineconnector"]
    assert_no_secret(sink, text.text, pine.text)


def test_refusal_event_carries_status_and_client_ip(app, sink: MemorySink) -> None:
    post(app, "/webhook/tv", tv_alert(secret="nope-nope"), JSON)
    [outcome] = sink.refused
    event = outcome.to_event(EventMeta(ts_ns=outcome.received_ns, source="ingress"), 3)
    assert isinstance(event, SignalRefused)
    assert (event.status, event.client_ip, event.code) == (401, "52.89.214.238", "bad_secret")
    assert event.event_id == outcome.request_id and event.stream == "signals.tv"


def test_health(app) -> None:
    import httpx

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
            return await http.get("/health")

    assert asyncio.run(get()).json() == {"status": "ok"}


def test_settings_never_show_the_secret() -> None:
    settings = IngressSettings(sources={"tv": SourceSettings(secret=SECRET)})
    assert SECRET not in repr(settings)
    assert SECRET not in settings.model_dump_json()
    with pytest.raises(ValueError):
        SourceSettings(secret="short")
    with pytest.raises(ValueError):
        IngressSettings(sources={"bad/name": SourceSettings(secret=SECRET)})


def test_other_paths_and_methods_are_refused_plainly(app, sink: MemorySink) -> None:
    import httpx

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
            return [
                await http.get("/webhook/tv"),
                await http.post("/webhook/"),
                await http.post("/webhook/tv/extra", content=tv_alert()),
                await http.get("/nothing"),
                await http.post("/health"),
                await http.head("/health"),
            ]

    got = asyncio.run(calls())
    assert [r.status_code for r in got] == [405, 404, 404, 404, 405, 200]
    assert got[0].headers["allow"] == "POST" and "POST" in got[0].json()["error"]
    assert got[4].headers["allow"] == "GET, HEAD"
    assert sink.outcomes == []  # no webhook request among them


def test_an_error_escaping_the_handler_is_a_500_and_the_app_goes_on(app) -> None:
    import httpx

    handler = app.state.handler
    real = handler.handle

    async def broken(source: str, request: object) -> object:
        raise RuntimeError("boom")

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("52.89.214.238", 4242))
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
            handler.handle = broken
            first = await http.post("/webhook/tv", content=tv_alert(), headers=JSON)
            handler.handle = real
            second = await http.post("/webhook/tv", content=tv_alert(), headers=JSON)
            return [first, second]

    first, second = asyncio.run(calls())
    assert (first.status_code, first.json()["status"]) == (500, "error")
    assert second.status_code == 200
