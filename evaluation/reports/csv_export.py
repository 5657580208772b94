"""CSV exports of the summary and score tables, in two variants.

``<table>.ja.csv`` is UTF-8 with a byte order mark and Japanese headers, so
that Excel on Japanese Windows opens it without garbling. ``<table>.csv`` is
plain UTF-8 with the English column names, for tools. Decimals are written
exactly as DuckDB stores them (63.08, -20.39), and formula-like text gets an
apostrophe in front (see safety.py).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from evaluation.reports.discrepancies import DISCREPANCY_TABLE
from evaluation.reports.files import csv_path, write_atomically
from evaluation.reports.labels import COLUMN_LABELS_JA, label_ja
from evaluation.reports.queries import table_exists
from evaluation.reports.safety import csv_safe

log = logging.getLogger(__name__)

# Exported tables and their row order. score_discrepancy is exported when the file has it.
EXPORTED_TABLES = {
    "project_summary": "strategy_id, project_no, fiscal_year, basis",
    "published_summary": "strategy_id, project_no, fiscal_year",
    "kpi_score": "strategy_id, kpi_id, fiscal_year",
    "kpi": "strategy_id, project_no, business_no, kpi_seq",
    DISCREPANCY_TABLE: "all",
}


@dataclass(frozen=True)
class CsvExport:
    """One exported table: its two files and its row count."""

    table: str
    japanese_path: Path
    english_path: Path
    rows: int


def _cell(value: object) -> object:
    """Return the CSV form of one value: true/false for booleans, empty for NULL, safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_safe(value)


def _write_csv(path: Path, headers: list[str], rows: list[tuple], encoding: str) -> None:
    # newline="" lets the csv module write its CRLF line ends unchanged, as RFC 4180 and Excel expect.
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_safe(header) for header in headers])
        for row in rows:
            writer.writerow([_cell(value) for value in row])


def export_table(connection: duckdb.DuckDBPyConnection, table: str, reports_dir: Path) -> CsvExport:
    """Write ``table`` (one of EXPORTED_TABLES) as ``<table>.ja.csv`` and ``<table>.csv``."""
    if table not in EXPORTED_TABLES:
        raise ValueError(f"{table} is not an exported table; expected one of {sorted(EXPORTED_TABLES)}")
    result = connection.execute(f"select * from {table} order by {EXPORTED_TABLES[table]}")
    columns = [description[0] for description in result.description]
    rows = result.fetchall()
    missing = [column for column in columns if column not in COLUMN_LABELS_JA]
    if missing:
        log.warning("%s: no Japanese header for %s; the English name is used", table, missing)

    japanese = write_atomically(
        csv_path(reports_dir, table, japanese=True),
        lambda path: _write_csv(path, [label_ja(column) for column in columns], rows, "utf-8-sig"),
    )
    english = write_atomically(
        csv_path(reports_dir, table, japanese=False),
        lambda path: _write_csv(path, columns, rows, "utf-8"),
    )
    log.info("exported %d rows of %s to %s and %s", len(rows), table, japanese, english)
    return CsvExport(table, japanese, english, len(rows))


def export_tables(connection: duckdb.DuckDBPyConnection, reports_dir: Path) -> list[CsvExport]:
    """Export every table of EXPORTED_TABLES that the file has."""
    return [
        export_table(connection, table, reports_dir)
        for table in EXPORTED_TABLES
        if table_exists(connection, table)
    ]
