"""The single-file HTML report of each strategy, with its charts embedded."""

from functools import partial

import dagster as dg

from assets.metadata import log_some, more_files, more_strategies
from evaluation.reports.per_strategy import html_report_batch, write_per_strategy
from evaluation.warehouse import connect
from pipelines.resources import KpiWarehouse

# About 12 charts per strategy at about 0.06 s of CPU each (the Otaru report, docs/performance.md):
# 50 strategies add under a minute, 1,741 would add about twenty minutes.
CHARTED_STRATEGIES_MAX = 50


@dg.asset(
    group_name="reports",
    kinds={"html"},
    deps=["warehouse_file", "project_summary", "kpi_score"],
    description=(
        "評価レポート(HTML 1ファイル、グラフ埋め込み、ネットワーク不要)。プロジェクトごとに年度別の平均スコア、"
        "評価区分の内訳、最新年度の施策KPIごとのスコア、目標未達成の施策KPIの表。"
        " / Single-file HTML report with embedded charts, per project."
    ),
)
def html_report(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Write <reports>/<strategy>/report.html from the published DuckDB file."""
    with connect(kpi_warehouse.warehouse.path, read_only=True) as connection:
        strategy_count = connection.execute("select count(*) from strategy").fetchone()[0]
    draw_charts = strategy_count <= CHARTED_STRATEGIES_MAX
    if not draw_charts:
        context.log.warning(f"{strategy_count} strategies: HTML reports are written without charts "
                            f"(charts are drawn for at most {CHARTED_STRATEGIES_MAX} strategies per run)")
    written = []
    unscored = []
    write_batch = partial(html_report_batch, kpi_warehouse.reports_path, draw_charts)
    for batch in write_per_strategy(kpi_warehouse.warehouse.path, write_batch):
        written.extend(batch.written)
        unscored.extend(batch.unscored)

    log_some(context.log.warning,
             [f"{strategy_id} has no scored KPI; no HTML report written" for strategy_id in unscored], more_strategies)
    log_some(context.log.info, [
        f"wrote {result.path}: FY{result.fiscal_year}, {result.charts} charts, "
        f"{result.below_target_rows} KPIs below target"
        for result in written
    ], more_files)
    context.log.info(f"wrote {len(written)} HTML reports with {sum(result.charts for result in written)} charts")
    return dg.MaterializeResult(
        metadata={
            "paths": dg.MetadataValue.json([str(result.path) for result in written]),
            "charts": sum(result.charts for result in written),
            "below_target_rows": sum(result.below_target_rows for result in written),
        }
    )
