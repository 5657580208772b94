"""KPI definitions, actual values and published figures, imported from published tables."""

import hashlib

import dagster as dg

from assets.metadata import table_metadata
from evaluation.normalize import published_table_rows, replace_rows
from evaluation.problems import InputProblem, InputRejected
from evaluation.published_table import parse_published_table
from evaluation.sources import PUBLISHED_TABLE, decode_text, discover
from pipelines.resources import KpiWarehouse

TABLE_SPECS = {
    "kpi": (
        "施策KPIの定義。1行が1KPIで、プロジェクト・事業・単位・方向・基準値・目標値・集計対象かどうかを持つ。"
        " / One row per KPI: project, business, unit, direction, baseline, target, evaluated or excluded.",
        "strategy_id, kpi_id",
    ),
    "kpi_value": (
        "実績値。1行が1KPI・1年度で、値・状態(報告済・欠測・未確定・後日報告)・元のファイルと行を持つ。"
        " / One row per KPI and fiscal year: the actual value, its status and the file and line it came from.",
        "strategy_id, kpi_id, fiscal_year",
    ),
    "published_kpi_score": (
        "公表された補正前スコア・スコア・評価記号。1行が1KPI・評価年度。公表値のまま保存し、上書きしない。"
        " / One row per KPI and evaluated year: the scores and marks as published, never overwritten.",
        "strategy_id, kpi_id, fiscal_year",
    ),
    "published_summary": (
        "公表されたプロジェクトの集計行(集計対象・平均スコア・区分ごとの件数)。1行が1プロジェクト・年度。"
        " / One row per project summary line as published.",
        "strategy_id, project_no, fiscal_year",
    ),
}


@dg.multi_asset(
    group_name="normalized",
    specs=[
        dg.AssetSpec(name, description=description, kinds={"duckdb", "python"}, deps=["source_file", "strategy"])
        for name, (description, _) in TABLE_SPECS.items()
    ],
)
def published_tables(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse):
    """Parse every published table of the inventory and write the four tables it feeds."""
    strategies, files = discover(kpi_warehouse.raw_path)
    by_id = {s.strategy_id: s for s in strategies}

    rows: dict[str, list[dict]] = {name: [] for name in TABLE_SPECS}
    problems: list[InputProblem] = []
    with kpi_warehouse.warehouse.open_staging(context.run.run_id) as connection:
        inventory = dict(connection.execute("select source_file, sha256 from source_file").fetchall())
    for file in files:
        if file.file_format != PUBLISHED_TABLE:
            continue
        data = file.path.read_bytes()
        if inventory.get(file.relative_path) != hashlib.sha256(data).hexdigest():
            problems.append(InputProblem(file.relative_path, None, None, "", "実行中にファイルが変更されました。もう一度実行してください",
                                         "the file changed during the run; run the refresh again"))
            continue
        context.log.info(f"reading published table {file.relative_path} ({file.size_bytes} bytes)")
        try:
            table = parse_published_table(decode_text(data)[0], file.relative_path)
        except InputRejected as rejected:
            problems.extend(rejected.problems)
            continue
        for name, table_rows in published_table_rows(table, by_id[file.strategy_id], file.relative_path).items():
            rows[name].extend(table_rows)
    if problems:
        raise InputRejected(problems)

    with kpi_warehouse.warehouse.open_staging(context.run.run_id) as connection:
        for name, (_, order_by) in TABLE_SPECS.items():
            count = replace_rows(connection, name, list(by_id), rows[name])
            context.log.info(f"wrote {count} rows to {name}")
            yield dg.MaterializeResult(asset_key=name, metadata=table_metadata(connection, name, order_by))
