"""Notification targets deliver each message format to a local receiver, with retries."""

from __future__ import annotations

import asyncio
import logging

import pytest

from alerts import (
    AlertFiring,
    DiscordTarget,
    Notifier,
    RetryPolicy,
    Severity,
    SlackTarget,
    TelegramTarget,
    WebhookTarget,
    build_request,
)

TOKEN = "987654:SECRET-bot-token"
HOOK_SECRET = "T000/B000/very-secret-hook"
FIRING = AlertFiring(
    rule="book-dd",
    kind="drawdown_over",
    severity=Severity.CRITICAL,
    subject="total",
    message="Drawdown of total is 15.00%, over 10.00%",
    observed="15.00%",
    threshold="10.00%",
    ts_ns=1_700_000_000 * 1_000_000_000,
)


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def targets(url: str) -> list:
    return [
        WebhookTarget(name="ops", url=f"{url}/hooks/{HOOK_SECRET}"),
        SlackTarget(name="slack", webhook_url=f"{url}/services/{HOOK_SECRET}"),
        DiscordTarget(name="discord", webhook_url=f"{url}/api/webhooks/{HOOK_SECRET}"),
        TelegramTarget(name="tg", bot_token=TOKEN, chat_id="-100123", base_url=url),
    ]


def send(notifier: Notifier):
    return asyncio.run(notifier.send(FIRING))


def test_every_format_reaches_its_receiver(receiver) -> None:
    results = send(Notifier(targets(receiver.url), RetryPolicy(base_delay_s=0)))
    assert [r.ok for r in results] == [True, True, True, True]
    by_path = {r.path: r.body for r in receiver.requests}
    webhook = by_path[f"/hooks/{HOOK_SECRET}"]
    assert webhook["rule"] == "book-dd" and webhook["severity"] == "critical"
    assert webhook["source"] == "tapeline"
    slack = by_path[f"/services/{HOOK_SECRET}"]
    assert "Drawdown of total" in slack["text"]
    assert slack["blocks"][0]["type"] == "header"
    assert slack["blocks"][1]["text"]["type"] == "mrkdwn"
    discord = by_path[f"/api/webhooks/{HOOK_SECRET}"]
    assert "Drawdown of total" in discord["content"]
    embed = discord["embeds"][0]
    assert embed["color"] == 0xE74C3C and embed["timestamp"].startswith("2023-11-14T22:13:20")
    assert {f["name"] for f in embed["fields"]} == {"Observed", "Threshold", "Subject"}
    telegram = by_path[f"/bot{TOKEN}/sendMessage"]
    assert telegram["chat_id"] == "-100123"
    assert "Drawdown of total is 15.00%" in telegram["text"]
    assert all(r.headers["Content-Type"] == "application/json" for r in receiver.requests)


def test_failed_attempts_are_retried_with_exponential_backoff(receiver) -> None:
    receiver.fail_first = 3
    sleep = FakeSleep()
    policy = RetryPolicy(attempts=5, base_delay_s=0.25, max_delay_s=0.75)
    notifier = Notifier([targets(receiver.url)[0]], policy, sleep=sleep)
    (result,) = send(notifier)
    assert result.ok and result.attempts == 4 and result.status_code == 200
    assert sleep.calls == [0.25, 0.5, 0.75]  # doubled each time, capped
    assert len(receiver.requests) == 4


def test_retries_really_wait_between_attempts(receiver) -> None:
    receiver.fail_first = 2
    (result,) = send(Notifier([targets(receiver.url)[1]], RetryPolicy(base_delay_s=0.01)))
    assert result.ok and result.attempts == 3
    assert result.delays_s == [0.01, 0.02]


def test_rate_limit_honours_retry_after_up_to_the_cap(receiver) -> None:
    receiver.fail_first, receiver.fail_status, receiver.retry_after = 1, 429, "2"
    sleep = FakeSleep()
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=5)
    (result,) = send(Notifier([targets(receiver.url)[2]], policy, sleep=sleep))
    assert result.ok and sleep.calls == [2.0]


def test_gives_up_after_the_last_attempt(receiver) -> None:
    receiver.fail_first = 100
    sleep = FakeSleep()
    (result,) = send(Notifier([targets(receiver.url)[3]], RetryPolicy(attempts=3), sleep=sleep))
    assert not result.ok and result.attempts == 3 and result.status_code == 503
    assert len(receiver.requests) == 3 and len(sleep.calls) == 2


def test_client_errors_are_not_retried(receiver) -> None:
    receiver.fail_first, receiver.fail_status = 100, 400
    (result,) = send(Notifier([targets(receiver.url)[0]], RetryPolicy(base_delay_s=0)))
    assert not result.ok and result.attempts == 1 and result.error == "HTTP 400"


def test_telegram_refusal_in_the_body_is_a_failure(receiver) -> None:
    receiver.reply = {"ok": False, "description": "Bad Request: chat not found"}
    (result,) = send(Notifier([targets(receiver.url)[3]], RetryPolicy(base_delay_s=0)))
    assert not result.ok and result.attempts == 1


def test_unreachable_target_is_retried_then_reported(receiver) -> None:
    dead = receiver.url.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
    sleep = FakeSleep()
    target = WebhookTarget(name="dead", url=f"{dead}/hooks/{HOOK_SECRET}")
    (result,) = send(Notifier([target], RetryPolicy(attempts=3, base_delay_s=0.1), sleep=sleep))
    assert not result.ok and result.attempts == 3 and result.status_code is None
    assert result.error == "ConnectError"
    assert sleep.calls == [0.1, 0.2]


def test_secrets_never_reach_reprs_results_or_logs(receiver, caplog) -> None:
    receiver.fail_first = 1
    caplog.set_level(logging.DEBUG)
    notifier = Notifier(targets(receiver.url), RetryPolicy(base_delay_s=0))
    results = send(notifier)
    request = build_request(notifier.targets[3], FIRING)
    exposed = [
        repr(notifier),
        *(repr(t) for t in notifier.targets),
        *(r.model_dump_json() for r in results),
        repr(request),
        *(record.getMessage() for record in caplog.records),
        *(str(record.__dict__) for record in caplog.records),
    ]
    assert any(r.name == "httpx" for r in caplog.records)  # httpx's request lines included
    for text in exposed:
        assert TOKEN not in text and HOOK_SECRET not in text


@pytest.mark.parametrize("kind", ["webhook", "slack", "discord", "telegram"])
def test_public_url_shows_only_the_host(kind: str) -> None:
    target = {t.kind: t for t in targets("http://user:pw@127.0.0.1:8080")}[kind]
    assert target.public_url == "http://127.0.0.1:8080"
