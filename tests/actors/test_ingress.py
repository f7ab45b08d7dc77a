"""The ingress service in-process: the real uvicorn server on 127.0.0.1, httpx as the sender,
a SQLite tape, and a recording stand-in for the risk actor."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from actors.ingress import IngressService
from domain.events import SignalReceived, SignalRefused, signal_stream
from domain.signals import SourceSettings
from ingress import IngressSettings
from store import Tape, open_tape

pytestmark = pytest.mark.anyio

SECRET = "tv-Secret-8f3a-ingress"
CMD_SECRET = "cmd-Secret-77aa-ingress"


def settings() -> IngressSettings:
    return IngressSettings(
        sources={
            "tv": SourceSettings(secret=SECRET, rate_limit=None),
            "cmd": SourceSettings(secret=CMD_SECRET, rate_limit=None),
            "tvonly": SourceSettings(secret=SECRET, rate_limit=None, ip_preset="tradingview"),
        }
    )


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tv_alert(order_id: str = "Long", **changes: Any) -> str:
    alert = {
        "secret": SECRET,
        "ticker": "BINANCE:BTCUSDT",
        "exchange": "BINANCE",
        "action": "buy",
        "contracts": "0.01",
        "position_size": "0.01",
        "market_position": "long",
        "order_id": order_id,
        "price": "64213.7",
        "time": now_iso(),
        **changes,
    }
    return orjson.dumps(alert).decode()


class World:
    def __init__(self, url: str, service: IngressService, forwarded: list[SignalReceived]):
        self.url = url
        self.service = service
        self.forwarded = forwarded
        self.http = httpx.AsyncClient(base_url=service.address(), timeout=10)

    def tape(self) -> Tape:
        """A separate connection: what it reads is on disk, not in the service's memory."""
        return open_tape(self.url)

    def stream(self, source: str) -> list[Any]:
        with self.tape() as tape:
            return tape.read_stream(signal_stream(source))


async def start_service(
    url: str, forwarded: list[SignalReceived], offload: bool = False
) -> IngressService:
    service = IngressService(settings(), open_tape(url), forwarded.extend, port=0, offload=offload)
    await service.start()
    return service


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tape_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/tape.sqlite"


@pytest.fixture(params=[False, True], ids=["inline", "offload"])
def offload(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
async def world(tape_url: str, offload: bool) -> AsyncIterator[World]:
    forwarded: list[SignalReceived] = []
    service = await start_service(tape_url, forwarded, offload)
    w = World(tape_url, service, forwarded)
    try:
        yield w
    finally:
        await w.http.aclose()
        await service.stop()


async def test_accepted_signal_is_on_the_tape_when_the_sender_gets_200(world: World) -> None:
    seen_on_disk: list[bool] = []

    def forward(batch: list[SignalReceived]) -> None:
        # handed on only once durable: a fresh connection already reads it
        on_disk = {e.event_id for e in world.stream("tv")}
        seen_on_disk.extend(event.event_id in on_disk for event in batch)
        world.forwarded.extend(batch)

    world.service.sink.on_accepted = forward
    response = await world.http.post(
        "/webhook/tv", content=tv_alert(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted" and body["intent"] == "target_position"

    (event,) = world.stream("tv")
    assert isinstance(event, SignalReceived)
    assert str(event.event_id) == body["signal_id"]
    assert event.signal.instrument == "BTC-USDT" and str(event.signal.target) == "0.01"
    assert event.format == "tradingview" and event.fingerprint
    assert event.correlation_id == body["signal_id"] and event.traceparent
    assert [e.event_id for e in world.forwarded] == [event.event_id]
    assert seen_on_disk == [True]


async def test_text_command_is_accepted(world: World) -> None:
    command = f"buy BTCUSDT 0.01 sl=60000 time={now_iso()} secret={CMD_SECRET}"
    response = await world.http.post("/webhook/cmd", content=command)
    assert response.status_code == 200, response.text
    (event,) = world.stream("cmd")
    assert event.signal.intent.value == "enter_long" and event.format == "text"


async def test_refusals_are_recorded_with_reason_and_without_secret(world: World) -> None:
    wrong = tv_alert(secret="not-the-secret-but-long")
    bad = await world.http.post("/webhook/tv", content=wrong)
    unknown = await world.http.post("/webhook/nobody", content=tv_alert())
    malformed = await world.http.post("/webhook/cmd", content=f"{{oops secret={CMD_SECRET}")
    assert (bad.status_code, unknown.status_code, malformed.status_code) == (401, 404, 400)
    assert SECRET not in unknown.text and CMD_SECRET not in malformed.text

    (refused,) = world.stream("tv")
    assert isinstance(refused, SignalRefused)
    assert refused.code == "bad_secret" and refused.status == 401 and refused.reason
    (stray,) = world.stream("_unknown")
    assert isinstance(stray, SignalRefused) and stray.code == "unknown_source"
    assert stray.source == "nobody"
    (broken,) = world.stream("cmd")
    assert broken.code == "malformed"
    assert world.forwarded == []
    with world.tape() as tape:
        raw = b"".join(row[4] for row in tape.raw_rows(0, 1000))
    for secret in (SECRET, CMD_SECRET, "not-the-secret-but-long"):
        assert secret.encode() not in raw


async def test_duplicate_delivery_yields_one_signal(world: World) -> None:
    body = tv_alert(order_id="dup-1")
    first, second = await asyncio.gather(
        world.http.post("/webhook/tv", content=body),
        world.http.post("/webhook/tv", content=body),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    events = world.stream("tv")
    assert [type(e).__name__ for e in events].count("SignalReceived") == 1
    assert [e.code for e in events if isinstance(e, SignalRefused)] == ["duplicate"]
    assert len(world.forwarded) == 1


async def test_restart_remembers_alerts_from_the_tape(world: World) -> None:
    body = tv_alert(order_id="once")
    assert (await world.http.post("/webhook/tv", content=body)).status_code == 200
    await world.http.aclose()
    await world.service.stop()

    forwarded: list[SignalReceived] = []
    again = await start_service(world.url, forwarded)
    try:
        async with httpx.AsyncClient(base_url=again.address(), timeout=10) as http:
            repeat = await http.post("/webhook/tv", content=body)
            fresh = await http.post("/webhook/tv", content=tv_alert(order_id="next"))
    finally:
        await again.stop()
    assert repeat.status_code == 409 and repeat.json()["code"] == "duplicate"
    assert fresh.status_code == 200
    events = world.stream("tv")
    assert [e.version for e in events] == [1, 2, 3]  # the restarted writer continued the stream
    assert [type(e).__name__ for e in events] == [
        "SignalReceived",
        "SignalRefused",
        "SignalReceived",
    ]
    assert len(forwarded) == 1


async def test_a_burst_is_recorded_once_each_in_stream_order(world: World) -> None:
    n = 150
    bodies = [tv_alert(order_id=f"burst-{i}") for i in range(n)]
    responses = await asyncio.gather(*(world.http.post("/webhook/tv", content=b) for b in bodies))
    assert {r.status_code for r in responses} == {200}
    ids = {r.json()["signal_id"] for r in responses}
    events = world.stream("tv")
    assert [e.version for e in events] == list(range(1, n + 1))
    assert {str(e.event_id) for e in events} == ids
    assert sorted(str(e.event_id) for e in world.forwarded) == sorted(ids)
    assert world.service.sink.counts["batches"] <= n


async def test_a_failed_append_answers_503_and_a_retry_passes(world: World) -> None:
    tape = world.service.sink.writer.tape
    real_append = tape.append
    calls = {"n": 0}

    def flaky(events: Any) -> list[int]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk unavailable")
        return real_append(events)

    tape.append = flaky  # type: ignore[method-assign]
    body = tv_alert(order_id="retry-me")
    failed = await world.http.post("/webhook/tv", content=body)
    retried = await world.http.post("/webhook/tv", content=body)
    assert failed.status_code == 503 and "retry" in failed.json()["error"]
    assert retried.status_code == 200
    assert [type(e).__name__ for e in world.stream("tv")] == ["SignalReceived"]
    assert len(world.forwarded) == 1


async def test_a_port_in_use_fails_at_listen(tape_url: str) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        service = IngressService(settings(), open_tape(tape_url), port=taken.getsockname()[1])
        with pytest.raises(OSError):
            service.listen()
    finally:
        taken.close()


async def test_health_answers_while_serving(world: World) -> None:
    response = await world.http.get("/health")
    assert response.json() == {"status": "ok"}
    stats = world.service.stats()
    assert stats["address"] == world.service.address() and stats["lag"] == 0


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(world: World) -> None:
    """No proxy is trusted: a local peer claiming to relay TradingView is still a local peer."""
    response = await world.http.post(
        "/webhook/tvonly", content=tv_alert(), headers={"x-forwarded-for": "52.89.214.238"}
    )
    assert response.status_code == 403
    (refused,) = world.stream("tvonly")
    assert refused.code == "ip_not_allowed" and refused.client_ip == "127.0.0.1"
