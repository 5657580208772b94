"""End to end: the Dagster webserver on 127.0.0.1 serves the whole asset graph and its lineage page.

Starts dagster-webserver on a free loopback port over a DAGSTER_HOME made from
pipelines/dagster.yaml, queries its GraphQL API for every asset, and takes a
screenshot of the lineage page with Debian's headless Chromium, saved as
tests/output/lineage.png. Skipped only outside CI when /usr/bin/chromium is
missing (install it with `apt-get install chromium fonts-noto-cjk`).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from conftest import OTARU_DIR, PROJECT_ROOT

from pipelines.definitions import defs
from pipelines.partitions import all_fiscal_years_tags
from pipelines.resources import KpiWarehouse

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT_DIR = PROJECT_ROOT / "tests" / "output"
EXPECTED_GRAPH = PROJECT_ROOT / "tests" / "expected_asset_graph.json"
STARTUP_TIMEOUT_SECONDS = 120

ASSET_GRAPH_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    description
    kinds
    isPartitioned
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"dagster-webserver exited with {process.returncode}:\n"
                f"{log_path.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{base_url}/server_info", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    pytest.fail(
        f"dagster-webserver not serving after {STARTUP_TIMEOUT_SECONDS} s:\n"
        f"{log_path.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    """Start dagster-webserver on 127.0.0.1 over an instance with one refresh; yield its URL."""
    home = tmp_path_factory.mktemp("dagster-home")
    shutil.copy(PROJECT_ROOT / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    raw = tmp_path_factory.mktemp("ui-raw")
    shutil.copytree(OTARU_DIR, raw / "otaru")
    warehouse = tmp_path_factory.mktemp("ui-warehouse") / "kpi.duckdb"

    # one refresh recorded in this instance, so the page shows materializations
    # reports beside the DuckDB file: a module fixture runs before conftest points KPI_REPORTS_DIR away from data/
    reports = warehouse.parent / "reports"
    resource = KpiWarehouse(raw_dir=str(raw), warehouse_path=str(warehouse), reports_dir=str(reports))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = defs.resolve_job_def("annual_refresh").execute_in_process(
            instance=instance, resources={"kpi_warehouse": resource}, tags=all_fiscal_years_tags()
        )
        assert result.success

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "KPI_RAW_DIR": str(raw),
        "KPI_WAREHOUSE": str(warehouse),
        "KPI_REPORTS_DIR": str(reports),
    }
    log_path = home / "webserver.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster-webserver"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                "workspace.yaml",
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(base_url, process, log_path)
        yield base_url
    finally:
        # the webserver and its code server run in the session started above
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def graphql(base_url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body.get("errors")
    return body["data"]


def test_graphql_serves_expected_graph(webserver):
    nodes = graphql(webserver, ASSET_GRAPH_QUERY)["assetNodes"]
    served = {
        "/".join(node["assetKey"]["path"]): {
            "group": node["groupName"],
            "upstream": sorted("/".join(dep["path"]) for dep in node["dependencyKeys"]),
            "kinds": sorted(node["kinds"]),
            "partitioned": node["isPartitioned"],
            "checks": sorted(
                (
                    {"name": c["name"], "blocking": c["blocking"]}
                    for c in node["assetChecksOrError"]["checks"]
                ),
                key=lambda check: check["name"],
            ),
        }
        for node in nodes
    }

    assert served == json.loads(EXPECTED_GRAPH.read_text(encoding="utf-8"))["assets"]


def test_graphql_serves_japanese_descriptions(webserver):
    nodes = graphql(webserver, ASSET_GRAPH_QUERY)["assetNodes"]
    descriptions = {"/".join(node["assetKey"]["path"]): node["description"] for node in nodes}

    # the first words of the descriptions in assets/scores and assets/summaries
    assert descriptions["kpi_score"].startswith("KPIのスコア。1行が1KPI・実績のある1年度")
    assert descriptions["project_summary"].startswith(
        "プロジェクトごとの集計。1行が1プロジェクト・1年度・1基準"
    )


def test_lineage_page_screenshot(webserver):
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip(
            "no /usr/bin/chromium (apt-get install chromium fonts-noto-cjk);"
            " required when CI is set"
        )
    from playwright.sync_api import sync_playwright

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT_DIR / "lineage.png"
    screenshot.unlink(missing_ok=True)
    outside_requests: list[str] = []

    def keep_on_loopback(route):
        # the page may only talk to the webserver started above
        if route.request.url.startswith(webserver):
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort()

    profile = OUTPUT_DIR / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            browser.route("**/*", keep_on_loopback)
            page = browser.new_page()
            page.goto(f"{webserver}/asset-groups")
            dismiss_welcome_dialog(page)
            # the graph shows each group folded; its context menu unfolds them all
            page.mouse.click(1000, 800, button="right")
            page.get_by_role("menuitem", name="Expand all groups").click()
            # the unfolded normalized group shows its tables; nodes far outside the
            # page are not rendered, so the wait names one near the middle
            page.get_by_text("kpi_value", exact=True).first.wait_for(
                state="visible", timeout=30_000
            )
            page.wait_for_timeout(1_000)
            # NOTE: Dagster keeps a minimum zoom, so on a 1600x1000 page the unfolded
            # graph of every group is cut at the top and bottom edges.
            page.screenshot(path=str(screenshot))

            page.goto(f"{webserver}/assets/kpi_score")
            page.get_by_text("KPIのスコア。", exact=False).first.wait_for(
                state="visible", timeout=30_000
            )
            page.screenshot(path=str(OUTPUT_DIR / "kpi_score.png"))
        finally:
            browser.close()
            shutil.rmtree(profile, ignore_errors=True)

    assert screenshot.stat().st_size > 10_000
    assert outside_requests == []


def dismiss_welcome_dialog(page) -> None:
    """Skip the "Join the Dagster community" dialog a fresh instance shows once."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=5_000)
    except PlaywrightTimeoutError:  # the dialog was not shown
        return
    skip.click()
