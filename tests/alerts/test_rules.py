"""Alert rules parse from configuration and fire, edge-triggered, on the facts they watch."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from alerts import AlertFacts, AlertRules, AlertsConfig, AlertState, evaluate

NOW = 1_700_000_000 * 1_000_000_000

CONFIG = """
rules:
  - {name: book-dd, kind: drawdown_over, max_pct: 0.10, severity: critical}
  - {name: scalper-dd, kind: drawdown_over, max_amount: 500, strategy: scalper}
  - {name: daily-loss, kind: daily_loss_over, max_loss: 1000}
  - {name: rejections, kind: rejections_in_a_row, count: 3, strategy: scalper}
  - {name: circuits, kind: circuit_open}
  - {name: stale-btc, kind: market_data_stale, max_age_s: 30, instrument: BTC-USDT}
  - {name: restarts, kind: actor_restarted}
targets:
  - {name: ops, kind: webhook, url: "http://127.0.0.1:9/hook/secret-path"}
  - {name: tg, kind: telegram, bot_token: "123:ABC", chat_id: "42"}
"""


@pytest.fixture
def rules() -> AlertRules:
    return AlertsConfig.model_validate(yaml.safe_load(CONFIG)).rule_set


def quiet(**changes) -> AlertFacts:
    base = {
        "now_ns": NOW,
        "drawdown_pct": {"total": 0.02},
        "drawdown_amount": {"total": 100.0, "scalper": 50.0},
        "daily_pnl": {"total": 250.0},
        "consecutive_rejections": {"scalper": 0},
        "market_data_last_ns": {"BTC-USDT": NOW - 1_000_000_000},
        "actor_restarts": {"risk": 0},
    }
    return AlertFacts(**{**base, **changes})


def fired(rules: AlertRules, facts: AlertFacts, state: AlertState | None = None) -> dict:
    firings, _ = evaluate(rules, facts, state)
    return {f.rule: f for f in firings}


def test_nothing_fires_when_all_is_well(rules: AlertRules) -> None:
    assert fired(rules, quiet()) == {}


def test_each_rule_fires_on_its_fact(rules: AlertRules) -> None:
    facts = quiet(
        drawdown_pct={"total": 0.15},
        drawdown_amount={"total": 100.0, "scalper": 800.0},
        daily_pnl={"total": -1500.0},
        consecutive_rejections={"scalper": 3},
        open_circuits=frozenset({"binance"}),
        market_data_last_ns={"BTC-USDT": NOW - 31_000_000_000},
        actor_restarts={"risk": 1},
    )
    got = fired(rules, facts)
    assert set(got) == {
        "book-dd", "scalper-dd", "daily-loss", "rejections", "circuits", "stale-btc", "restarts"
    }  # fmt: skip
    assert got["book-dd"].severity == "critical"
    assert got["book-dd"].observed == "15.00%" and got["book-dd"].threshold == "10.00%"
    assert got["scalper-dd"].subject == "scalper"
    assert got["daily-loss"].observed == "1,500.00"
    assert got["circuits"].subject == "binance"
    assert got["stale-btc"].subject == "BTC-USDT"
    assert got["restarts"].subject == "risk"
    assert all(f.ts_ns == NOW for f in got.values())


def test_thresholds_are_strict_except_the_rejection_count(rules: AlertRules) -> None:
    at_limit = quiet(
        drawdown_pct={"total": 0.10},
        daily_pnl={"total": -1000.0},
        consecutive_rejections={"scalper": 3},
        market_data_last_ns={"BTC-USDT": NOW - 30_000_000_000},
    )
    assert set(fired(rules, at_limit)) == {"rejections"}


def test_firings_are_edge_triggered_until_the_condition_clears(rules: AlertRules) -> None:
    deep = quiet(drawdown_pct={"total": 0.2})
    first, state = evaluate(rules, deep)
    assert [f.rule for f in first] == ["book-dd"]
    again, state = evaluate(rules, deep, state)
    assert again == []
    _, state = evaluate(rules, quiet(), state)
    third, _ = evaluate(rules, deep, state)
    assert [f.rule for f in third] == ["book-dd"]


def test_every_restart_fires_once(rules: AlertRules) -> None:
    firings, state = evaluate(rules, quiet(actor_restarts={"risk": 1}))
    assert len(firings) == 1
    assert evaluate(rules, quiet(actor_restarts={"risk": 1}), state)[0] == []
    again, _ = evaluate(rules, quiet(actor_restarts={"risk": 2}), state)
    assert [f.observed for f in again] == ["2"]


def test_invalid_rules_are_refused() -> None:
    with pytest.raises(ValidationError):
        AlertRules.model_validate({"rules": [{"name": "x", "kind": "drawdown_over"}]})
    with pytest.raises(ValidationError):
        AlertRules.model_validate({"rules": [{"name": "x", "kind": "no_such_rule"}]})
    duplicate = {"name": "x", "kind": "circuit_open"}
    with pytest.raises(ValidationError, match="unique"):
        AlertRules.model_validate({"rules": [duplicate, duplicate]})


def test_secrets_in_the_configuration_stay_out_of_reprs() -> None:
    config = AlertsConfig.model_validate(yaml.safe_load(CONFIG))
    text = repr(config) + str(config) + config.model_dump_json()
    assert "secret-path" not in text
    assert "123:ABC" not in text
