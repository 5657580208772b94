"""Published figures that the recomputed scores do not support, listed beside both values."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import read_sql
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="validated",
    kinds={"duckdb", "sql"},
    deps=["kpi_score", "project_summary", "published_kpi_score", "published_summary", "kpi", "strategy"],
    description=(
        "公表値と再計算値の照合。1行が、再計算で裏付けられない公表値1つ(補正前スコア・スコアの差が 0.005 超、"
        "評価記号の食い違い、公表されていないスコア、集計行の食い違い)で、両方の値・差・元の行を持つ。"
        "公表値は上書きしない。sql/validated/score_discrepancy.sql で作る。"
        " / One row per published figure the recomputation does not support, with both values,"
        " the difference and the source line."
    ),
)
def score_discrepancy(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild score_discrepancy from sql/validated/score_discrepancy.sql."""
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        connection.execute(
            f"create or replace table score_discrepancy as {read_sql('validated/score_discrepancy.sql')}"
        )
        metadata = table_metadata(connection, "score_discrepancy", "strategy_id, fiscal_year, kpi_id")
        by_kind = connection.execute(
            "select discrepancy, count(*) from score_discrepancy group by discrepancy order by discrepancy"
        ).fetchall()

    total = sum(count for _, count in by_kind)
    kinds = ", ".join(f"{kind} {count}" for kind, count in by_kind) or "none"
    context.log.info(f"found {total} published figures that differ from the recomputation ({kinds})")
    return dg.MaterializeResult(metadata={**metadata, "discrepancies": total, "by_kind": kinds})
