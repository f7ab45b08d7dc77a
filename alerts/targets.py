"""Notification targets (the ``alerts.targets`` section of the configuration) and the request
each one sends for a firing: generic JSON webhook, Slack and Discord incoming webhooks, Telegram
Bot API ``sendMessage``.

Webhook URLs carry their secret in the path and Telegram's bot token goes into the path too, so
both are ``SecretStr``: they never appear in a repr, a log line or an error. ``public_url`` is the
part that is safe to show (scheme, host and port).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from alerts.rules import AlertFiring, Severity
from domain.values import Frozen

SEVERITY_COLOR = {Severity.INFO: 0x3498DB, Severity.WARNING: 0xF1C40F, Severity.CRITICAL: 0xE74C3C}
SEVERITY_MARK = {Severity.INFO: "🔵", Severity.WARNING: "⚠️", Severity.CRITICAL: "🚨"}


def public_part(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


class _Target(Frozen):
    name: str = Field(min_length=1, max_length=100)


class WebhookTarget(_Target):
    """Generic JSON webhook: POSTs the firing as a JSON object."""

    kind: Literal["webhook"] = "webhook"
    url: SecretStr
    headers: dict[str, SecretStr] = Field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return public_part(self.url.get_secret_value())


class SlackTarget(_Target):
    kind: Literal["slack"] = "slack"
    webhook_url: SecretStr

    @property
    def public_url(self) -> str:
        return public_part(self.webhook_url.get_secret_value())


class DiscordTarget(_Target):
    kind: Literal["discord"] = "discord"
    webhook_url: SecretStr

    @property
    def public_url(self) -> str:
        return public_part(self.webhook_url.get_secret_value())


class TelegramTarget(_Target):
    kind: Literal["telegram"] = "telegram"
    bot_token: SecretStr
    chat_id: str = Field(min_length=1)
    base_url: str = "https://api.telegram.org"

    @property
    def public_url(self) -> str:
        return public_part(self.base_url)


Target = Annotated[
    WebhookTarget | SlackTarget | DiscordTarget | TelegramTarget, Field(discriminator="kind")
]


class OutgoingRequest(Frozen):
    """One POST to make. ``url`` and ``headers`` may hold secrets and are hidden in reprs."""

    url: SecretStr
    json_body: dict[str, Any]
    headers: dict[str, SecretStr] = Field(default_factory=dict)


def _when(firing: AlertFiring) -> datetime:
    return datetime.fromtimestamp(firing.ts_ns / 1e9, tz=UTC)


def _title(firing: AlertFiring) -> str:
    return f"{SEVERITY_MARK[firing.severity]} [{firing.severity.value.upper()}] {firing.rule}"


def plain_text(firing: AlertFiring) -> str:
    when = _when(firing).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"{_title(firing)}\n{firing.message}\n"
        f"observed {firing.observed}, threshold {firing.threshold} · {when}"
    )


def webhook_body(firing: AlertFiring) -> dict[str, Any]:
    return {"source": "tapeline", "type": "alert", **firing.model_dump(mode="json")}


def slack_body(firing: AlertFiring) -> dict[str, Any]:
    when = _when(firing).strftime("%Y-%m-%d %H:%M:%S UTC")
    return {
        "text": f"{_title(firing)}: {firing.message}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _title(firing)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": firing.message}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Observed*\n{firing.observed}"},
                    {"type": "mrkdwn", "text": f"*Threshold*\n{firing.threshold}"},
                ],
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"`{firing.kind}` · {firing.subject} · {when}"}
                ],
            },
        ],
    }


def discord_body(firing: AlertFiring) -> dict[str, Any]:
    return {
        "content": f"{_title(firing)}: {firing.message}",
        "embeds": [
            {
                "title": _title(firing),
                "description": firing.message,
                "color": SEVERITY_COLOR[firing.severity],
                "timestamp": _when(firing).isoformat(),
                "fields": [
                    {"name": "Observed", "value": firing.observed, "inline": True},
                    {"name": "Threshold", "value": firing.threshold, "inline": True},
                    {"name": "Subject", "value": firing.subject, "inline": True},
                ],
                "footer": {"text": f"tapeline · {firing.kind}"},
            }
        ],
        "allowed_mentions": {"parse": []},
    }


def telegram_body(target: TelegramTarget, firing: AlertFiring) -> dict[str, Any]:
    return {
        "chat_id": target.chat_id,
        "text": plain_text(firing),
        "disable_web_page_preview": True,
    }


def build_request(target: Target, firing: AlertFiring) -> OutgoingRequest:
    """The POST a target makes for a firing (pure: no I/O)."""
    if isinstance(target, WebhookTarget):
        return OutgoingRequest(
            url=target.url, json_body=webhook_body(firing), headers=target.headers
        )
    if isinstance(target, SlackTarget):
        return OutgoingRequest(url=target.webhook_url, json_body=slack_body(firing))
    if isinstance(target, DiscordTarget):
        return OutgoingRequest(url=target.webhook_url, json_body=discord_body(firing))
    token = target.bot_token.get_secret_value()
    url = f"{target.base_url.rstrip('/')}/bot{token}/sendMessage"
    return OutgoingRequest(url=SecretStr(url), json_body=telegram_body(target, firing))
