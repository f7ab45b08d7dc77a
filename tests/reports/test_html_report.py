"""The HTML report is one self-contained file whose charts render in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from projections.performance import compute_performance
from projections.performance_inputs import EquityCurve
from reports import write_html_report
from reports.svg import reduce_points

ROOT = Path(__file__).resolve().parents[2]
CHART_IDS = ("equity-chart", "drawdown-chart", "strategy-chart", "strategy-pnl-chart")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-default-apps",
)


class Elements(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())
        ]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


@pytest.fixture
def report_file(book, tmp_path: Path) -> Path:
    return write_html_report(
        tmp_path / "out" / "report.html",
        book.metrics,
        book.equity,
        per_strategy=book.per_strategy,
    )


def test_report_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text("utf-8")
    for marker in ("http://", "https://", "src=", "<link", "url(", "@import", "fetch("):
        assert marker not in html
    page = parse(html)
    assert not page.find("link") and not page.find("img") and not page.find("iframe")
    assert all("src" not in attrs for _, attrs in page.tags)
    assert len(page.find("svg")) == 4


def test_charts_hold_the_data_points(book, report_file: Path) -> None:
    page = parse(report_file.read_text("utf-8"))
    equity_paths = page.find("path", **{"data-series": "equity"})
    assert equity_paths[0]["data-points"] == str(len(book.equity))
    assert len(re.findall(r"L", equity_paths[0]["d"] or "")) > 500
    strategies = {a["data-series"] for a in page.find("path", **{"class": "series"})}
    assert {"equity", "drawdown", "breakout", "mean_rev", "<tv&alert>"} <= strategies
    bars = page.find("rect", **{"class": "bar"})
    assert {b["data-label"] for b in bars} == set(book.metrics.by_strategy)


def test_long_series_are_reduced_per_pixel_but_keep_their_extremes() -> None:
    ts = np.arange(1_000_000, dtype=np.int64)
    values = np.sin(ts / 5_000.0)
    values[123_456] = 50.0
    xs, ys = reduce_points(ts, values, 800)
    assert len(xs) <= 4 * 800
    assert ys.max() == 50.0
    assert ys.min() == pytest.approx(values.min())
    assert np.all(np.diff(xs) >= 0)


def test_empty_inputs_still_write_a_report(tmp_path: Path) -> None:
    empty = EquityCurve.from_columns([], [])
    path = write_html_report(tmp_path / "r.html", compute_performance(), empty)
    assert "no data" in path.read_text("utf-8")


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        script = ROOT / "scripts" / "install_chromium.sh"
        try:
            subprocess.run(["bash", str(script)], check=True, timeout=900, capture_output=True)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            pytest.skip(f"chromium is missing and scripts/install_chromium.sh failed: {exc}")
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is missing after scripts/install_chromium.sh")
    return found


def run_browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=180,
        check=True,
    )


def test_charts_render_in_headless_chromium(chromium: str, report_file: Path, tmp_path) -> None:
    done = run_browser(
        chromium,
        tmp_path / "profile-dom",
        "--virtual-time-budget=5000",
        "--dump-dom",
        report_file.as_uri(),
    )
    dom = parse(done.stdout.decode("utf-8"))
    body = dom.find("body")[0]
    assert body.get("data-rendered") == str(len(CHART_IDS))
    for chart_id in CHART_IDS:
        assert dom.find("svg", id=chart_id)
    equity = dom.find("path", **{"data-series": "equity"})[0]
    assert float(equity["data-rendered-width"] or 0) > 500
    assert float(equity["data-rendered-height"] or 0) > 50


def test_screenshot_shows_the_charts(chromium: str, report_file: Path, tmp_path) -> None:
    image_module = pytest.importorskip("PIL.Image", reason="pillow decodes the screenshot")
    shot = tmp_path / "shot.png"
    run_browser(
        chromium,
        tmp_path / "profile-shot",
        "--window-size=1100,1400",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        report_file.as_uri(),
    )
    pixels = np.asarray(image_module.open(shot).convert("RGB"), dtype=np.int16)
    assert pixels.std() > 10  # not a blank page
    equity_blue = np.all(np.abs(pixels - np.array([0x1F, 0x77, 0xB4])) <= 12, axis=-1)
    strategy_red = np.all(np.abs(pixels - np.array([0xD6, 0x27, 0x28])) <= 12, axis=-1)
    assert equity_blue.sum() > 2_000  # the equity line, drawdown area and bars
    assert strategy_red.sum() > 200  # the second strategy's line
