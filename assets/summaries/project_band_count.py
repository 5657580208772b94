"""Per-project counts of every band of the strategy's own method, beside project_summary."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import replace_table_from_query
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="summaries",
    kinds={"duckdb", "sql"},
    deps=["project_summary", "kpi_score", "kpi", "published_kpi_score", "strategy", "kpi_revision"],
    description=(
        "評価区分ごとの件数。1行が1プロジェクト・1年度・1基準・評価方法の区分1つ(A・B+・B・C、順調・おおむね順調など)。"
        "sql/summaries/project_band_count.sql で計算。"
        " / One row per project, fiscal year, basis and band of the strategy's method, with its KPI count."
    ),
)
def project_band_count(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild project_band_count from sql/summaries/project_band_count.sql."""
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        count = replace_table_from_query(connection, "project_band_count", "summaries/project_band_count.sql")
        metadata = table_metadata(connection, "project_band_count", "strategy_id, project_no, fiscal_year, basis")

    context.log.info(f"wrote {count} rows to project_band_count")
    return dg.MaterializeResult(metadata=metadata)
