"""Shared fixtures: the Otaru table and a refresh into a temporary DuckDB file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OTARU_DIR = PROJECT_ROOT / "data" / "raw" / "otaru"
OTARU_TABLE = OTARU_DIR / "000_5dbc621b8e05bc0a.txt"


@pytest.fixture
def otaru_raw_dir(tmp_path: Path) -> Path:
    """A copy of the embedded Otaru input folder that a test may change."""
    raw = tmp_path / "raw"
    shutil.copytree(OTARU_DIR, raw / "otaru")
    return raw


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep tests away from the developer's data/ folder and Dagster home."""
    monkeypatch.setenv("KPI_RAW_DIR", str(tmp_path / "unset-raw"))
    monkeypatch.setenv("KPI_WAREHOUSE", str(tmp_path / "unset-warehouse" / "kpi.duckdb"))
    monkeypatch.setenv("KPI_REPORTS_DIR", str(tmp_path / "unset-reports"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("KPI_VALIDATION_ENGINE", raising=False)


def refresh(
    raw_dir: Path, warehouse: Path, raise_on_error: bool = True, partition_key: str | None = None
):
    """Materialize every asset over ``raw_dir`` into ``warehouse``, in process; return the result.

    Every fiscal-year partition is refreshed in the one run, unless ``partition_key``
    names a single fiscal year (e.g. "2019").
    """
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.partitions import all_fiscal_years_tags
    from pipelines.resources import KpiWarehouse

    job = defs.resolve_job_def("annual_refresh")
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "kpi_warehouse": KpiWarehouse(
                raw_dir=str(raw_dir),
                warehouse_path=str(warehouse),
                # reports beside the DuckDB file, never in the developer's data/reports
                reports_dir=str(warehouse.parent / "reports"),
            )
        },
        raise_on_error=raise_on_error,
        partition_key=partition_key,
        tags=None if partition_key else all_fiscal_years_tags(),
    )


@pytest.fixture(scope="session")
def otaru_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file refreshed once from the embedded Otaru data, shared read-only by tests."""
    raw = tmp_path_factory.mktemp("otaru-raw")
    shutil.copytree(OTARU_DIR, raw / "otaru")
    warehouse = tmp_path_factory.mktemp("otaru-warehouse") / "kpi.duckdb"
    # validation reports go to a temporary folder, not the project's data/reports
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPI_REPORTS_DIR", str(tmp_path_factory.mktemp("otaru-reports")))
        # This shared refresh validates with Great Expectations, so GX runs through Dagster in the
        # tests and writes its Data Docs. Every other refresh uses the default engine, DuckDB.
        patch.setenv("KPI_VALIDATION_ENGINE", "great_expectations")
        refresh(raw, warehouse)
    return warehouse
