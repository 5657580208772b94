"""The resource that tells assets where the input folder and the DuckDB file are."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from evaluation.warehouse import PROJECT_ROOT, Warehouse

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
        return Warehouse(_resolve(self.warehouse_path or os.environ.get("KPI_WAREHOUSE", DEFAULT_WAREHOUSE)))

    @property
    def reports_path(self) -> Path:
        """The folder of the workbook, HTML report and CSV exports."""
        return _resolve(self.reports_dir or os.environ.get("KPI_REPORTS_DIR", DEFAULT_REPORTS_DIR))
