"""The resource that gives assets the paths of the input folder and the DuckDB file."""

from __future__ import annotations

import math
import os
from pathlib import Path

import dagster as dg

from evaluation.problems import SettingInvalid
from evaluation.warehouse import DEFAULT_LOCK_TIMEOUT_SECONDS, PROJECT_ROOT, Warehouse

# Dagster's tag on every run that a backfill launched; its value is the backfill id.
BACKFILL_TAG = "dagster/backfill"
DEFAULT_RAW_DIR = "data/raw"
DEFAULT_WAREHOUSE = "data/warehouse/kpi.duckdb"
DEFAULT_REPORTS_DIR = "data/reports"


def _resolve(path_text: str) -> Path:
    path = Path(path_text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def lock_timeout_seconds() -> float:
    """Return KPI_LOCK_TIMEOUT_SECONDS: how long a refresh waits for another one to finish."""
    text = os.environ.get("KPI_LOCK_TIMEOUT_SECONDS", str(DEFAULT_LOCK_TIMEOUT_SECONDS))
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise SettingInvalid(
            f"環境変数 KPI_LOCK_TIMEOUT_SECONDS の値「{text}」は秒数ではありません。0 以上の数にしてください"
            f"(既定 {DEFAULT_LOCK_TIMEOUT_SECONDS:g}) / KPI_LOCK_TIMEOUT_SECONDS={text!r} is not a number of"
            f" seconds; use a number of 0 or more (default {DEFAULT_LOCK_TIMEOUT_SECONDS:g})"
        )
    return seconds


def _blocking_file(path: Path) -> Path | None:
    """Return the nearest existing ancestor of ``path`` that is a file, not a folder, if any."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def output_path_problems(warehouse: Path, reports_dir: Path) -> list[str]:
    """Describe each output path a refresh could not write, so a run stops before it starts."""
    problems = []
    if warehouse.is_dir():
        problems.append(
            f"環境変数 KPI_WAREHOUSE の {warehouse} はフォルダです。DuckDB ファイルのパス(例 …/kpi.duckdb)にしてください"
            f" / KPI_WAREHOUSE {warehouse} is a folder; set it to a DuckDB file path such as …/kpi.duckdb"
        )
    for variable, path in (("KPI_WAREHOUSE", warehouse), ("KPI_REPORTS_DIR", reports_dir)):
        blocking = _blocking_file(path)
        if blocking is not None:
            problems.append(
                f"環境変数 {variable} の {path} は作れません。途中の {blocking} がフォルダではなくファイルです"
                f" / {variable} {path} cannot be created: {blocking} is a file, not a folder"
            )
    if reports_dir.exists() and not reports_dir.is_dir():
        problems.append(
            f"環境変数 KPI_REPORTS_DIR の {reports_dir} はファイルです。報告書を書き出すフォルダにしてください"
            f" / KPI_REPORTS_DIR {reports_dir} is a file; set it to the folder the reports go to"
        )
    return problems


class KpiWarehouse(dg.ConfigurableResource):
    """Input folder and output file; empty fields fall back to KPI_RAW_DIR and KPI_WAREHOUSE."""

    raw_dir: str = ""
    warehouse_path: str = ""
    reports_dir: str = ""  # empty: KPI_REPORTS_DIR, else data/reports

    @property
    def raw_path(self) -> Path:
        return _resolve(self.raw_dir or os.environ.get("KPI_RAW_DIR", DEFAULT_RAW_DIR))

    @property
    def published_path(self) -> Path:
        """The DuckDB file a refresh publishes."""
        return _resolve(self.warehouse_path or os.environ.get("KPI_WAREHOUSE", DEFAULT_WAREHOUSE))

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.published_path, lock_timeout_seconds=lock_timeout_seconds())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """At run end, on success or failure: remove an unpublished staging file, release the lock.

        With the in-process executor the resource lives for the whole run, so
        this runs once, after the last step.
        """
        if context.run is None:
            return
        key = staging_id(context.run)
        if key == context.run.run_id:
            self.warehouse.finish_run(key)
        else:
            # A later run of the same backfill publishes this staging file. A leftover
            # of a failed backfill is removed by the next run that takes the lock.
            self.warehouse.leave_staging(key)

    @property
    def reports_path(self) -> Path:
        """The folder of the workbook, HTML report and CSV exports."""
        return _resolve(self.reports_dir or os.environ.get("KPI_REPORTS_DIR", DEFAULT_REPORTS_DIR))


def staging_id(run: dg.DagsterRun) -> str:
    """Return the staging file key of ``run``: its backfill id, else its run id.

    A backfill from the lineage page runs the input assets, the fiscal-year
    assets and warehouse_file in separate runs, one after the other. Sharing
    the backfill's staging file lets the last of them publish what the first
    ones built.
    """
    return run.tags.get(BACKFILL_TAG, run.run_id)
