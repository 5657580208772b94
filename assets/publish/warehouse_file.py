"""The published DuckDB file, replaced atomically once every table of the run is built."""

import dagster as dg

from pipelines.resources import KpiWarehouse


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    deps=["project_summary", "kpi_outlook", "published_summary", "source_file", "score_discrepancy", "kpi_unit"],
    description=(
        "公開される DuckDB ファイル(KPI_WAREHOUSE)。すべての表ができてから、実行ごとの作業用ファイルと一度に入れ替える。"
        " / The published DuckDB file, swapped in atomically from this run's staging file."
    ),
)
def warehouse_file(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Publish this run's staging file as KPI_WAREHOUSE."""
    path = kpi_warehouse.warehouse.publish(context.run.run_id)

    size = path.stat().st_size
    context.log.info(f"published {path} ({size} bytes)")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "size_bytes": size})
