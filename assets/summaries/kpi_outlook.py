"""Early warning: each KPI's trend projected to the target year, against a straight path."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import replace_table_from_query
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="summaries",
    kinds={"duckdb", "sql"},
    deps=["kpi", "kpi_value", "kpi_revision", "kpi_expected_value", "strategy"],
    description=(
        "早期警戒。1行が1KPI・1時点(年度)で、基準値から目標値への直線上の期待値、実績の一次傾向から見た"
        "目標年度の見込み値、状態(順調・遅れ・達成困難・データ不足)を持つ。sql/summaries/kpi_outlook.sql で計算。"
        " / One row per KPI and as-of fiscal year: expected value on a straight path, projected target-year"
        " value from the linear trend, and a status."
    ),
)
def kpi_outlook(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild kpi_outlook from sql/summaries/kpi_outlook.sql."""
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        count = replace_table_from_query(connection, "kpi_outlook", "summaries/kpi_outlook.sql")
        metadata = table_metadata(connection, "kpi_outlook", "strategy_id, kpi_id, as_of_fiscal_year")
        latest = connection.execute(
            """
            select outlook_label_ja, count(*)
            from kpi_outlook
            where as_of_fiscal_year = (select max(as_of_fiscal_year) from kpi_outlook) and evaluated
            group by all
            order by all
            """
        ).fetchall()

    headline = ", ".join(f"{label} {n}" for label, n in latest)
    context.log.info(f"wrote {count} rows to kpi_outlook; latest year: {headline}")
    return dg.MaterializeResult(metadata={**metadata, "latest_outlook": headline})
