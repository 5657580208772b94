"""The evaluation workbook of each strategy's latest scored year, on each basis that year has."""

import dagster as dg

from evaluation.reports import queries
from evaluation.reports.files import workbook_path
from evaluation.reports.workbook import write_strategy_workbook
from evaluation.warehouse import connect
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
    reports_dir = kpi_warehouse.reports_path
    written = []
    with connect(kpi_warehouse.warehouse.path, read_only=True) as connection:
        for report in queries.strategy_reports(connection):
            strategy_id = report.strategy.strategy_id
            if report.fiscal_year is None:
                context.log.warning(f"{strategy_id} has no scored KPI; no workbook written")
                continue
            for basis in report.bases:
                path = workbook_path(reports_dir, strategy_id, report.fiscal_year, basis)
                written.append(write_strategy_workbook(report, basis, path))

    for result in written:
        context.log.info(
            f"wrote {result.path}: {result.project_sheets} project sheets, {result.kpi_rows} KPI rows, "
            f"{result.discrepancy_rows} discrepancies from {result.discrepancy_source}"
        )
    return dg.MaterializeResult(
        metadata={
            "paths": dg.MetadataValue.json([str(result.path) for result in written]),
            "kpi_rows": sum(result.kpi_rows for result in written),
            "discrepancy_rows": sum(result.discrepancy_rows for result in written),
        }
    )
