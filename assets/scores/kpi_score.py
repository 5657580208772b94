"""Scores of every KPI in every fiscal year with an actual value, computed in DuckDB SQL."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.problems import InputProblem, InputRejected
from evaluation.warehouse import replace_fiscal_years
from pipelines.partitions import fiscal_year_partitions, partition_fiscal_years, run_fiscal_years
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="scores",
    kinds={"duckdb", "sql"},
    deps=["kpi", "kpi_value", "kpi_revision", "kpi_expected_value", "published_kpi_score", "strategy"],
    partitions_def=fiscal_year_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "KPIのスコア。1行が1KPI・実績のある1年度で、補正前スコア・スコア(評価方法の上下限に収めた値)・"
        "評価区分・目標達成、比べた値(目標値・期待値)、改定前の基準でのスコアと、"
        "公表されたスコアを並べて持つ。sql/scores/kpi_score.sql で計算し、年度ごとに入れ替える。"
        " / One row per KPI and fiscal year with an actual: raw score, clamped score, band,"
        " target achieved, beside the published score. Replaced one fiscal year at a time."
    ),
)
def kpi_score(
    context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse
) -> dg.MaterializeResult:
    """Replace the kpi_score rows of this run's fiscal years with sql/scores/kpi_score.sql."""
    first, last = run_fiscal_years(context)
    warehouse = kpi_warehouse.warehouse

    with warehouse.open_staging(staging_id(context.run)) as connection:
        reject_years_outside_partitions(connection)
        count = replace_fiscal_years(connection, "kpi_score", first, last, published=warehouse.path)
        metadata = table_metadata(
            connection, "kpi_score", "strategy_id, kpi_id, fiscal_year", (first, last)
        )
        scored = connection.execute(
            "select count(score) from kpi_score where fiscal_year between ? and ?", [first, last]
        ).fetchone()[0]

    context.log.info(
        f"wrote {count} rows to kpi_score for fiscal years {first}-{last} ({scored} with a score)"
    )
    return dg.MaterializeResult(
        metadata={**metadata, "fiscal_years": f"{first}-{last}", "scored_rows": scored}
    )


def reject_years_outside_partitions(connection) -> None:
    """Raise naming each reported actual whose fiscal year has no partition, so no score is lost."""
    first, last = partition_fiscal_years()
    outside = connection.execute(
        """
        select source_file, source_line, source_column, value_text, kpi_id, fiscal_year
        from kpi_value
        where value_status = 'reported'
            and fiscal_year not between ? and ?
        order by source_file, source_line, source_column
        """,
        [first, last],
    ).fetchall()
    if outside:
        raise InputRejected(
            [
                InputProblem(
                    file,
                    line,
                    column,
                    text,
                    f"KPI {kpi_id} の {year}年度の実績値は、"
                    f"年度パーティション({first}〜{last}年度)の外なので扱えません",
                    f"KPI {kpi_id}: an actual for fiscal year {year} is outside "
                    "the fiscal-year partitions "
                    f"({first}-{last}); not supported",
                )
                for file, line, column, text, kpi_id, year in outside
            ]
        )
