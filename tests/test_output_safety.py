"""Whole refreshes of the Otaru data against real processes: readers, SIGKILL, two at once, reruns.

A refresh in another process is `python -m pipelines.cli run`, the command
behind `make run`. KPI_TEST_PAUSE_AT stops it at a named point until the test
deletes the marker file or kills the process, so no test depends on timing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import OTARU_DIR, refresh

from evaluation.warehouse import Warehouse, connect, table_content_hashes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OTARU_NAME = "小樽市まち・ひと・しごと創生総合戦略"  # data/raw/otaru/strategy.toml, [strategy] name
# Deadline for a process to reach a point; a refresh of the Otaru data takes a few seconds.
WAIT_SECONDS = 60

pytestmark = pytest.mark.slow


def rename_strategy(raw_dir: Path, name: str) -> None:
    """Rename the copied Otaru strategy, so that one value identifies a refresh of it."""
    toml = raw_dir / "otaru" / "strategy.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace(f'name = "{OTARU_NAME}"', f'name = "{name}"'), encoding="utf-8")


def strategy_name(warehouse: Path) -> str:
    with connect(warehouse, read_only=True) as connection:
        return connection.execute("select strategy_name from strategy").fetchone()[0]


def start_refresh(raw_dir: Path, warehouse: Path, log: Path, command: list[str] | None = None,
                  **env: str) -> subprocess.Popen:
    """Start `python -m pipelines.cli run` (or ``command``) over ``raw_dir``; its output goes to ``log``."""
    environment = {**os.environ, "KPI_RAW_DIR": str(raw_dir), "KPI_WAREHOUSE": str(warehouse), **env}
    environment.pop("DAGSTER_HOME", None)
    with open(log, "wb") as output:
        return subprocess.Popen(
            command or [sys.executable, "-m", "pipelines.cli", "run"],
            cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )


def wait_until(condition, description: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``description`` after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {description}")
        time.sleep(0.05)


def finish(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_reader_keeps_old_view_during_refresh(otaru_raw_dir, tmp_path):
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)
    rename_strategy(otaru_raw_dir, "改名した戦略")
    go = tmp_path / "go"

    # The reader opens the file read-only with the plain duckdb client, as the
    # DuckDB CLI or a notebook does, and keeps it open across the refresh.
    reader = subprocess.Popen(
        [sys.executable, "-c", f"""
import duckdb, os, time
query = (
    "select (select strategy_name from strategy), (select average_score from project_summary"
    " where basis = 'published' and fiscal_year = 2019 and project_no = 1)"
)
held = duckdb.connect({str(warehouse)!r}, read_only=True)
print(*held.execute(query).fetchone(), sep="|", flush=True)
while not os.path.exists({str(go)!r}):
    time.sleep(0.05)
print(*held.execute(query).fetchone(), sep="|", flush=True)
held.close()
print(*duckdb.connect({str(warehouse)!r}, read_only=True).execute(query).fetchone(), sep="|", flush=True)
"""],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        before = reader.stdout.readline().strip()
        # The refresh completes while the reader holds the file: a reader never blocks it.
        assert refresh(otaru_raw_dir, warehouse).success
        go.touch()
        during, after = reader.stdout.readline().strip(), reader.stdout.readline().strip()
    finally:
        assert finish(reader) == 0

    # 63.08: project (1), FY2019, published basis, the Otaru table's summary line.
    assert before == f"{OTARU_NAME}|63.08"
    assert during == f"{OTARU_NAME}|63.08"
    assert after == "改名した戦略|63.08"


@pytest.mark.parametrize("pause_at", ["open_staging", "publish"])
def test_sigkill_leaves_published_file(otaru_raw_dir, tmp_path, pause_at):
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)
    before = warehouse.read_bytes()
    rename_strategy(otaru_raw_dir, "殺される更新")
    marker = tmp_path / "paused"

    # open_staging: source_file rows written, the staging connection still open.
    # publish: the staging file complete and checkpointed, the swap not yet done.
    process = start_refresh(otaru_raw_dir, warehouse, tmp_path / "killed.log",
                                KPI_TEST_PAUSE_AT=pause_at, KPI_TEST_PAUSE_MARKER=str(marker))
    wait_until(marker.exists, f"the refresh to pause at {pause_at}")
    staging = Warehouse(warehouse).staging_files()
    assert staging, "the paused refresh has a staging file"
    if pause_at == "open_staging":
        # Killed mid-write: the rows written so far are only in the staging WAL.
        assert any(path.name.endswith(".staging.wal") for path in staging)
    process.send_signal(signal.SIGKILL)
    assert finish(process) == -signal.SIGKILL

    assert warehouse.read_bytes() == before
    assert set(staging) <= set(Warehouse(warehouse).staging_files())

    # The next run takes the lock the kernel released, removes the killed run's
    # staging files and publishes.
    assert refresh(otaru_raw_dir, warehouse).success
    assert strategy_name(warehouse) == "殺される更新"
    assert Warehouse(warehouse).staging_files() == []


def test_two_refreshes_at_once(tmp_path):
    raws = {name: tmp_path / f"raw-{name}" for name in ("first", "third")}
    for raw in raws.values():
        shutil.copytree(OTARU_DIR, raw / "otaru")
    rename_strategy(raws["third"], "三番目の更新")
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    refresh(raws["first"], warehouse)
    before = warehouse.read_bytes()
    marker = tmp_path / "paused"

    first = start_refresh(raws["first"], warehouse, tmp_path / "first.log",
                              KPI_TEST_PAUSE_AT="publish", KPI_TEST_PAUSE_MARKER=str(marker))
    try:
        wait_until(marker.exists, "the first refresh to hold the lock at publish")

        # A second refresh that waits 0.5 s gives up with the holder's pid in its message.
        second = start_refresh(raws["first"], warehouse, tmp_path / "second.log",
                                   KPI_LOCK_TIMEOUT_SECONDS="0.5")
        assert finish(second) == 1
        second_output = (tmp_path / "second.log").read_text(encoding="utf-8")
        assert "別の更新が実行中" in second_output
        assert "Another refresh is running (run " in second_output
        assert f"pid {first.pid}," in second_output
        assert warehouse.read_bytes() == before

        # The lock is taken inside the assets, so it also stops a run that
        # Dagster executes itself, as for a run from the UI or a schedule.
        dagster_log = tmp_path / "dagster.log"
        dagster_command = [str(Path(sys.executable).parent / "dagster"), "job", "execute",
                           "-m", "pipelines.definitions", "-j", "annual_refresh"]
        launched = start_refresh(raws["first"], warehouse, dagster_log, command=dagster_command,
                                     KPI_LOCK_TIMEOUT_SECONDS="0.5")
        assert finish(launched) != 0
        assert f"pid {first.pid}," in dagster_log.read_text(encoding="utf-8")
        assert warehouse.read_bytes() == before

        # A third refresh waits for the lock instead.
        third_log = tmp_path / "third.log"
        third = start_refresh(raws["third"], warehouse, third_log)
        wait_until(lambda: "waiting up to" in third_log.read_text(encoding="utf-8"),
                   "the third refresh to wait for the lock")
        marker.unlink()
        assert finish(first) == 0
        assert finish(third) == 0
    finally:
        marker.unlink(missing_ok=True)
        finish(first)

    # The published file is the third refresh, complete: every table has the
    # contents of a refresh of the same input run alone.
    alone = tmp_path / "alone" / "kpi.duckdb"
    refresh(raws["third"], alone)
    assert strategy_name(warehouse) == "三番目の更新"
    assert table_content_hashes(warehouse) == table_content_hashes(alone)
    assert Warehouse(warehouse).staging_files() == []


def test_rerun_gives_same_table_contents(otaru_raw_dir, tmp_path):
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    process = start_refresh(otaru_raw_dir, warehouse, tmp_path / "cli.log")
    assert finish(process) == 0
    first = table_content_hashes(warehouse)

    assert refresh(otaru_raw_dir, warehouse).success
    second = table_content_hashes(warehouse)

    assert {"kpi", "kpi_value", "kpi_score", "project_summary", "source_file", "strategy"} <= set(first)
    assert second == first
    # Project (1), FY2019, published basis: 63.08 in the Otaru table's summary line.
    with connect(warehouse, read_only=True) as connection:
        average = connection.execute(
            "select average_score from project_summary"
            " where basis = 'published' and fiscal_year = 2019 and project_no = 1"
        ).fetchone()[0]
    assert str(average) == "63.08"

    # The comparison can fail: one changed name changes the strategy hash only.
    rename_strategy(otaru_raw_dir, "改名した戦略")
    assert refresh(otaru_raw_dir, warehouse).success
    third = table_content_hashes(warehouse)
    assert third["strategy"] != first["strategy"]
    assert third["kpi_score"] == first["kpi_score"]


def test_exception_in_writing_asset_then_read(otaru_raw_dir, tmp_path, monkeypatch):
    import assets.scores.kpi_score as kpi_score_module

    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)
    before = warehouse.read_bytes()
    rename_strategy(otaru_raw_dir, "失敗する更新")

    original = kpi_score_module.replace_fiscal_years

    def write_then_fail(connection, table, first_year, last_year, published=None):
        original(connection, table, first_year, last_year, published)
        raise RuntimeError("injected failure after writing kpi_score")

    monkeypatch.setattr(kpi_score_module, "replace_fiscal_years", write_then_fail)
    result = refresh(otaru_raw_dir, warehouse, raise_on_error=False)

    assert not result.success
    assert warehouse.read_bytes() == before
    assert Warehouse(warehouse).staging_files() == []
    # The same process reads the published file: the failed asset's connection is closed.
    assert strategy_name(warehouse) == OTARU_NAME

    # The run released its lock: a refresh that may not wait at all succeeds.
    monkeypatch.undo()
    monkeypatch.setenv("KPI_LOCK_TIMEOUT_SECONDS", "0")
    assert refresh(otaru_raw_dir, warehouse).success
    assert strategy_name(warehouse) == "失敗する更新"


def run_with_extra_definitions(raw_dir: Path, warehouse: Path, extra_assets=(), extra_checks=()):
    """Refresh with the project's assets plus test assets and checks, in process."""
    import assets
    from pipelines.partitions import all_fiscal_years_tags
    from pipelines.resources import KpiWarehouse

    job = dg.define_asset_job("refresh_with_extras", selection=dg.AssetSelection.all(),
                              executor_def=dg.in_process_executor)
    definitions = dg.Definitions(
        assets=[*dg.load_assets_from_package_module(assets), *extra_assets],
        asset_checks=list(extra_checks),
        jobs=[job],
        resources={"kpi_warehouse": KpiWarehouse(raw_dir=str(raw_dir), warehouse_path=str(warehouse))},
    )
    return definitions.resolve_job_def("refresh_with_extras").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=all_fiscal_years_tags()
    )


def test_failing_blocking_check_blocks_publish(otaru_raw_dir, tmp_path):
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)
    before = warehouse.read_bytes()

    @dg.asset_check(asset="kpi_value", blocking=True)
    def kpi_value_always_fails() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)

    result = run_with_extra_definitions(otaru_raw_dir, warehouse, extra_checks=[kpi_value_always_fails])

    assert not result.success
    assert warehouse.read_bytes() == before
    assert Warehouse(warehouse).staging_files() == []


def test_failure_outside_publish_ancestors_blocks_publish(otaru_raw_dir, tmp_path):
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)
    before = warehouse.read_bytes()

    # No path leads from this asset to warehouse_file, so Dagster alone would still publish.
    @dg.asset
    def unrelated_table() -> None:
        raise RuntimeError("injected failure outside the publish ancestors")

    result = run_with_extra_definitions(otaru_raw_dir, warehouse, extra_assets=[unrelated_table])

    assert not result.success
    failure = result.failure_data_for_node("warehouse_file")
    assert failure is not None
    assert "step unrelated_table" in failure.error.cause.message
    assert warehouse.read_bytes() == before
    assert Warehouse(warehouse).staging_files() == []
