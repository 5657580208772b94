"""The DuckDB output file: one connection helper, a staging file per run, atomic publish.

Every DuckDB connection in the code base comes from ``connect``: it closes on
every path, including exceptions. A refresh writes into a staging file beside
the published one (``.kpi.duckdb.<run id>.staging``) while it holds the refresh
lock (``.kpi.duckdb.lock``). ``publish`` checkpoints the staging file and
replaces the published file with it in one ``os.replace``, so a reader sees
either the old file or the new one, never a mix. This code never writes the
published file in place, so a reader that has it open keeps the old inode and
its consistent old view, and never blocks a refresh.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.problems import SettingInvalid
from evaluation.refresh_lock import RefreshLock

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
# Long enough for a scheduled refresh and a manual one to queue behind each other.
DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0
# DuckDB's memory_limit on every connection (KPI_DUCKDB_MEMORY_LIMIT overrides it). Past it DuckDB
# writes to its temp_directory instead of holding more in memory: for a staging file that is
# "<staging file>.tmp" beside it, for a read-only connection a folder under the system temp folder.
# NOTE: the process uses a few hundred MiB more than the limit (docs/performance.md). Under 1GB the
# kpi_score insert of 1.7 x 10^7 KPI-years ran out of memory; under 2GB it and every later step ran.
DEFAULT_MEMORY_LIMIT = "2GB"
_MEMORY_SIZE = re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,6})?) ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE | re.ASCII)
_UNIT_BYTES = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# Below this DuckDB ran out of memory on the Otaru table (at 48MB, in validate_kpi_cell); 256MB leaves room.
MIN_MEMORY_LIMIT_BYTES = 256 * 10**6
# Run ids become part of file names; Dagster's are UUIDs.
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
# How long a test pause (KPI_TEST_PAUSE_AT) waits for its marker file to go away.
TEST_PAUSE_MAX_SECONDS = 60.0
# Pause points already reached in this process, so that each pauses once.
_paused_points: set[str] = set()
# Rows fetched at a time while hashing a table.
HASH_BATCH_ROWS = 10_000
# Staging files this process keeps a connection open to, from the first staging step of a
# run to its publish or end (see Warehouse._hold).
_open_staging_connections: dict[Path, duckdb.DuckDBPyConnection] = {}
# Tables loaded from Python; their CREATE TABLE statements live in sql/normalized/.
NORMALIZED_TABLES = (
    "source_file",
    "strategy",
    "evaluation_method",
    "score_band",
    "kpi",
    "kpi_expected_value",
    "kpi_revision",
    "kpi_value",
    "kpi_value_history",
    "submission_status",
    "published_kpi_score",
    "published_summary",
)


def read_sql(relative_path: str) -> str:
    """Return the text of a file under sql/, e.g. "scores/kpi_score.sql"."""
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


def memory_limit_setting() -> str:
    """Return KPI_DUCKDB_MEMORY_LIMIT (default DEFAULT_MEMORY_LIMIT); raise SettingInvalid unless it is a size."""
    limit = os.environ.get("KPI_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT).strip()
    size = _MEMORY_SIZE.fullmatch(limit)
    if not size:
        raise SettingInvalid(f"環境変数 KPI_DUCKDB_MEMORY_LIMIT の値「{limit}」は大きさではありません(例: 1GB、512MB)"
                             f" / KPI_DUCKDB_MEMORY_LIMIT={limit!r} is not a size such as 1GB or 512MB")
    if float(size.group(1)) * _UNIT_BYTES[size.group(2).lower()] < MIN_MEMORY_LIMIT_BYTES:
        raise SettingInvalid(f"環境変数 KPI_DUCKDB_MEMORY_LIMIT の値「{limit}」は小さすぎます。256MB 以上にしてください"
                             f" / KPI_DUCKDB_MEMORY_LIMIT={limit!r} is too small; set at least 256MB")
    return limit


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the DuckDB file at ``path`` and close the connection on every path out of the block.

    Read-write connections share DuckDB's one database instance per file in
    this process, so nested connections to a staging file are accepted. A
    read-only connection gets its own in-memory database with the file
    attached READ_ONLY and selected with USE. This avoids two behaviours of
    DuckDB 2.0.1. It rejects a second connection to a file with a different
    configuration in one process. And while any connection to a path stays
    open, a new connection to that path gets the cached instance, which still
    reads the file that was there before a publish. The code opens the
    published file only read-only and staging files only read-write, so no
    file is opened with both configurations.
    """
    # imported here, not at the top, so loading the Dagster code location stays fast
    import duckdb

    limit = memory_limit_setting()
    if read_only:
        if not path.is_file():
            raise FileNotFoundError(f"DuckDB ファイルがありません / DuckDB file not found: {path}")
        connection = duckdb.connect(":memory:")
        try:
            spill = Path(tempfile.gettempdir()) / f"kpi-duckdb-{os.getpid()}"
            connection.execute(f"set temp_directory = {_quoted(str(spill))}")
            connection.execute(f"set memory_limit = {_quoted(limit)}")
            connection.execute("attach ? as warehouse (read_only)", [str(path)])
            connection.execute("use warehouse")
        except BaseException:
            connection.close()
            raise
    else:
        connection = duckdb.connect(str(path))
        try:
            # the setting belongs to the database, so every connection to the file shares it
            connection.execute(f"set memory_limit = {_quoted(limit)}")
        except BaseException:
            connection.close()
            raise
    try:
        yield connection
    finally:
        connection.close()


RUN_IDENTITY_COLUMNS = {"run_id"}


def table_content_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of each table's column names, types and rows, ordered by every column.

    Columns in ``RUN_IDENTITY_COLUMNS`` are left out, so a rerun on the same
    input gives the same hashes.

    Ordering by all columns, key columns first, gives one order for any set of
    rows, so two files with the same table contents get the same hashes
    whatever order the rows were inserted in.
    """
    hashes: dict[str, str] = {}
    with connect(path, read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where database_name = current_database()"
                " order by table_name"
            ).fetchall()
        ]
        for table in tables:
            columns = connection.execute(
                "select column_name, data_type from duckdb_columns()"
                " where database_name = current_database() and table_name = ? order by column_index",
                [table],
            ).fetchall()
            # A column naming the run (validation_result.run_id) differs on every rerun by design.
            kept = [(name, data_type) for name, data_type in columns if name not in RUN_IDENTITY_COLUMNS]
            digest = hashlib.sha256(repr(kept).encode())
            # Table and column names come from the file's own catalog, quoted as identifiers.
            quoted = '"' + table.replace('"', '""') + '"'
            selected = ", ".join('"' + name.replace('"', '""') + '"' for name, _ in kept)
            cursor = connection.execute(f"select {selected} from {quoted} order by all")
            while rows := cursor.fetchmany(HASH_BATCH_ROWS):
                for row in rows:
                    digest.update(repr(row).encode() + b"\n")
            hashes[table] = digest.hexdigest()
    return hashes


def pause_for_test(point: str) -> None:
    """Block at ``point`` while the marker file exists, when KPI_TEST_PAUSE_AT names that point.

    Tests set KPI_TEST_PAUSE_AT and KPI_TEST_PAUSE_MARKER (a file path) to stop
    a refresh mid-run. ``open_staging`` is the end of the run's first staging
    connection, after its writes and before it closes. ``publish`` is just
    before the swap. The pause writes the marker, then waits until the test
    deletes it or kills the process, for at most TEST_PAUSE_MAX_SECONDS. It
    happens once per process.
    """
    if os.environ.get("KPI_TEST_PAUSE_AT") != point or point in _paused_points:
        return
    _paused_points.add(point)
    marker = Path(os.environ["KPI_TEST_PAUSE_MARKER"])
    marker.write_text(f"{os.getpid()}\n", encoding="utf-8")
    log.warning("test pause at %s: waiting for %s to be removed", point, marker)
    deadline = time.monotonic() + TEST_PAUSE_MAX_SECONDS
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def create_macros(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the temporary macros of sql/macros.sql on this connection."""
    connection.execute(read_sql("macros.sql"))


def replace_table_from_query(
    connection: duckdb.DuckDBPyConnection, table: str, query_file: str
) -> int:
    """Rebuild ``table`` from the SELECT in ``query_file``; return its row count.

    The assets of kpi_score and project_summary replace one fiscal year at a
    time with ``replace_fiscal_years``; tests of their SQL rebuild them whole here.
    """
    if table not in (
        "kpi_score", "project_summary", "kpi_outlook", "project_band_count", "strategy_comparison"
    ):
        raise ValueError(f"{table} is not a table built from a query file")
    create_macros(connection)
    connection.execute(f"create or replace table {table} as {read_sql(query_file)}")
    return connection.execute(f"select count(*) from {table}").fetchone()[0]


# Tables built from a query file, one set of rows per fiscal year.
FISCAL_YEAR_TABLES = {
    "kpi_score": "scores/kpi_score.sql",
    "project_summary": "summaries/project_summary.sql",
}


def replace_fiscal_years(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    first_year: int,
    last_year: int,
    published: Path | None = None,
) -> int:
    """Replace the rows of fiscal years ``first_year``..``last_year`` in ``table``; return their count.

    The rows come from the table's query file. Deleting the years first makes a
    rerun or a backfill replace, never double, what an earlier run wrote. When
    this connection has no ``table`` yet (a refresh starts from an empty staging
    file), the rows of the other fiscal years are copied from ``published``
    first, so a run over some years leaves the rest as they were published.
    """
    if table not in FISCAL_YEAR_TABLES:
        raise ValueError(f"{table} is not a table built per fiscal year from a query file")
    create_macros(connection)
    query = read_sql(FISCAL_YEAR_TABLES[table])
    years = [first_year, last_year]

    connection.execute("begin transaction")
    try:
        if not _table_exists(connection, table):
            connection.execute(f"create table {table} as select * from ({query}) where false")
            if published is not None and published.exists():
                _copy_other_years(connection, table, published, years)
        connection.execute(f"delete from {table} where fiscal_year between ? and ?", years)
        connection.execute(
            f"insert into {table} by name select * from ({query}) where fiscal_year between ? and ?",
            years,
        )
        count = connection.execute(
            f"select count(*) from {table} where fiscal_year between ? and ?", years
        ).fetchone()[0]
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    log.info("wrote %d rows to %s for fiscal years %d-%d", count, table, first_year, last_year)
    return count


def _table_exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = connection.execute(
        "select count(*) from duckdb_tables()"
        " where database_name = current_database() and table_name = ?",
        [table],
    ).fetchone()[0]
    return found > 0


def _copy_other_years(
    connection: duckdb.DuckDBPyConnection, table: str, published: Path, years: list[int]
) -> None:
    """Copy the rows of ``table`` outside ``years`` from the published file into this connection."""
    connection.execute("attach ? as published (read_only)", [str(published)])
    try:
        if _published_has_table(connection, table):
            # NOTE: by name, so a column added since the file was published stays null
            # in the copied years until a refresh of every fiscal year rewrites them.
            connection.execute(
                f"insert into {table} by name select * from published.{table} "
                "where fiscal_year not between ? and ?",
                years,
            )
            copied = connection.execute(f"select count(*) from {table}").fetchone()[0]
            log.info("copied %d rows of other fiscal years to %s from %s", copied, table, published)
    finally:
        connection.execute("detach published")


def _published_has_table(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = connection.execute(
        "select count(*) from duckdb_tables() where database_name = 'published' and table_name = ?",
        [table],
    ).fetchone()[0]
    return found > 0


def ensure_normalized_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the tables of sql/normalized/ that the file does not have yet."""
    existing = {row[0] for row in connection.execute("select table_name from duckdb_tables()").fetchall()}
    for table in NORMALIZED_TABLES:
        if table not in existing:
            connection.execute(read_sql(f"normalized/{table}.sql"))


class PublishRejected(RuntimeError):
    """The staging file was not published; the published file is unchanged."""


class Warehouse:
    """The published DuckDB file, the staging files that runs build, and the refresh lock.

    Every staging write happens under the refresh lock, taken by the first
    ``start_staging`` or ``open_staging`` of a run and released by ``publish``
    or ``finish_run``. So a run that takes the lock can remove every other
    staging file, because each belongs to a run that has ended.
    """

    def __init__(self, path: Path, lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS) -> None:
        self.path = path
        self.lock = RefreshLock(path.with_name(f".{path.name}.lock"), lock_timeout_seconds)

    def staging_path(self, run_id: str) -> Path:
        if not RUN_ID_PATTERN.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r} is not usable in a file name")
        return self.path.with_name(f".{self.path.name}.{run_id}.staging")

    def staging_files(self) -> list[Path]:
        """Staging files, their WAL files and DuckDB temp folders of every run, in name order."""
        return sorted(self.path.parent.glob(f".{self.path.name}.*.staging*"))

    def _begin(self, run_id: str) -> None:
        """Take the refresh lock for the run; on first taking it, remove staging left by ended runs."""
        if not self.lock.acquire(run_id):
            return
        own = self.staging_path(run_id).name
        for leftover in self.staging_files():
            if leftover.name.startswith(own):
                continue
            _remove(leftover)
            log.warning("公開せずに終わった更新が残した %s を削除しました / removed %s, left by a refresh that "
                        "ended without publishing", leftover, leftover)

    def _check_path(self) -> None:
        """Raise PublishRejected before any work when the published path can never be written."""
        if self.path.is_dir():
            raise PublishRejected(
                f"公開先 {self.path} はフォルダです。KPI_WAREHOUSE を DuckDB ファイルのパスにしてください"
                f" / the published path {self.path} is a folder; set KPI_WAREHOUSE to a DuckDB file path"
            )
        blocking = next((parent for parent in self.path.parents if parent.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise PublishRejected(
                f"公開先 {self.path} を作れません。途中の {blocking} がフォルダではなくファイルです"
                f" / cannot create {self.path}: {blocking} is a file, not a folder"
            )

    def start_staging(self, run_id: str) -> Path:
        """Create an empty staging file for a full refresh, with the normalized tables."""
        self._check_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._begin(run_id)
        staging = self.staging_path(run_id)
        self._remove_staging(run_id)
        with connect(staging) as connection:
            ensure_normalized_tables(connection)
        self._hold(staging)
        log.info("started staging file %s", staging)
        return staging

    @contextmanager
    def open_staging(self, run_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """Connect to this run's staging file; a partial run starts from a copy of the published file."""
        self._check_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._begin(run_id)
        staging = self.staging_path(run_id)
        if not staging.exists() and self.path.exists():
            # The published file is never written in place, so a plain copy is consistent.
            shutil.copyfile(self.path, staging)
            log.info("copied %s to staging file %s", self.path, staging)
        self._hold(staging)
        with connect(staging) as connection:
            ensure_normalized_tables(connection)
            yield connection
            pause_for_test("open_staging")

    def publish(self, run_id: str) -> Path:
        """Checkpoint the staging file and move it over the published file atomically.

        Raises PublishRejected, leaving the published file as it was, when the
        staging file is missing, still has a WAL after the checkpoint, or when
        another process has the published file open read-write.
        """
        staging = self.staging_path(run_id)
        if not staging.exists():
            raise PublishRejected(
                f"この実行の作業用ファイルがありません: {staging} / no staging file for run {run_id}: {staging}"
            )
        self._begin(run_id)

        self._let_go(staging)
        with connect(staging) as connection:
            connection.execute("checkpoint")
        wal = _wal_path(staging)
        if wal.exists():
            raise PublishRejected(
                f"作業用ファイルへの接続がまだ開いているため公開できません: {wal} / "
                f"the staging file still has a WAL after the checkpoint, so a connection is still open: {wal}"
            )
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        self._reject_if_published_file_open_for_writing()
        self._set_aside_published_wal(run_id)

        pause_for_test("publish")
        os.replace(staging, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        log.info("published %s (%d bytes) from run %s", self.path, self.path.stat().st_size, run_id)

        self.lock.release(run_id)
        return self.path

    def finish_run(self, run_id: str) -> None:
        """Remove the run's staging files if it did not publish, and release its lock (run end)."""
        if self._remove_staging(run_id):
            log.warning("実行 %s は公開せずに終わったため、作業用ファイルを削除しました / run %s ended without "
                        "publishing; removed its staging file", run_id, run_id)
        self.lock.release(run_id)

    def leave_staging(self, run_id: str) -> None:
        """Close this process's connection to the staging file and release the lock, keeping the file.

        A run of a backfill ends this way: a later run of the backfill publishes the file.
        """
        self._let_go(self.staging_path(run_id))
        self.lock.release(run_id)

    @staticmethod
    def _hold(staging: Path) -> None:
        """Keep one connection to ``staging`` open in this process until the run publishes or ends.

        While it is open, every ``connect`` to the file reuses DuckDB's open
        database instead of opening the file again and checkpointing it on
        close: about 15 ms a step on the Otaru file (docs/performance.md).
        """
        if staging not in _open_staging_connections:
            import duckdb

            connection = duckdb.connect(str(staging))
            connection.execute(f"set memory_limit = {_quoted(memory_limit_setting())}")
            _open_staging_connections[staging] = connection

    @staticmethod
    def _let_go(staging: Path) -> None:
        """Close the connection ``_hold`` keeps to ``staging``, if any."""
        connection = _open_staging_connections.pop(staging, None)
        if connection is not None:
            connection.close()

    def _remove_staging(self, run_id: str) -> bool:
        """Remove this run's staging file, WAL and temp folder; return whether any existed."""
        self._let_go(self.staging_path(run_id))
        own = self.staging_path(run_id).name
        found = [path for path in self.staging_files() if path.name.startswith(own)]
        for path in found:
            _remove(path)
        return bool(found)

    def _reject_if_published_file_open_for_writing(self) -> None:
        """Raise PublishRejected when another process has a read-write DuckDB connection to the file.

        DuckDB holds a POSIX write lock (F_WRLCK) on a file it has open
        read-write and a read lock on one it has open read-only, so a shared
        lock that cannot be taken means a writer. The writer would keep writing
        the old file, and a WAL it leaves beside the path would be replayed
        into the new one.
        """
        if not self.path.exists():
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            raise PublishRejected(
                f"公開済みの DuckDB ファイルを別のプロセスが書き込み可能で開いているため、公開できません: {self.path}。"
                "読み取り専用で開き直してください(DuckDB CLI なら duckdb -readonly)。"
                f" / Another process has {self.path} open read-write, so it cannot be replaced;"
                " reopen it read-only (DuckDB CLI: duckdb -readonly)."
            ) from error
        finally:
            # NOTE: closing any descriptor of a file drops every POSIX lock this process holds
            # on it, including those of its own DuckDB connections to the published file.
            # Readers only need their locks to keep writers out, and the file is replaced next.
            os.close(fd)

    def _set_aside_published_wal(self, run_id: str) -> None:
        """Rename a WAL left beside the published file, which DuckDB would replay into the new file."""
        wal = _wal_path(self.path)
        if wal.exists():
            kept = wal.with_name(f"{wal.name}.{run_id}.orphaned")
            os.replace(wal, kept)
            log.warning("moved %s, left by a read-write connection to the old file, to %s", wal, kept)


def _wal_path(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
