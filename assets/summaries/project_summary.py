"""Per-project summaries for every fiscal year, on the computed and the published basis."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import replace_table_from_query
from pipelines.resources import KpiWarehouse


@dg.asset(
    group_name="summaries",
    kinds={"duckdb", "sql"},
    deps=["kpi_score", "kpi", "published_kpi_score", "strategy", "kpi_outlook", "kpi_revision"],
    description=(
        "プロジェクトごとの集計。1行が1プロジェクト・1年度・1基準(basis: computed=再計算, published=公表スコア)で、"
        "集計対象の事業数・KPI数、平均スコア、区分ごとの件数を持つ。sql/summaries/project_summary.sql で計算。"
        " / One row per project, fiscal year and basis (computed or published)."
    ),
)
def project_summary(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild project_summary from sql/summaries/project_summary.sql."""
    with kpi_warehouse.warehouse.open_staging(context.run.run_id) as connection:
        count = replace_table_from_query(connection, "project_summary", "summaries/project_summary.sql")
        metadata = table_metadata(connection, "project_summary", "strategy_id, project_no, fiscal_year, basis")
        latest = connection.execute(
            """
            select project_no, average_score
            from project_summary
            where basis = 'computed'
                and fiscal_year = (select max(fiscal_year) from project_summary)
            order by project_no
            """
        ).fetchall()

    headline = ", ".join(f"({no}) {avg}" for no, avg in latest)
    context.log.info(f"wrote {count} rows to project_summary; latest averages {headline}")
    return dg.MaterializeResult(metadata={**metadata, "latest_average_scores": headline})
