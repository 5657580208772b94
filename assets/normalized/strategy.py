"""Each strategy and its evaluation method, from the strategy.toml files."""

import dagster as dg

from assets.metadata import table_metadata
from evaluation.normalize import recorded_source_files, replace_rows, strategy_rows
from evaluation.sources import discover
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="normalized",
    kinds={"duckdb", "python"},
    deps=["source_file"],
    description=(
        "総合戦略と評価方法。strategy は1行が1戦略、evaluation_method はその計算式・比べる値・丸め・上下限・集計方法、"
        "score_band は評価区分(小樽市は基準未満・0~50・50~100・100以上)の境界と名前。"
        " / One row per strategy, with its evaluation method and score bands from strategy.toml."
    ),
)
def strategy(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Rows of strategy, evaluation_method and score_band for every strategy.toml."""
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        # the files source_file recognized are not read again
        recorded = recorded_source_files(connection, kpi_warehouse.raw_path)
        strategies, _ = discover(kpi_warehouse.raw_path, recorded)

        ids = [s.strategy_id for s in strategies]
        tables: dict[str, list[dict]] = {"strategy": [], "evaluation_method": [], "score_band": []}
        for item in strategies:
            for table, rows in strategy_rows(item).items():
                tables[table].extend(rows)
        for table, rows in tables.items():
            replace_rows(connection, table, ids, rows)
        metadata = table_metadata(connection, "strategy", "strategy_id")

    context.log.info(f"wrote {len(ids)} strategies: {', '.join(ids)}")
    return dg.MaterializeResult(metadata={**metadata, "strategies": ", ".join(ids)})
