"""The inventory of input files: what a refresh read, recognized by content."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.normalize import replace_rows, source_file_rows
from evaluation.sources import discover
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="raw",
    kinds={"duckdb", "python"},
    description=(
        "入力フォルダ(KPI_RAW_DIR)のファイル一覧。1行が1ファイルで、内容から判定した形式と SHA-256 を持つ。"
        " / One row per input file, with the format recognized from its content and its SHA-256."
    ),
)
def source_file(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """List the input files under KPI_RAW_DIR, one row each, and start this run's staging file."""
    raw_dir = kpi_warehouse.raw_path
    context.log.info(f"reading input folder {raw_dir}")
    strategies, files = discover(raw_dir)

    kpi_warehouse.warehouse.start_staging(staging_id(context.run))
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        count = replace_rows(connection, "source_file", [s.strategy_id for s in strategies],
                             source_file_rows(files))
        metadata = table_metadata(connection, "source_file", "strategy_id, source_file")

    context.log.info(f"found {len(strategies)} strategies and {count} data files")
    return dg.MaterializeResult(metadata={**metadata, "raw_dir": str(raw_dir)})
