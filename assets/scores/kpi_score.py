"""Scores of every KPI in every fiscal year with an actual value, computed in DuckDB SQL."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import replace_table_from_query
from pipelines.resources import KpiWarehouse


@dg.asset(
    group_name="scores",
    kinds={"duckdb", "sql"},
    deps=["kpi", "kpi_value", "kpi_revision", "kpi_expected_value", "published_kpi_score", "strategy"],
    description=(
        "KPIのスコア。1行が1KPI・実績のある1年度で、補正前スコア・スコア(評価方法の上下限に収めた値)・評価区分・目標達成、比べた値(目標値・期待値)、改定前の基準でのスコアと、"
        "公表されたスコアを並べて持つ。sql/scores/kpi_score.sql で計算。"
        " / One row per KPI and fiscal year with an actual: raw score, clamped score, band, target achieved,"
        " beside the published score."
    ),
)
def kpi_score(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild kpi_score from sql/scores/kpi_score.sql."""
    with kpi_warehouse.warehouse.open_staging(context.run.run_id) as connection:
        count = replace_table_from_query(connection, "kpi_score", "scores/kpi_score.sql")
        metadata = table_metadata(connection, "kpi_score", "strategy_id, kpi_id, fiscal_year")
        scored = connection.execute("select count(score) from kpi_score").fetchone()[0]

    context.log.info(f"wrote {count} rows to kpi_score ({scored} with a score)")
    return dg.MaterializeResult(metadata={**metadata, "scored_rows": scored})
