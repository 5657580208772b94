"""The files of each strategy: its evaluation workbooks and its single-file HTML report.

Both are written in one step, batch by batch, because both show the same
report data: each batch of strategies is read from the published file once
for its workbooks and its HTML reports. In the UI they stay two assets, and
materializing one of them writes only its files.
"""

from functools import partial

import dagster as dg

from assets.metadata import log_some, more_files, more_strategies
from evaluation.reports.per_strategy import reports_batch, write_per_strategy
from evaluation.warehouse import connect
from pipelines.resources import KpiWarehouse

# About 12 charts per strategy at about 0.06 s of CPU each (the Otaru report, docs/performance.md):
# 50 strategies add under a minute, 1,741 would add about twenty minutes.
CHARTED_STRATEGIES_MAX = 50
REPORT_DEPS = ["warehouse_file", "project_summary", "kpi_score"]
WORKBOOK = dg.AssetKey("evaluation_workbook")
HTML_REPORT = dg.AssetKey("html_report")


@dg.multi_asset(
    name="strategy_reports",
    group_name="reports",
    can_subset=True,
    specs=[
        dg.AssetSpec(
            WORKBOOK,
            kinds={"excel"},
            deps=REPORT_DEPS,
            description=(
                "評価表の Excel ブック。公表された評価表と同じ列で1プロジェクト1シート、下に集計行、"
                "公表値との差異のシート。"
                "最新年度について、再計算したスコア(computed)と、あれば公表スコア(published)の2冊。"
                " / The evaluation workbook in the published layout, one per basis, for the latest scored year."
            ),
        ),
        dg.AssetSpec(
            HTML_REPORT,
            kinds={"html"},
            deps=REPORT_DEPS,
            description=(
                "評価レポート(HTML 1ファイル、グラフ埋め込み、ネットワーク不要)。プロジェクトごとに年度別の平均スコア、"
                "評価区分の内訳、最新年度の施策KPIごとのスコア、目標未達成の施策KPIの表。"
                " / Single-file HTML report with embedded charts, per project."
            ),
        ),
    ],
)
def strategy_reports(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse):
    """Write <reports>/<strategy>/evaluation_FY<year>_<basis>.xlsx and report.html from the published DuckDB file."""
    selected = context.selected_asset_keys
    workbooks, html_reports = WORKBOOK in selected, HTML_REPORT in selected
    draw_charts = False
    if html_reports:
        with connect(kpi_warehouse.warehouse.path, read_only=True) as connection:
            strategy_count = connection.execute("select count(*) from strategy").fetchone()[0]
        draw_charts = strategy_count <= CHARTED_STRATEGIES_MAX
        if not draw_charts:
            context.log.warning(f"{strategy_count} strategies: HTML reports are written without charts "
                                f"(charts are drawn for at most {CHARTED_STRATEGIES_MAX} strategies per run)")

    written_workbooks, written_reports, unscored = [], [], []
    write_batch = partial(reports_batch, kpi_warehouse.reports_path, workbooks, html_reports, draw_charts)
    for batch in write_per_strategy(kpi_warehouse.warehouse.path, write_batch):
        written_workbooks.extend(batch.workbooks)
        written_reports.extend(batch.html_reports)
        unscored.extend(batch.unscored)
    log_some(context.log.warning,
             [f"{strategy_id} has no scored KPI; no workbook or HTML report written" for strategy_id in unscored],
             more_strategies)

    if workbooks:
        kpi_rows = sum(result.kpi_rows for result in written_workbooks)
        yield _materialized(context, WORKBOOK, written_workbooks, [
            f"wrote {result.path}: {result.project_sheets} project sheets, {result.kpi_rows} KPI rows, "
            f"{result.discrepancy_rows} discrepancies from {result.discrepancy_source}"
            for result in written_workbooks
        ], f"wrote {len(written_workbooks)} workbooks with {kpi_rows} KPI rows", {
            "kpi_rows": kpi_rows,
            "discrepancy_rows": sum(result.discrepancy_rows for result in written_workbooks),
        })
    if html_reports:
        charts = sum(result.charts for result in written_reports)
        yield _materialized(context, HTML_REPORT, written_reports, [
            f"wrote {result.path}: FY{result.fiscal_year}, {result.charts} charts, "
            f"{result.below_target_rows} KPIs below target"
            for result in written_reports
        ], f"wrote {len(written_reports)} HTML reports with {charts} charts", {
            "charts": charts,
            "below_target_rows": sum(result.below_target_rows for result in written_reports),
        })


def _materialized(
    context: dg.AssetExecutionContext, key: dg.AssetKey, written: list, file_lines: list[str], total: str,
    metadata: dict,
) -> dg.MaterializeResult:
    """Log one line per written file (at most 200) and the total; return the asset's result with the paths."""
    log_some(context.log.info, file_lines, more_files)
    context.log.info(total)
    paths = dg.MetadataValue.json([str(result.path) for result in written])
    return dg.MaterializeResult(asset_key=key, metadata={"paths": paths, **metadata})
