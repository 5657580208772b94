"""The connection helper, the refresh lock and publish, on small DuckDB files built in each test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from evaluation.problems import InputRejected, SettingInvalid
from evaluation.refresh_lock import RefreshLocked
from evaluation.warehouse import PublishRejected, Warehouse, connect, table_content_hashes

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def write_strategy_name(warehouse: Warehouse, run_id: str, name: str) -> None:
    """Build a staging file with one strategy row named ``name``, and publish it."""
    warehouse.start_staging(run_id)
    with warehouse.open_staging(run_id) as connection:
        connection.execute(
            "insert into strategy values ('otaru-2015', '小樽市', ?, 2015, 2019)", [name]
        )
    warehouse.publish(run_id)


def read_strategy_name(connection: duckdb.DuckDBPyConnection) -> str:
    return connection.execute("select strategy_name from strategy").fetchone()[0]


def start_holder(code: str) -> subprocess.Popen:
    """Start a Python process running ``code``; return once it prints its first line."""
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def test_connect_closes_after_exception(tmp_path):
    path = tmp_path / "kpi.duckdb"
    with pytest.raises(RuntimeError, match="inside the block"):
        with connect(path) as connection:
            connection.execute("create table t as select 1 as x")
            raise RuntimeError("inside the block")

    # DuckDB rejects a read-only attach of a file this process still has open
    # read-write ("Unique file handle conflict"), so this passes only if the
    # read-write connection was closed.
    with connect(path, read_only=True) as connection:
        assert connection.execute("select x from t").fetchall() == [(1,)]


def test_connect_read_only_beside_others(tmp_path):
    path = tmp_path / "kpi.duckdb"
    with connect(path) as connection:
        connection.execute("create table t as select 1 as x")

    with connect(path, read_only=True) as first, connect(path, read_only=True) as second:
        # A notebook in the same process that opens the file read-only on its own.
        plain = duckdb.connect(str(path), read_only=True)
        try:
            assert first.execute("select x from t").fetchall() == [(1,)]
            assert second.execute("select x from t").fetchall() == [(1,)]
            assert plain.execute("select x from t").fetchall() == [(1,)]
        finally:
            plain.close()


def test_connect_read_only_rejects_writes(tmp_path):
    path = tmp_path / "kpi.duckdb"
    with connect(path) as connection:
        connection.execute("create table t as select 1 as x")

    with connect(path, read_only=True) as connection:
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):
            connection.execute("create table u (x integer)")


def test_connect_read_only_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        with connect(tmp_path / "missing.duckdb", read_only=True):
            pass
    assert not (tmp_path / "missing.duckdb").exists()


def test_connect_sets_memory_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_DUCKDB_MEMORY_LIMIT", "300MB")
    path = tmp_path / "kpi.duckdb"
    # DuckDB counts MB in powers of ten and shows MiB: 300 * 10^6 bytes is 286.1 MiB.
    with connect(path) as connection:
        assert connection.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"
    with connect(path, read_only=True) as connection:
        assert connection.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"


@pytest.mark.parametrize("limit, reason", [
    ("1GB'; drop table x; --", "is not a size"),
    ("１GB", "is not a size"),  # a full-width digit, which DuckDB's parser rejects
    ("1\u00a0GB", "is not a size"),  # a no-break space, which DuckDB reads as part of the unit
    ("9999999TB", "is not a size"),  # past DuckDB's range of 2^64 bytes
    ("10MB", "too small"),  # DuckDB ran out of memory on the Otaru table at 48MB
    ("255MB", "too small"),
])
def test_connect_rejects_bad_memory_limit(tmp_path, monkeypatch, limit, reason):
    monkeypatch.setenv("KPI_DUCKDB_MEMORY_LIMIT", limit)
    with pytest.raises(SettingInvalid, match=reason):
        with connect(tmp_path / "kpi.duckdb"):
            pass
    assert not (tmp_path / "kpi.duckdb").exists()


@pytest.mark.parametrize("limit", ["256MB", "1 GB", "1gib", "0.5GB", "999999TB"])
def test_connect_accepts_memory_limit(tmp_path, monkeypatch, limit):
    monkeypatch.setenv("KPI_DUCKDB_MEMORY_LIMIT", limit)
    with connect(tmp_path / "kpi.duckdb") as connection:
        assert connection.execute("select 1").fetchone() == (1,)


def test_staging_connection_held_until_publish(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    staging = warehouse.start_staging("run-1")
    with warehouse.open_staging("run-1") as connection:
        connection.execute("insert into strategy values ('otaru-2015', '小樽市', 'name', 2015, 2019)")
    # Between steps one connection stays open, so DuckDB has not checkpointed: the WAL is still there.
    assert staging.with_name(staging.name + ".wal").exists()

    warehouse.publish("run-1")

    assert sorted(p.name for p in tmp_path.iterdir()) == [".kpi.duckdb.lock", "kpi.duckdb"]
    with connect(warehouse.path, read_only=True) as connection:
        assert read_strategy_name(connection) == "name"


def test_leave_staging_closes_the_held_connection(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    staging = warehouse.start_staging("backfill-1")
    with warehouse.open_staging("backfill-1") as connection:
        connection.execute("insert into strategy values ('otaru-2015', '小樽市', 'name', 2015, 2019)")

    warehouse.leave_staging("backfill-1")

    # Closing the last connection checkpoints the file, so another process can take it over.
    assert staging.exists()
    assert not staging.with_name(staging.name + ".wal").exists()
    assert warehouse.lock.holder() == ""


def test_read_only_sees_file_after_publish(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    write_strategy_name(warehouse, "run-1", "old name")

    with connect(warehouse.path, read_only=True) as held:
        write_strategy_name(warehouse, "run-2", "new name")

        # A plain duckdb.connect here would get the cached instance of the
        # replaced file and read "old name"; connect opens the new file.
        with connect(warehouse.path, read_only=True) as fresh:
            assert read_strategy_name(fresh) == "new name"
        assert read_strategy_name(held) == "old name"


def test_publish_leaves_only_published_file(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    write_strategy_name(warehouse, "run-1", "name")

    # The lock file stays (removing a flocked file races with a waiting run).
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kpi.duckdb.lock", "kpi.duckdb"]
    assert warehouse.lock.holder() == ""


def test_publish_without_staging(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    with pytest.raises(PublishRejected, match="no staging file for run run-1"):
        warehouse.publish("run-1")


def test_staging_path_rejects_unsafe_run_id(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    with pytest.raises(ValueError, match="not usable in a file name"):
        warehouse.staging_path("../escape")


def test_lock_second_run_same_process_times_out(tmp_path):
    first = Warehouse(tmp_path / "kpi.duckdb")
    second = Warehouse(tmp_path / "kpi.duckdb", lock_timeout_seconds=0.2)
    first.start_staging("run-1")
    try:
        with pytest.raises(RefreshLocked) as raised:
            second.start_staging("run-2")
        message = str(raised.value)
        assert "別の更新が実行中" in message
        assert "Another refresh is running (run run-1, pid " + str(os.getpid()) in message
        # The waiting run must not have touched the running run's staging file.
        assert first.staging_path("run-1").exists()
        assert not second.staging_path("run-2").exists()
    finally:
        first.finish_run("run-1")

    second.start_staging("run-2")
    second.finish_run("run-2")


def test_lock_of_killed_process_is_free(tmp_path):
    path = tmp_path / "kpi.duckdb"
    holder = start_holder(
        "import time; from pathlib import Path; from evaluation.warehouse import Warehouse\n"
        f"Warehouse(Path({str(path)!r})).start_staging('dead-run')\n"
        "print('ready', flush=True); time.sleep(60)"
    )
    warehouse = Warehouse(path, lock_timeout_seconds=0.2)
    with pytest.raises(RefreshLocked, match=f"pid {holder.pid}"):
        warehouse.start_staging("next-run")

    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert warehouse.staging_path("dead-run").exists()

    # The kernel released the dead process's flock. So the next run takes the
    # lock, and with it taken, the dead run's staging file cannot be in use.
    warehouse.start_staging("next-run")
    assert not warehouse.staging_path("dead-run").exists()
    assert warehouse.staging_files() == [warehouse.staging_path("next-run")]
    warehouse.finish_run("next-run")
    assert warehouse.staging_files() == []


def test_publish_rejected_while_file_open_read_write(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    write_strategy_name(warehouse, "run-1", "old name")
    before = warehouse.path.read_bytes()

    # Another process with the published file open read-write, as `duckdb kpi.duckdb` does.
    writer = start_holder(
        f"import duckdb, time; c = duckdb.connect({str(warehouse.path)!r})\n"
        "print('ready', flush=True); time.sleep(60)"
    )
    try:
        with pytest.raises(PublishRejected, match="open read-write"):
            write_strategy_name(warehouse, "run-2", "new name")
        assert warehouse.path.read_bytes() == before
    finally:
        warehouse.finish_run("run-2")
        writer.send_signal(signal.SIGKILL)
        writer.wait()

    assert warehouse.staging_files() == []
    write_strategy_name(warehouse, "run-3", "new name")
    with connect(warehouse.path, read_only=True) as connection:
        assert read_strategy_name(connection) == "new name"


def test_publish_moves_stale_wal_aside(tmp_path):
    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    write_strategy_name(warehouse, "run-1", "old name")
    stale_wal = tmp_path / "kpi.duckdb.wal"
    stale_wal.write_bytes(b"left by a crashed read-write session")

    write_strategy_name(warehouse, "run-2", "new name")

    assert not stale_wal.exists()
    assert (tmp_path / "kpi.duckdb.wal.run-2.orphaned").read_bytes() == b"left by a crashed read-write session"
    with connect(warehouse.path, read_only=True) as connection:
        assert read_strategy_name(connection) == "new name"


def test_table_hashes_follow_contents_not_order(tmp_path):
    first = tmp_path / "first.duckdb"
    second = tmp_path / "second.duckdb"
    with connect(first) as connection:
        connection.execute("create table t (k integer, v decimal(5, 2))")
        connection.execute("insert into t values (1, 1.50), (2, 2.25)")
    with connect(second) as connection:
        connection.execute("create table t (k integer, v decimal(5, 2))")
        connection.execute("insert into t values (2, 2.25), (1, 1.50)")

    assert table_content_hashes(first) == table_content_hashes(second)

    with connect(second) as connection:
        connection.execute("update t set v = 2.26 where k = 2")
    assert table_content_hashes(first)["t"] != table_content_hashes(second)["t"]


def test_only_warehouse_module_opens_duckdb():
    """Every connection goes through evaluation.warehouse.connect."""
    opened_elsewhere = []
    for folder in ("evaluation", "assets", "pipelines"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if re.search(r"duckdb\s*\.\s*connect\s*\(", text) and path.name != "warehouse.py":
                opened_elsewhere.append(str(path.relative_to(PROJECT_ROOT)))
    assert opened_elsewhere == []


def test_jobs_run_in_one_process():
    """The refresh lock and the run-end cleanup live in the run's process."""
    from pipelines.definitions import defs

    assert defs.resolve_job_def("annual_refresh").executor_def.name == "in_process"
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"


def test_publish_waits_for_every_staging_asset():
    """Each asset is upstream of warehouse_file, or downstream of it and so reads the published file.

    An asset beside warehouse_file could run after the publish, and what it
    wrote into the staging file would be dropped at run end.
    """
    import dagster as dg

    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    publish = dg.AssetSelection.assets("warehouse_file")
    ordered = publish.upstream().resolve(graph) | publish.downstream().resolve(graph)
    beside = {key.to_user_string() for key in graph.get_all_asset_keys() - ordered}
    assert beside == set()


def test_repeated_keys_named_in_problem(tmp_path):
    from evaluation.normalize import repeated_keys

    warehouse = Warehouse(tmp_path / "kpi.duckdb")
    warehouse.start_staging("run-keys")
    with warehouse.open_staging("run-keys") as connection:
        # kpi_value declares no primary key (sql/normalized/kpi_value.sql), so two rows of one KPI-year can be
        # written; 001-1 FY2019 comes from a.csv line 3 and b.csv line 7, 001-2 FY2019 only once
        columns = ("strategy_id, kpi_id, fiscal_year, value_status, value_text, source_file, source_line, "
                   "source_column")
        for kpi_id, source_file, line in (("001-1", "a.csv", 3), ("001-1", "b.csv", 7), ("001-2", "a.csv", 4)):
            connection.execute(f"insert into kpi_value ({columns}) values ('otaru-2015', ?, 2019, 'reported', "
                               "'5', ?, ?, 5)", [kpi_id, source_file, line])
        problems = repeated_keys(connection, "kpi_value")
        assert repeated_keys(connection, "submission_status") == []  # an empty table has no repeated key
        # two rows of one missing submission: neither has a source file, so the strategy is named
        for _ in range(2):
            connection.execute("insert into submission_status values "
                               "('otaru-2015', 2020, '建設部', '001-1', 'KPI 001-1', 'missing', null, null)")
        missing = repeated_keys(connection, "submission_status")
    warehouse.finish_run("run-keys")

    assert [(problem.source_file, problem.line, problem.value) for problem in missing] == [
        ("otaru-2015", None, "strategy_id=otaru-2015, fiscal_year=2020, kpi_id=001-1")]
    assert "submission_status" in str(InputRejected(missing))

    assert len(problems) == 1
    problem = problems[0]
    # the row with the larger line, b.csv line 7, is named; the value is the key written out
    assert (problem.source_file, problem.line) == ("b.csv", 7)
    assert problem.value == "strategy_id=otaru-2015, kpi_id=001-1, fiscal_year=2019"
    assert "表 kpi_value に同じキー(strategy_id, kpi_id, fiscal_year)の行が 2 行あります" in problem.rule_ja
    assert problem.rule_en.startswith("table kpi_value has 2 rows with the same key")
