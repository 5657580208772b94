"""Each KPI's unit normalized to its base unit, with the scale factor kept (万円 -> 円 x 10000)."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.validation.kpi_units import write_kpi_units
from evaluation.warehouse import read_sql
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="validated",
    kinds={"duckdb", "sql"},
    deps=["kpi"],
    description=(
        "KPIの単位の正規化。1行が1KPIで、表に書かれた単位・基本単位・倍率(万円→円×10000、千t→t×1000)・種類を持つ。"
        " / One row per KPI: the unit as written, its base unit, the factor and the kind of unit."
    ),
)
def kpi_unit(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rebuild kpi_unit from the units of the kpi table."""
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        connection.execute(read_sql("validated/kpi_unit.sql"))
        written = write_kpi_units(connection)
        metadata = table_metadata(connection, "kpi_unit", "strategy_id, kpi_id")
        scaled = connection.execute("select count(*) from kpi_unit where unit_factor <> 1").fetchone()[0]

    context.log.info(f"wrote {written} rows to kpi_unit ({scaled} in scaled units)")
    return dg.MaterializeResult(metadata={**metadata, "scaled_units": scaled})
