"""The resource that tells assets where the input folder and the DuckDB file are."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from evaluation.warehouse import DEFAULT_LOCK_TIMEOUT_SECONDS, PROJECT_ROOT, Warehouse

# Dagster's tag on every run that a backfill launched; its value is the backfill id.
BACKFILL_TAG = "dagster/backfill"
DEFAULT_RAW_DIR = "data/raw"
DEFAULT_WAREHOUSE = "data/warehouse/kpi.duckdb"
DEFAULT_REPORTS_DIR = "data/reports"


def _resolve(path_text: str) -> Path:
    path = Path(path_text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


class KpiWarehouse(dg.ConfigurableResource):
    """Input folder and output file; empty fields fall back to KPI_RAW_DIR and KPI_WAREHOUSE."""

    raw_dir: str = ""
    warehouse_path: str = ""
    reports_dir: str = ""  # empty: KPI_REPORTS_DIR, else data/reports

    @property
    def raw_path(self) -> Path:
        return _resolve(self.raw_dir or os.environ.get("KPI_RAW_DIR", DEFAULT_RAW_DIR))

    @property
    def warehouse(self) -> Warehouse:
        # KPI_LOCK_TIMEOUT_SECONDS: how long a refresh waits for another one to finish.
        timeout = float(os.environ.get("KPI_LOCK_TIMEOUT_SECONDS", DEFAULT_LOCK_TIMEOUT_SECONDS))
        path = _resolve(self.warehouse_path or os.environ.get("KPI_WAREHOUSE", DEFAULT_WAREHOUSE))
        return Warehouse(path, lock_timeout_seconds=timeout)

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
            self.warehouse.lock.release(key)

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
