"""Per-project summaries for every fiscal year, on the computed and the published basis."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.warehouse import replace_fiscal_years
from pipelines.partitions import fiscal_year_partitions, run_fiscal_years
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="summaries",
    kinds={"duckdb", "sql"},
    deps=["kpi_score", "kpi", "published_kpi_score", "strategy", "kpi_outlook", "kpi_revision"],
    partitions_def=fiscal_year_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "プロジェクトごとの集計。1行が1プロジェクト・1年度・1基準"
        "(basis: computed=再計算, published=公表スコア)で、"
        "集計対象の事業数・KPI数、平均スコア、区分ごとの件数を持つ。"
        "sql/summaries/project_summary.sql で計算し、年度ごとに入れ替える。"
        " / One row per project, fiscal year and basis (computed or published),"
        " replaced one fiscal year at a time."
    ),
)
def project_summary(
    context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse
) -> dg.MaterializeResult:
    """Replace this run's fiscal years of project_summary with sql/summaries/project_summary.sql.

    NOTE: computed lines of strategy years after the last partition (years not
    yet closed, with no evaluated KPI) are not written until their partition exists.
    """
    first, last = run_fiscal_years(context)
    warehouse = kpi_warehouse.warehouse

    with warehouse.open_staging(staging_id(context.run)) as connection:
        count = replace_fiscal_years(
            connection, "project_summary", first, last, published=warehouse.path
        )
        metadata = table_metadata(
            connection,
            "project_summary",
            "strategy_id, project_no, fiscal_year, basis",
            (first, last),
        )
        latest = connection.execute(
            """
            select project_no, average_score
            from project_summary
            where basis = 'computed'
                and fiscal_year = (
                    select max(fiscal_year) from project_summary where fiscal_year between ? and ?
                )
            order by strategy_id, project_no
            """,
            [first, last],
        ).fetchall()

    # headline: the computed average score per project in the latest fiscal year of this run
    headline = ", ".join(f"({no}) {'—' if average is None else average}" for no, average in latest)
    context.log.info(
        f"wrote {count} rows to project_summary for fiscal years {first}-{last};"
        f" latest averages {headline}"
    )
    return dg.MaterializeResult(
        metadata={**metadata, "fiscal_years": f"{first}-{last}", "latest_average_scores": headline}
    )
