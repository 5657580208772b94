"""CSV exports of the summary and score tables, in two variants.

``<table>.ja.csv`` is UTF-8 with a byte order mark and Japanese headers, so
that Excel on Japanese Windows opens it without garbling. ``<table>.csv`` is
plain UTF-8 with the English column names, for tools. Decimals are written
exactly as DuckDB stores them (63.08, -20.39), and formula-like text gets an
apostrophe in front (see safety.py).

DuckDB's ``COPY ... TO`` writes the rows once to a temporary file, with the
line ends (CRLF) and quoting of Python's csv module. Each export is that
file behind its header line.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import tempfile
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
    BOOLEAN. NULL and the empty string both become NULL, which COPY writes as
    an empty field, as Python's csv module writes an empty string (COPY
    writes an empty string as ""). VARCHAR values get the formula prefix of
    ``csv_safe``.
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
        expressions.append(f"nullif({expression}, '')")
    # The select list has no aliases, so ORDER BY binds to the table's own columns, not to their text.
    order = EXPORTED_TABLES[table]
    if order == "all":
        order = ", ".join(_quoted(column) for column in columns)
    return columns, f"select {', '.join(expressions)} from {table} order by {order}", parameters


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_rows(
    connection: duckdb.DuckDBPyConnection, query: str, parameters: list[str], directory: Path
) -> tuple[Path, int]:
    """Write the rows of ``query`` as CSV lines to a new temporary file in ``directory``; return it and the row
    count that COPY reports."""
    handle, name = tempfile.mkstemp(prefix=".rows.", suffix=".csv.tmp", dir=directory)
    os.close(handle)
    rows_file = Path(name)
    try:
        (rows,) = connection.execute(
            f"copy ({query}) to {_sql_string(str(rows_file))} (format csv, header false, new_line '\\r\\n')",
            parameters,
        ).fetchone()
    except BaseException:
        rows_file.unlink(missing_ok=True)
        raise
    return rows_file, rows


def _write_with_header(path: Path, encoding: str, header: list[str], rows_file: Path) -> None:
    # newline="" lets the csv module write its CRLF line end unchanged, as RFC 4180 and Excel expect.
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerow(header)
        handle.flush()
        with open(rows_file, "rb") as rows:
            shutil.copyfileobj(rows, handle.buffer, 1 << 20)


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
    japanese.parent.mkdir(parents=True, exist_ok=True)
    rows_file, rows = _copy_rows(connection, query, parameters, japanese.parent)
    # Each file is replaced on its own, the English one first. A failure before that leaves both as they were.
    try:
        write_atomically(english, lambda temporary: _write_with_header(
            temporary, "utf-8", [csv_safe(column) for column in columns], rows_file))
        write_atomically(japanese, lambda temporary: _write_with_header(
            temporary, "utf-8-sig", [csv_safe(label_ja(column)) for column in columns], rows_file))
    finally:
        rows_file.unlink(missing_ok=True)
    log.info("exported %d rows of %s to %s and %s", rows, table, japanese, english)
    return CsvExport(table, japanese, english, rows)


def export_tables(connection: duckdb.DuckDBPyConnection, reports_dir: Path) -> list[CsvExport]:
    """Export every table of EXPORTED_TABLES that the file has."""
    return [
        export_table(connection, table, reports_dir)
        for table in EXPORTED_TABLES
        if table_exists(connection, table)
    ]
