"""Where validation reports go: ``<KPI_REPORTS_DIR>/validation/`` (default data/reports/validation)."""

from __future__ import annotations

import os
from pathlib import Path

from evaluation.warehouse import PROJECT_ROOT

DEFAULT_REPORTS_DIR = "data/reports"


def validation_docs_dir() -> Path:
    """Return the folder of the GX Data Docs site; a relative KPI_REPORTS_DIR is under the project."""
    reports = Path(os.environ.get("KPI_REPORTS_DIR", DEFAULT_REPORTS_DIR)).expanduser()
    if not reports.is_absolute():
        reports = PROJECT_ROOT / reports
    return reports / "validation"
