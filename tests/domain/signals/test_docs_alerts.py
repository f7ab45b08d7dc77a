"""Every ready-to-paste alert in docs/signals.md parses after TradingView substitutes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.signals import Parsed, decode_signal
from tests.domain.signals.conftest import NOW_ISO, NOW_NS, SECRET

DOC = Path(__file__).resolve().parents[3] / "docs" / "signals.md"
BLOCK = re.compile(r"<!-- alert -->\s*```(\w+)\n(.*?)```", re.DOTALL)
PLACEHOLDERS = {
    "ticker": "BTCUSDT.P",
    "exchange": "BINANCE",
    "close": "64213.5",
    "timenow": NOW_ISO,
    "strategy.order.action": "sell",
    "strategy.order.contracts": "0.02",
    "strategy.order.id": "Short",
    "strategy.position_size": "-0.01",
    "strategy.market_position": "short",
    "strategy.market_position_size": "0.01",
    "strategy.prev_market_position": "long",
    "strategy.prev_market_position_size": "0.01",
}


def alerts() -> list[tuple[str, str]]:
    if not DOC.is_file():
        return []
    return BLOCK.findall(DOC.read_text())


def substitute(message: str) -> str:
    def value(match: re.Match[str]) -> str:
        return PLACEHOLDERS[match.group(1)]

    return re.sub(r"\{\{([\w.]+)\}\}", value, message).replace("YOUR-SECRET", SECRET)


def test_docs_have_alerts() -> None:
    if not DOC.is_file():
        pytest.skip("docs/signals.md not present")
    assert len(alerts()) >= 8


@pytest.mark.parametrize(("language", "message"), alerts())
def test_documented_alert_parses(settings, language: str, message: str) -> None:
    content_type = "application/json" if language == "json" else "text/plain"
    result = decode_signal(substitute(message), content_type, "tv", settings, NOW_NS)
    assert isinstance(result, Parsed), result
    assert result.signal.instrument == "BTC-USDT-PERP"
