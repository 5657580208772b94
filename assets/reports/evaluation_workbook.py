"""The evaluation workbook of each strategy's latest scored year, on each basis that year has."""

from functools import partial

import dagster as dg

from assets.metadata import log_some, more_files, more_strategies
from evaluation.reports.per_strategy import workbook_batch, write_per_strategy
from pipelines.resources import KpiWarehouse


@dg.asset(
    group_name="reports",
    kinds={"excel"},
    deps=["warehouse_file", "project_summary", "kpi_score"],
    description=(
        "評価表の Excel ブック。公表された評価表と同じ列で1プロジェクト1シート、下に集計行、公表値との差異のシート。"
        "最新年度について、再計算したスコア(computed)と、あれば公表スコア(published)の2冊。"
        " / The evaluation workbook in the published layout, one per basis, for the latest scored year."
    ),
)
def evaluation_workbook(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Write <reports>/<strategy>/evaluation_FY<year>_<basis>.xlsx from the published DuckDB file."""
    written = []
    unscored = []
    write_batch = partial(workbook_batch, kpi_warehouse.reports_path)
    for batch in write_per_strategy(kpi_warehouse.warehouse.path, write_batch):
        written.extend(batch.written)
        unscored.extend(batch.unscored)

    log_some(context.log.warning, [f"{strategy_id} has no scored KPI; no workbook written" for strategy_id in unscored],
             more_strategies)
    log_some(context.log.info, [
        f"wrote {result.path}: {result.project_sheets} project sheets, {result.kpi_rows} KPI rows, "
        f"{result.discrepancy_rows} discrepancies from {result.discrepancy_source}"
        for result in written
    ], more_files)
    kpi_rows = sum(result.kpi_rows for result in written)
    context.log.info(f"wrote {len(written)} workbooks with {kpi_rows} KPI rows")
    return dg.MaterializeResult(
        metadata={
            "paths": dg.MetadataValue.json([str(result.path) for result in written]),
            "kpi_rows": kpi_rows,
            "discrepancy_rows": sum(result.discrepancy_rows for result in written),
        }
    )
