"""The published DuckDB file, replaced atomically once every table of the run is built and checked."""

import dagster as dg

from evaluation.warehouse import PublishRejected
from pipelines.resources import KpiWarehouse, staging_id


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    deps=[
        "project_summary",
        "project_band_count",
        "strategy_comparison",
        "kpi_outlook",
        "published_summary",
        "source_file",
        "score_discrepancy",
        "kpi_unit",
        "kpi_value_history",
        "submission_status",
    ],
    description=(
        "公開される DuckDB ファイル(KPI_WAREHOUSE)。すべての表ができ、ブロッキングチェックがすべて通ってから、"
        "実行ごとの作業用ファイルと一度に入れ替える。"
        " / The published DuckDB file, swapped in atomically from this run's staging file"
        " once every table is built and every blocking check has passed."
    ),
)
def warehouse_file(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse) -> dg.MaterializeResult:
    """Publish this run's staging file as KPI_WAREHOUSE unless a step or a blocking check failed."""
    failures = failures_in_run(context.instance, context.run.run_id)
    if failures:
        raise PublishRejected(
            "この実行で失敗したステップまたはブロッキングチェックがあるため、公開しません"
            f"(公開済みのファイルは変更していません): {', '.join(failures)}"
            f" / Not published, because this run has failed steps or blocking checks"
            " (the published file is unchanged)."
        )

    path = kpi_warehouse.warehouse.publish(staging_id(context.run))

    size = path.stat().st_size
    context.log.info(f"published {path} ({size} bytes)")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "size_bytes": size})


def failures_in_run(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Failed steps and failed blocking checks recorded so far in the run, e.g. "check kpi_value:unit".

    Dagster skips the assets downstream of a failed blocking check, but runs an
    asset whose ancestors all succeeded even when an unrelated step of the run
    failed. Reading the run's events makes publishing wait for the whole run.
    """
    records = instance.get_records_for_run(
        run_id,
        of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION},
    ).records
    failures: list[str] = []
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.is_step_failure:
            failures.append(f"step {event.step_key}")
            continue
        evaluation = event.asset_check_evaluation_data
        if not evaluation.passed and evaluation.blocking and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            key = evaluation.asset_check_key
            failures.append(f"check {key.asset_key.to_user_string()}:{key.name}")
    return failures
