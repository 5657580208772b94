"""Pairs of strategies and whether they use the same method, so that their figures can be set side by side."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import replace_table_from_query
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="summaries",
    kinds={"duckdb", "sql"},
    deps=["strategy"],
    description=(
        "戦略どうしの比較の可否。1行が2つの戦略の組で、計算式・比べる値・上下限・端数処理・評価区分が同じか"
        "(comparable)と、違うときはその理由を持つ。sql/summaries/strategy_comparison.sql で計算。"
        " / One row per pair of strategies: whether their methods agree, and if not, what differs."
    ),
)
def strategy_comparison(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild strategy_comparison from sql/summaries/strategy_comparison.sql."""
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        count = replace_table_from_query(connection, "strategy_comparison", "summaries/strategy_comparison.sql")
        metadata = table_metadata(connection, "strategy_comparison", "strategy_id, other_strategy_id")
        comparable = connection.execute("select count(*) from strategy_comparison where comparable").fetchone()[0]

    context.log.info(f"wrote {count} pairs to strategy_comparison ({comparable} comparable)")
    return dg.MaterializeResult(metadata={**metadata, "comparable_pairs": comparable})
