"""The list of report files a refresh writes, for the command line to show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.reports import queries
from evaluation.reports.csv_export import EXPORTED_TABLES
from evaluation.reports.files import csv_path, html_report_path, workbook_path
from evaluation.reports.schema import table_exists

if TYPE_CHECKING:
    import duckdb


def report_files(connection: duckdb.DuckDBPyConnection, reports_dir: Path) -> list[tuple[str, Path]]:
    """Return (Japanese label, path) of every report the report assets write from this file."""
    files: list[tuple[str, Path]] = []
    strategies = queries.strategies(connection)
    years = queries.latest_scored_years(connection, [strategy.strategy_id for strategy in strategies])
    bases = queries.bases_for_years(connection, years)
    for strategy in strategies:
        year = years.get(strategy.strategy_id)
        if year is None:
            continue
        for basis in bases[strategy.strategy_id]:
            label = f"評価表 Excel ({strategy.strategy_id}, FY{year}, {queries.BASIS_LABELS_JA[basis]})"
            files.append((label, workbook_path(reports_dir, strategy.strategy_id, year, basis)))
        html_path = html_report_path(reports_dir, strategy.strategy_id)
        files.append((f"評価レポート HTML ({strategy.strategy_id})", html_path))
    for table in EXPORTED_TABLES:
        if table_exists(connection, table):
            files.append((f"CSV {table} (日本語の見出し・BOM付き)", csv_path(reports_dir, table, japanese=True)))
            files.append((f"CSV {table} (英語の列名)", csv_path(reports_dir, table, japanese=False)))
    return files
