"""Where the report files go, and how they are written so that no reader sees half a file."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# Report files are read by other staff on a shared folder; mkstemp creates 0600.
REPORT_FILE_MODE = 0o644
_SAFE_PATH_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _path_part(text: str) -> str:
    """Return ``text`` when it is safe as one file-name part; raise ValueError otherwise."""
    if not _SAFE_PATH_PART.match(text) or ".." in text:
        raise ValueError(
            f"「{text}」はファイル名に使えません(英数字・_ - . のみ) / "
            f"{text!r} cannot be used in a file name (letters, digits, _ - . only)"
        )
    return text


def workbook_path(reports_dir: Path, strategy_id: str, fiscal_year: int, basis: str) -> Path:
    """Return the path of the evaluation workbook of one strategy, fiscal year and basis."""
    return reports_dir / _path_part(strategy_id) / f"evaluation_FY{fiscal_year}_{_path_part(basis)}.xlsx"


def html_report_path(reports_dir: Path, strategy_id: str) -> Path:
    """Return the path of the HTML report of one strategy."""
    return reports_dir / _path_part(strategy_id) / "report.html"


def csv_path(reports_dir: Path, table: str, japanese: bool) -> Path:
    """Return the path of a table's CSV export: ``<table>.ja.csv`` (BOM, Japanese headers) or ``<table>.csv``."""
    suffix = ".ja.csv" if japanese else ".csv"
    return reports_dir / "csv" / f"{_path_part(table)}{suffix}"


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then move it over ``path`` in one step.

    On any exception the temporary file is removed and ``path`` keeps its old
    content (or stays absent), so a failed run never leaves a half-written report.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        write(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, REPORT_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    log.info("wrote %s (%d bytes)", path, path.stat().st_size)
    return path
