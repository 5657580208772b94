"""CSV exports of the summary and score tables: Japanese headers with BOM, and English for tools."""

import dagster as dg

from evaluation.reports.csv_export import export_tables
from evaluation.warehouse import connect
from pipelines.resources import KpiWarehouse


@dg.asset(
    group_name="reports",
    kinds={"csv"},
    deps=["warehouse_file", "project_summary", "kpi_score"],
    description=(
        "表の CSV 出力。<表名>.ja.csv は BOM 付き UTF-8・日本語の見出し(Excel 用)、"
        "<表名>.csv は UTF-8・英語の列名(ツール用)。"
        "数式として読まれうる文字で始まる名前には ' を付ける。"
        " / CSV exports of project_summary, published_summary, kpi_score, kpi (and score_discrepancy when present)."
    ),
)
def csv_exports(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Write <reports>/csv/<table>.ja.csv and <table>.csv for every exported table."""
    with connect(kpi_warehouse.warehouse.path, read_only=True) as connection:
        exports = export_tables(connection, kpi_warehouse.reports_path)

    for export in exports:
        context.log.info(f"exported {export.rows} rows of {export.table} to {export.japanese_path.parent}")
    return dg.MaterializeResult(
        metadata={
            "paths": dg.MetadataValue.json(
                [str(export.japanese_path) for export in exports] + [str(export.english_path) for export in exports]
            ),
            "rows": dg.MetadataValue.json({export.table: export.rows for export in exports}),
        }
    )
