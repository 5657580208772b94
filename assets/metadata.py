"""Materialization metadata shared by the assets: row count, a markdown preview, a headline; capped logging.

Table names and ORDER BY lists come from the assets' fixed lists, never from input.
"""

from collections.abc import Callable

import dagster as dg

from evaluation.columns import TABLE_COLUMNS, Column

PREVIEW_ROWS = 5
# Each log line is a Dagster event, one row written to the run's event log (about 4 ms each
# with the SQLite storage, under cProfile). A step logs at most this many lines of one kind.
LOGGED_LINES_MAX = 200

# One headline figure per normalized table: (metadata key, query returning one value).
HEADLINES = {
    "source_file": ("total_size_bytes", "select coalesce(sum(size_bytes), 0) from source_file"),
    "strategy": (
        "municipalities",
        "select string_agg(municipality || ' (' || strategy_id || ')', ', ' order by strategy_id)"
        " from strategy",
    ),
    "kpi": ("evaluated_kpis", "select count(*) filter (where evaluated) from kpi"),
    "kpi_value": (
        "reported_values",
        "select count(*) filter (where value_status = 'reported') from kpi_value",
    ),
    "kpi_value_history": ("corrections", "select count(*) filter (where is_correction) from kpi_value_history"),
    "submission_status": (
        "departments",
        "select count(distinct strategy_id || '/' || department) from submission_status",
    ),
    "kpi_expected_value": ("kpis_with_expected_values", "select count(distinct kpi_id) from kpi_expected_value"),
    "kpi_revision": ("revised_kpis", "select count(distinct kpi_id) from kpi_revision"),
    "project_band_count": ("band_kpis", "select coalesce(sum(kpi_count), 0) from project_band_count"),
    "published_kpi_score": (
        "published_scores",
        "select count(published_score) from published_kpi_score",
    ),
    "published_summary": (
        "published_average_scores",
        """
        select string_agg(
            '(' || project_no || ') ' || average_score, ', ' order by strategy_id, project_no
        )
        from published_summary
        where fiscal_year = (select max(fiscal_year) from published_summary)
        """,
    ),
}


def table_metadata(
    connection, table: str, order_by: str, fiscal_years: tuple[int, int] | None = None
) -> dict:
    """Return the row count, a markdown preview and the headline of ``table``.

    With ``fiscal_years`` (first, last), the count and the preview cover those years only.

    ``connection`` is a DuckDB connection; it is not annotated so that importing
    this module does not import duckdb.
    """
    where, params = "", []
    if fiscal_years is not None:
        where, params = "where fiscal_year between ? and ?", list(fiscal_years)
    count = connection.execute(f"select count(*) from {table} {where}", params).fetchone()[0]
    cursor = connection.execute(
        f"select * from {table} {where} order by {order_by} limit {PREVIEW_ROWS}", params
    )

    metadata = {
        "dagster/row_count": dg.MetadataValue.int(count),
        "preview": dg.MetadataValue.md(markdown_table(cursor) if count else "(行なし / no rows)"),
    }
    if table in HEADLINES:
        key, query = HEADLINES[table]
        metadata[key] = connection.execute(query).fetchone()[0]
    return metadata


def markdown_table(cursor) -> str:
    """Format the cursor's rows as a markdown table, with DECIMAL values as stored, not floats."""
    import pandas as pd

    names = [column[0] for column in cursor.description]
    # dtype=object keeps Decimal values; DuckDB's .df() would turn them into float64
    frame = pd.DataFrame(cursor.fetchall(), columns=names, dtype=object)
    return frame.to_markdown(index=False)


def column_schema(table: str) -> dg.TableSchema:
    """Build the Dagster table schema of the documented columns of ``table``."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(column.name, column.type, description=column_description(column))
            for column in TABLE_COLUMNS[table]
        ]
    )


def column_description(column: Column) -> str:
    """Return the Japanese label, then the English description when there is one."""
    return f"{column.label_ja} / {column.description}" if column.description else column.label_ja


def with_column_schemas(definitions: list) -> list:
    """Attach the documented column schema to every asset named after a warehouse table."""

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        table = spec.key.to_user_string()
        if table not in TABLE_COLUMNS:
            return spec
        return spec.merge_attributes(metadata={"dagster/column_schema": column_schema(table)})

    return dg.map_asset_specs(attach, definitions)


def log_some(log: Callable[[str], None], lines: list[str], rest: Callable[[int], str]) -> None:
    """Log the first LOGGED_LINES_MAX of ``lines``, then one line ``rest(count)`` about the others."""
    for line in lines[:LOGGED_LINES_MAX]:
        log(line)
    if len(lines) > LOGGED_LINES_MAX:
        log(rest(len(lines) - LOGGED_LINES_MAX))


def more_files(count: int) -> str:
    """Return the log line that replaces ``count`` file lines left out by log_some."""
    return f"ほか {count} ファイル(パスはメタデータ paths にあります) / {count} more files (paths in the metadata)"


def more_strategies(count: int) -> str:
    """Return the log line that replaces ``count`` strategy lines left out by log_some."""
    return f"ほか {count} 戦略 / {count} more strategies"
