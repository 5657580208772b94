"""Operations in Dagster: fiscal-year partitions, schedule, sensor, run queue and lineage."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from conftest import OTARU_TABLE, PROJECT_ROOT, refresh

from assets.scores.kpi_score import reject_years_outside_partitions
from evaluation.columns import TABLE_COLUMNS
from evaluation.data_model_doc import columns_module_source
from evaluation.normalize import replace_rows
from evaluation.problems import InputRejected
from evaluation.warehouse import ensure_normalized_tables
from pipelines.asset_graph import describe_asset_graph
from pipelines.definitions import defs
from pipelines.partitions import RANGE_END_TAG, RANGE_START_TAG, fiscal_year_partitions
from pipelines.resources import KpiWarehouse
from pipelines.schedules import build_annual_refresh_schedule
from pipelines.sensors import input_folder_sensor

TOKYO = ZoneInfo("Asia/Tokyo")
EXPECTED_GRAPH = PROJECT_ROOT / "tests" / "expected_asset_graph.json"
TABLE_NAME = OTARU_TABLE.name


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, params).fetchall()


def edit_otaru_table(raw_dir: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` with ``new`` on one line of the copied Otaru table."""
    path = raw_dir / "otaru" / TABLE_NAME
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("\n".join(lines), encoding="utf-8")


# --- partitions -----------------------------------------------------------------------------


def test_partition_key_is_start_year():
    # FY2019 (H31 / R1) runs from 1 April 2019 to 31 March 2020, Japan time
    window = fiscal_year_partitions.time_window_for_partition_key("2019")
    assert window.start == dt.datetime(2019, 4, 1, tzinfo=TOKYO)
    assert window.end == dt.datetime(2020, 4, 1, tzinfo=TOKYO)


def test_partitions_end_at_last_closed_year():
    # on 31 March 2027 FY2026 is still open; it gets its partition on 1 April 2027
    before = fiscal_year_partitions.get_partition_keys(
        current_time=dt.datetime(2027, 3, 31, 23, tzinfo=TOKYO)
    )
    after = fiscal_year_partitions.get_partition_keys(
        current_time=dt.datetime(2027, 4, 1, 0, 1, tzinfo=TOKYO)
    )
    assert before[0] == "2015"
    assert before[-1] == "2025"
    assert after[-1] == "2026"


@pytest.fixture(scope="module")
def full_refresh(tmp_path_factory):
    """A refresh over every fiscal year, with its result and its DuckDB file."""
    raw = tmp_path_factory.mktemp("full-raw")
    shutil.copytree(OTARU_TABLE.parent, raw / "otaru")
    warehouse = tmp_path_factory.mktemp("full") / "kpi.duckdb"
    result = refresh(raw, warehouse)
    return result, warehouse


def score_table_rows(warehouse: Path, table: str) -> list[tuple]:
    return query(warehouse, f"select * from {table} order by all")


def rerun_scores(raw_dir: Path, warehouse: Path, partition_key: str) -> None:
    """Materialize only the scores, the summaries and the published file for one fiscal year.

    Without source_file in the run, the staging file starts as a copy of the
    published file, so the year's rows are there before the delete.
    """
    result = dg.materialize(
        list(defs.assets),
        selection=["kpi_score", "project_summary", "warehouse_file"],
        partition_key=partition_key,
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "kpi_warehouse": KpiWarehouse(raw_dir=str(raw_dir), warehouse_path=str(warehouse))
        },
    )
    assert result.success


def test_rerun_of_one_year_never_doubles_rows(full_refresh, otaru_raw_dir, tmp_path):
    _, full = full_refresh
    warehouse = tmp_path / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)

    refresh(otaru_raw_dir, warehouse, partition_key="2019")
    refresh(otaru_raw_dir, warehouse, partition_key="2019")
    rerun_scores(otaru_raw_dir, warehouse, "2019")
    rerun_scores(otaru_raw_dir, warehouse, "2019")

    # Otaru 2019: 67 KPIs with a reported actual; 4 projects x (computed + published) lines
    assert query(warehouse, "select count(*) from kpi_score where fiscal_year = 2019") == [(67,)]
    assert query(warehouse, "select count(*) from project_summary where fiscal_year = 2019") == [
        (8,)
    ]
    assert score_table_rows(warehouse, "kpi_score") == score_table_rows(full, "kpi_score")
    assert score_table_rows(warehouse, "project_summary") == score_table_rows(
        full, "project_summary"
    )


def test_backfill_year_by_year_equals_full_refresh(full_refresh, otaru_raw_dir, tmp_path):
    _, full = full_refresh
    warehouse = tmp_path / "kpi.duckdb"
    first, *others = fiscal_year_partitions.get_partition_keys()

    # as a backfill from the lineage page: the inputs once, then one fiscal year per run
    assert refresh(otaru_raw_dir, warehouse, partition_key=first).success
    for key in others:
        rerun_scores(otaru_raw_dir, warehouse, key)

    assert score_table_rows(warehouse, "kpi_score") == score_table_rows(full, "kpi_score")
    assert score_table_rows(warehouse, "project_summary") == score_table_rows(full, "project_summary")


def test_late_figure_replaces_only_its_year(otaru_raw_dir, tmp_path):
    warehouse = tmp_path / "kpi.duckdb"
    refresh(otaru_raw_dir, warehouse)
    # the late FY2019 figure of 048-1 arrives (line 82): 332,000人, exactly its target;
    # FY2018 of 001-1 (line 7) is corrected from 34棟 to 40棟 in the same file
    edit_otaru_table(otaru_raw_dir, 82, "(後日報告)人", "332,000人")
    edit_otaru_table(otaru_raw_dir, 7, "34棟", "40棟")

    refresh(otaru_raw_dir, warehouse, partition_key="2019")

    # (332000 - 141441) / (332000 - 141441) x 100 = 100
    assert query(
        warehouse,
        "select score, target_achieved from kpi_score where kpi_id = '048-1' "
        "and fiscal_year = 2019",
    ) == [(Decimal("100.00"), True)]
    # project (3) 2019 computed: 20 scores summing 844.89, plus 100
    # -> 944.89 / 21 = 44.994… -> 44.99
    assert query(
        warehouse,
        "select businesses_evaluated, kpis_evaluated, average_score from project_summary "
        "where project_no = 3 and fiscal_year = 2019 and basis = 'computed'",
    ) == [(18, 21, Decimal("44.99"))]
    # FY2018 was not rerun: 001-1 keeps (34 - 18) / (48 - 18) x 100 = 53.33 from the published file
    assert query(
        warehouse, "select score from kpi_score where kpi_id = '001-1' and fiscal_year = 2018"
    ) == [(Decimal("53.33"),)]

    refresh(otaru_raw_dir, warehouse, partition_key="2018")

    # now FY2018 reads the corrected 40棟: (40 - 18) / 30 x 100 = 73.33
    assert query(
        warehouse, "select score from kpi_score where kpi_id = '001-1' and fiscal_year = 2018"
    ) == [(Decimal("73.33"),)]


def test_actual_outside_partitions_rejected():
    connection = duckdb.connect()
    ensure_normalized_tables(connection)
    replace_rows(
        connection,
        "kpi_value",
        ["test"],
        [
            {
                "strategy_id": "test",
                "kpi_id": "001-1",
                "fiscal_year": 2013,
                "value": "5",
                "unit": "件",
                "value_status": "reported",
                "value_text": "5件",
                "source_file": "test/t.txt",
                "source_line": 9,
                "source_column": 6,
                "note": None,
            }
        ],
    )

    with pytest.raises(InputRejected) as raised:
        reject_years_outside_partitions(connection)

    [problem] = raised.value.problems
    assert (problem.source_file, problem.line, problem.column, problem.value) == (
        "test/t.txt",
        9,
        6,
        "5件",
    )
    assert "2013年度" in problem.rule_ja


# --- materialization metadata -------------------------------------------------------------------


def materialization_metadata(result, asset: str) -> dict:
    events = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return events[-1].materialization.metadata


def test_summary_metadata_has_count_preview_headline(full_refresh):
    result, _ = full_refresh
    metadata = materialization_metadata(result, "project_summary")

    # 4 projects x 5 computed years (2015-2019) + 4 published lines of 2019
    assert metadata["dagster/row_count"].value == 24
    assert metadata["preview"].value.startswith("| strategy_id")
    # the computed FY2019 averages (61.48 and -19.49 differ from the published 63.08, -20.39)
    assert metadata["latest_average_scores"].value == "(1) 61.48, (2) 28.60, (3) 42.24, (4) -19.49"


def test_every_table_materialization_has_metadata(full_refresh):
    result, _ = full_refresh
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        name = event.asset_key.to_user_string()
        if name not in TABLE_COLUMNS:
            continue
        assert "dagster/row_count" in metadata, name
        assert "preview" in metadata, name
        assert len(metadata) >= 3, f"{name} has no headline figure"


# --- schedule and sensor --------------------------------------------------------------------


def test_schedule_default_is_first_of_july():
    schedule = defs.resolve_schedule_def("annual_refresh_schedule")
    assert schedule.cron_schedule == "0 6 1 7 *"
    assert schedule.execution_timezone == "Asia/Tokyo"
    assert schedule.job_name == "annual_refresh"


def test_schedule_requests_every_closed_year():
    schedule = defs.resolve_schedule_def("annual_refresh_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2027, 7, 1, 6, tzinfo=TOKYO)
    )

    [request] = schedule.evaluate_tick(context).run_requests

    # FY2015 is the first partition; FY2026 closed on 31 March 2027
    assert request.tags[RANGE_START_TAG] == "2015"
    assert request.tags[RANGE_END_TAG] == "2026"
    assert request.tags["kpi/trigger"] == "schedule"


def test_schedule_cron_from_environment(monkeypatch):
    monkeypatch.setenv("KPI_REFRESH_CRON", "30 7 15 6 *")
    from pipelines.schedules import refresh_cron

    assert build_annual_refresh_schedule(refresh_cron()).cron_schedule == "30 7 15 6 *"


def test_schedule_invalid_cron_rejected():
    with pytest.raises(ValueError, match="KPI_REFRESH_CRON"):
        build_annual_refresh_schedule("every July")


def test_cli_rejects_invalid_cron_without_traceback(tmp_path):
    # the CLI loads the definitions, and with them the schedule, in a fresh process
    environment = {**os.environ, "KPI_REFRESH_CRON": "never", "KPI_WAREHOUSE": str(tmp_path / "kpi.duckdb")}
    completed = subprocess.run([sys.executable, "-m", "pipelines.cli", "run"], cwd=PROJECT_ROOT, env=environment,
                               capture_output=True, text=True)

    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "KPI_REFRESH_CRON「never」は cron 式として正しくありません" in completed.stdout + completed.stderr
    assert not (tmp_path / "kpi.duckdb").exists()


def evaluate_sensor(raw_dir: Path, cursor: str | None):
    resources = {"kpi_warehouse": KpiWarehouse(raw_dir=str(raw_dir))}
    # a context manager, because the resource tears down after each run
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        return input_folder_sensor.evaluate_tick(context)


def test_sensor_first_tick_only_records(otaru_raw_dir):
    first = evaluate_sensor(otaru_raw_dir, None)

    assert first.run_requests == []
    # strategy.toml and the Otaru table
    assert sorted(json.loads(first.cursor)) == [
        "otaru/000_5dbc621b8e05bc0a.txt",
        "otaru/strategy.toml",
    ]


def test_sensor_nothing_when_unchanged(otaru_raw_dir):
    cursor = evaluate_sensor(otaru_raw_dir, None).cursor

    unchanged = evaluate_sensor(otaru_raw_dir, cursor)

    assert unchanged.run_requests == []
    assert unchanged.skip_message.startswith("入力フォルダに変更はありません")


@pytest.mark.parametrize("change", ["edit", "add", "remove"])
def test_sensor_requests_refresh_on_change(otaru_raw_dir, change):
    cursor = evaluate_sensor(otaru_raw_dir, None).cursor
    folder = otaru_raw_dir / "otaru"
    if change == "edit":
        edit_otaru_table(otaru_raw_dir, 82, "(後日報告)人", "332,000人")
    elif change == "add":
        shutil.copy(folder / TABLE_NAME, folder / "copy.txt")
    else:
        (folder / TABLE_NAME).unlink()

    result = evaluate_sensor(otaru_raw_dir, cursor)

    [request] = result.run_requests
    first, last = (
        fiscal_year_partitions.get_first_partition_key(),
        fiscal_year_partitions.get_last_partition_key(),
    )
    assert request.tags[RANGE_START_TAG] == first
    assert request.tags[RANGE_END_TAG] == last
    assert request.tags["kpi/changed_files"] == "1"
    assert result.cursor != cursor
    # the new cursor is the new state, so the next tick finds no change
    assert evaluate_sensor(otaru_raw_dir, result.cursor).run_requests == []


def test_sensor_ignores_office_lock_files(otaru_raw_dir):
    cursor = evaluate_sensor(otaru_raw_dir, None).cursor
    (otaru_raw_dir / "otaru" / "~$submission.xlsx").write_bytes(b"lock")

    assert evaluate_sensor(otaru_raw_dir, cursor).run_requests == []


# --- run queue, job selection, lineage --------------------------------------------------------


def test_run_queue_allows_one_run(tmp_path):
    shutil.copy(PROJECT_ROOT / "pipelines" / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()


def test_job_selects_every_blocking_check():
    graph = defs.resolve_asset_graph()
    blocking = {key for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    job = defs.resolve_job_def("annual_refresh")

    assert blocking <= set(job.asset_layer.asset_graph.asset_check_keys)


def test_asset_graph_matches_expected():
    # regenerate: .venv/bin/python -m pipelines.cli asset-graph > tests/expected_asset_graph.json
    expected = json.loads(EXPECTED_GRAPH.read_text(encoding="utf-8"))
    assert describe_asset_graph(defs) == expected


def test_every_asset_described_in_japanese():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        description = graph.get(key).description or ""
        assert any(
            "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in description
        ), key
        assert graph.get(key).kinds, key


def test_columns_module_matches_data_model_doc():
    # regenerate: .venv/bin/python -m pipelines.cli column-docs > evaluation/columns.py
    generated = columns_module_source()
    assert (PROJECT_ROOT / "evaluation" / "columns.py").read_text(encoding="utf-8") == generated


def test_table_assets_carry_column_schema():
    graph = defs.resolve_asset_graph()
    asset_names = {key.to_user_string() for key in graph.get_all_asset_keys()}
    table_assets = sorted(asset_names & set(TABLE_COLUMNS))
    # the tables the assets of raw, normalized, scores and summaries are named after
    assert {"source_file", "strategy", "kpi", "kpi_score", "project_summary"} <= set(table_assets)
    for table in table_assets:
        schema = graph.get(dg.AssetKey(table)).metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == [c.name for c in TABLE_COLUMNS[table]], table
        assert all(c.description for c in schema.columns), table


# --- fast start-up ----------------------------------------------------------------------------

LOAD_PROBE = """
import json, sys
from pathlib import Path
root = Path(sys.argv[1]).resolve()
data_dirs = [root / "data", root / "sql"]
opened = []
def record(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, Path)):
        path = Path(str(args[0]) if not isinstance(args[0], bytes) else args[0].decode())
        if any(path.resolve().is_relative_to(d) for d in data_dirs):
            opened.append(str(path))
sys.addaudithook(record)
import pipelines.definitions
heavy = ["great_expectations", "openpyxl", "matplotlib", "playwright"]
print(json.dumps({"heavy": [m for m in heavy if m in sys.modules], "opened": opened}))
"""


def test_loading_definitions_stays_light():
    environment = {**os.environ, "KPI_RAW_DIR": str(PROJECT_ROOT / "data" / "raw")}
    completed = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, str(PROJECT_ROOT)],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(completed.stdout.strip().splitlines()[-1])

    assert report["heavy"] == []
    assert report["opened"] == []


# --- command line -----------------------------------------------------------------------------


def test_cli_reruns_one_fiscal_year(otaru_raw_dir, tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    warehouse = tmp_path / "kpi.duckdb"
    monkeypatch.setenv("KPI_RAW_DIR", str(otaru_raw_dir))
    monkeypatch.setenv("KPI_WAREHOUSE", str(warehouse))
    assert main(["run"]) == 0
    edit_otaru_table(otaru_raw_dir, 7, "34棟", "40棟")

    assert main(["run", "--fiscal-year", "2019"]) == 0

    # FY2018 was not rerun: 001-1 keeps (34 - 18) / (48 - 18) x 100 = 53.33
    assert query(
        warehouse, "select score from kpi_score where kpi_id = '001-1' and fiscal_year = 2018"
    ) == [(Decimal("53.33"),)]
    # the summary printed after the run: project (1) computed FY2019 average
    assert "平均スコア 61.48" in capsys.readouterr().out


def test_cli_rejects_year_without_partition(capsys):
    from pipelines.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["run", "--fiscal-year", "2014"])

    assert exited.value.code == 2
    assert "年度 2014 はパーティションにありません" in capsys.readouterr().err
