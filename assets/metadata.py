"""Materialization metadata shared by the assets: row count, a markdown preview, a headline."""

from __future__ import annotations

import dagster as dg
import duckdb

PREVIEW_ROWS = 5


def table_metadata(connection: duckdb.DuckDBPyConnection, table: str, order_by: str) -> dict:
    """Row count and a short markdown preview of ``table`` (table name from a fixed list)."""
    count = connection.execute(f"select count(*) from {table}").fetchone()[0]
    preview = connection.execute(f"select * from {table} order by {order_by} limit {PREVIEW_ROWS}").df()
    return {
        "dagster/row_count": dg.MetadataValue.int(count),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if count else "(行なし / no rows)"),
    }
