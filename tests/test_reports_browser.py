"""The HTML report in headless Chromium: it loads with no console error and shows its charts.

Uses the Debian chromium package (/usr/bin/chromium); no browser is downloaded.
The screenshot goes to tests/output/report.png for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT_DIR = Path(__file__).resolve().parent / "output"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


@pytest.fixture
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}; .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    return CHROMIUM


def test_report_renders_charts(chromium_path, otaru_warehouse, tmp_path):
    from playwright.sync_api import sync_playwright

    report = otaru_warehouse.parent / "reports" / "otaru-2015" / "report.html"
    messages, errors, requests = [], [], []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 1000},
        )
        try:
            page = context.new_page()
            page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri(), wait_until="load")

            widths = page.evaluate("Array.from(document.images).map(image => image.naturalWidth)")
            title = page.title()
            OUTPUT_DIR.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT_DIR / "report.png"))
            page.screenshot(path=str(OUTPUT_DIR / "report_full.png"), full_page=True)
        finally:
            context.close()

    assert [m for m in messages if m.startswith(("error", "warning"))] == []
    assert errors == []
    # Only the file itself and its data: images; nothing from the network.
    assert {url.split(":", 1)[0] for url in requests} <= {"file", "data"}
    # 3 charts per project, 4 projects; a chart that failed to decode has width 0.
    assert len(widths) == 12
    assert all(width > 0 for width in widths)
    assert title == "小樽市まち・ひと・しごと創生総合戦略 評価レポート(平成31年度)"
