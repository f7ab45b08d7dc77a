"""Alerts: rules evaluated on projection facts, and notification targets that deliver firings."""

from alerts.config import AlertsConfig
from alerts.notify import DeliveryResult, Notifier, RetryPolicy
from alerts.rules import (
    ActorRestarted,
    AlertFacts,
    AlertFiring,
    AlertRule,
    AlertRules,
    AlertState,
    CircuitOpen,
    DailyLossOver,
    DrawdownOver,
    MarketDataStale,
    RejectionsInARow,
    Severity,
    evaluate,
)
from alerts.targets import (
    DiscordTarget,
    SlackTarget,
    Target,
    TelegramTarget,
    WebhookTarget,
    build_request,
)

__all__ = [
    "ActorRestarted",
    "AlertFacts",
    "AlertFiring",
    "AlertRule",
    "AlertRules",
    "AlertState",
    "AlertsConfig",
    "CircuitOpen",
    "DailyLossOver",
    "DeliveryResult",
    "DiscordTarget",
    "DrawdownOver",
    "MarketDataStale",
    "Notifier",
    "RejectionsInARow",
    "RetryPolicy",
    "Severity",
    "SlackTarget",
    "Target",
    "TelegramTarget",
    "WebhookTarget",
    "build_request",
    "evaluate",
]
