"""The Dagster code location loads, and a refresh of the Otaru data publishes a file."""

from evaluation.warehouse import connect
from pipelines.definitions import defs


def test_definitions_load():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"source_file", "kpi", "kpi_value", "kpi_score", "project_summary", "warehouse_file"} <= keys
    assert defs.resolve_job_def("annual_refresh") is not None


def test_refresh_publishes_all_tables(otaru_warehouse):
    with connect(otaru_warehouse, read_only=True) as connection:
        tables = {row[0] for row in connection.execute("select table_name from duckdb_tables()").fetchall()}
    assert {"kpi", "kpi_value", "kpi_score", "project_summary", "published_summary", "strategy"} <= tables
