"""The ``alerts`` section of the configuration file: rules, notification targets, retries."""

from __future__ import annotations

from pydantic import Field, model_validator

from alerts.notify import RetryPolicy
from alerts.rules import AlertRule, AlertRules
from alerts.targets import Target
from domain.values import Frozen


class AlertsConfig(Frozen):
    rules: list[AlertRule] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    retry: RetryPolicy = RetryPolicy()

    @model_validator(mode="after")
    def _unique_target_names(self) -> AlertsConfig:
        names = [t.name for t in self.targets]
        if len(names) != len(set(names)):
            raise ValueError("notification target names must be unique")
        AlertRules(rules=self.rules)  # validates unique rule names
        return self

    @property
    def rule_set(self) -> AlertRules:
        return AlertRules(rules=self.rules)
