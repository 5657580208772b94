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
from typing import TYPE_CHECKING

from evaluation.reports.discrepancies import DISCREPANCY_TABLE
from evaluation.reports.files import csv_path, write_atomically
from evaluation.reports.labels import COLUMN_LABELS_JA, label_ja
from evaluation.reports.safety import csv_safe, csv_safe_sql
from evaluation.reports.schema import table_exists

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# Exported tables and their row order. score_discrepancy is exported when the file has it.
EXPORTED_TABLES = {
    "project_summary": "strategy_id, project_no, fiscal_year, basis",
    "published_summary": "strategy_id, project_no, fiscal_year",
    "kpi_score": "strategy_id, kpi_id, fiscal_year",
    "kpi": "strategy_id, project_no, business_no, kpi_seq",
    DISCREPANCY_TABLE: "all",
}
# Rows fetched from DuckDB at a time, so Python keeps one batch in memory whatever the size of the table.
FETCH_ROWS = 10_000


@dataclass(frozen=True)
class CsvExport:
    """One exported table: its two files and its row count."""

    table: str
    japanese_path: Path
    english_path: Path
    rows: int


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _text_query(connection: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], str, list[str]]:
    """Return the table's column names and a query that selects every value as its CSV text, with parameters.

    DuckDB writes each value as text as Python's ``str`` does for the types of
    the exported tables (DECIMAL keeps its scale: 28.60), true/false for
    BOOLEAN and an empty string for NULL. VARCHAR values get the formula
    prefix of ``csv_safe``. The rows never become Python numbers, which is
    most of the cost at a million rows.
    """
    described = connection.execute(f"describe {table}").fetchall()
    columns = [name for name, column_type, *_ in described]
    expressions, parameters = [], []
    for name, column_type, *_ in described:
        if column_type == "VARCHAR":
            expression, bound = csv_safe_sql(_quoted(name))
            parameters += bound
        else:
            expression = f"cast({_quoted(name)} as varchar)"
        expressions.append(f"coalesce({expression}, '')")
    # The select list has no aliases, so ORDER BY binds to the table's own columns, not to their text.
    order = EXPORTED_TABLES[table]
    if order == "all":
        order = ", ".join(_quoted(column) for column in columns)
    return columns, f"select {', '.join(expressions)} from {table} order by {order}", parameters


def _write_both(result: duckdb.DuckDBPyConnection, columns: list[str], japanese: Path, english: Path) -> int:
    """Write the rows of ``result`` to both files in one pass, FETCH_ROWS at a time, and return the row count."""
    rows = 0
    # newline="" lets the csv module write its CRLF line ends unchanged, as RFC 4180 and Excel expect.
    with (
        open(japanese, "w", encoding="utf-8-sig", newline="") as japanese_file,
        open(english, "w", encoding="utf-8", newline="") as english_file,
    ):
        japanese_writer, english_writer = csv.writer(japanese_file), csv.writer(english_file)
        japanese_writer.writerow([csv_safe(label_ja(column)) for column in columns])
        english_writer.writerow([csv_safe(column) for column in columns])
        while batch := result.fetchmany(FETCH_ROWS):
            japanese_writer.writerows(batch)
            english_writer.writerows(batch)
            rows += len(batch)
    return rows


def export_table(connection: duckdb.DuckDBPyConnection, table: str, reports_dir: Path) -> CsvExport:
    """Write ``table`` (one of EXPORTED_TABLES) as ``<table>.ja.csv`` and ``<table>.csv``."""
    if table not in EXPORTED_TABLES:
        raise ValueError(f"{table} is not an exported table; expected one of {sorted(EXPORTED_TABLES)}")
    columns, query, parameters = _text_query(connection, table)
    missing = [column for column in columns if column not in COLUMN_LABELS_JA]
    if missing:
        log.warning("%s: no Japanese header for %s; the English name is used", table, missing)

    japanese = csv_path(reports_dir, table, japanese=True)
    english = csv_path(reports_dir, table, japanese=False)
    result = connection.execute(query, parameters)
    rows = 0

    # Both files are written in one pass over the rows. Each is replaced on its own, the English one
    # first, and a failure while writing the rows leaves both as they were.
    def write_japanese(japanese_temporary: Path) -> None:
        def write_english(english_temporary: Path) -> None:
            nonlocal rows
            rows = _write_both(result, columns, japanese_temporary, english_temporary)

        write_atomically(english, write_english)

    write_atomically(japanese, write_japanese)
    log.info("exported %d rows of %s to %s and %s", rows, table, japanese, english)
    return CsvExport(table, japanese, english, rows)


def export_tables(connection: duckdb.DuckDBPyConnection, reports_dir: Path) -> list[CsvExport]:
    """Export every table of EXPORTED_TABLES that the file has."""
    return [
        export_table(connection, table, reports_dir)
        for table in EXPORTED_TABLES
        if table_exists(connection, table)
    ]
