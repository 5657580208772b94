"""The DuckDB output file: one connection helper, a staging copy per run, atomic publish.

Every DuckDB connection in the code base comes from ``connect``: it closes on
every path, including exceptions. A refresh writes into a staging file beside
the published one (``.kpi.duckdb.<run id>.staging``) and ``publish`` replaces
the published file with it in one ``os.replace``, so a reader sees either the
old file or the new one, never a mix.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
# Tables loaded from Python; their CREATE TABLE statements live in sql/normalized/.
NORMALIZED_TABLES = (
    "source_file",
    "strategy",
    "evaluation_method",
    "score_band",
    "kpi",
    "kpi_value",
    "kpi_value_history",
    "submission_status",
    "published_kpi_score",
    "published_summary",
)


def read_sql(relative_path: str) -> str:
    """Return the text of a file under sql/, e.g. "scores/kpi_score.sql"."""
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the DuckDB file at ``path`` and close it on every path out of the block."""
    connection = duckdb.connect(str(path), read_only=read_only)
    try:
        yield connection
    finally:
        connection.close()


def create_macros(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the temporary macros of sql/macros.sql on this connection."""
    connection.execute(read_sql("macros.sql"))


def replace_table_from_query(
    connection: duckdb.DuckDBPyConnection, table: str, query_file: str
) -> int:
    """Rebuild ``table`` from the SELECT in ``query_file``; return its row count."""
    if table not in ("kpi_score", "project_summary", "kpi_outlook"):
        raise ValueError(f"{table} is not a table built from a query file")
    create_macros(connection)
    connection.execute(f"create or replace table {table} as {read_sql(query_file)}")
    return connection.execute(f"select count(*) from {table}").fetchone()[0]


def ensure_normalized_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the tables of sql/normalized/ that the file does not have yet."""
    existing = {row[0] for row in connection.execute("select table_name from duckdb_tables()").fetchall()}
    for table in NORMALIZED_TABLES:
        if table not in existing:
            connection.execute(read_sql(f"normalized/{table}.sql"))


class Warehouse:
    """The published DuckDB file and the staging files that runs build before publishing it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def staging_path(self, run_id: str) -> Path:
        return self.path.with_name(f".{self.path.name}.{run_id}.staging")

    def start_staging(self, run_id: str) -> Path:
        """Create an empty staging file for a full refresh, with the normalized tables."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.staging_path(run_id)
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
        with connect(staging) as connection:
            ensure_normalized_tables(connection)
        log.info("started staging file %s", staging)
        return staging

    @contextmanager
    def open_staging(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """Connect to this run's staging file; a partial run starts from a copy of the published file."""
        staging = self.staging_path(run_id)
        if not staging.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                shutil.copyfile(self.path, staging)
                log.info("copied %s to staging file %s", self.path, staging)
        with connect(staging) as connection:
            ensure_normalized_tables(connection)
            yield connection

    def publish(self, run_id: str) -> Path:
        """Checkpoint the staging file and move it over the published file atomically."""
        staging = self.staging_path(run_id)
        if not staging.exists():
            raise FileNotFoundError(f"no staging file {staging} for run {run_id}")
        with connect(staging) as connection:
            connection.execute("checkpoint")
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        log.info("published %s (%d bytes)", self.path, self.path.stat().st_size)
        return self.path
