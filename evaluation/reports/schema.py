"""Checks for the tables and columns of the DuckDB file, for reports that also read files of older versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


def table_exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Return whether the main schema has a table or view named ``table``."""
    found = connection.execute(
        "select count(*) from duckdb_tables() where table_name = ? "
        "union all select count(*) from duckdb_views() where view_name = ? and not internal",
        [table, table],
    ).fetchall()
    return any(count for (count,) in found)


def has_column(connection: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Return whether ``table`` has a column named ``column``."""
    return connection.execute(
        "select count(*) from duckdb_columns() where table_name = ? and column_name = ?", [table, column]
    ).fetchone()[0] > 0
