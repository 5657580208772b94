"""The schedule of the annual refresh: by default 1 July, 06:00 Japan time.

Departments report the actual values of the fiscal year that closed on
31 March by the end of June, so the refresh runs once they are in. Set
KPI_REFRESH_CRON (a cron expression read as Asia/Tokyo time) to move it.
"""

from __future__ import annotations

import os

import dagster as dg

from evaluation.problems import SettingInvalid
from pipelines.jobs import annual_refresh
from pipelines.partitions import TIMEZONE, all_fiscal_years_tags

DEFAULT_REFRESH_CRON = "0 6 1 7 *"
REFRESH_CRON_VARIABLE = "KPI_REFRESH_CRON"


def refresh_cron() -> str:
    """Return the cron expression of the annual refresh, from KPI_REFRESH_CRON or the default."""
    return os.environ.get(REFRESH_CRON_VARIABLE, "").strip() or DEFAULT_REFRESH_CRON


def build_annual_refresh_schedule(cron: str) -> dg.ScheduleDefinition:
    """Build the schedule that runs annual_refresh over every fiscal year at ``cron`` (Tokyo)."""

    def annual_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        return dg.RunRequest(
            run_key=f"annual-refresh-{scheduled.isoformat()}",
            tags={**all_fiscal_years_tags(scheduled), "kpi/trigger": "schedule"},
        )

    try:
        return dg.schedule(
            job=annual_refresh,
            cron_schedule=cron,
            execution_timezone=TIMEZONE,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            name="annual_refresh_schedule",
            description=(
                "年次更新を毎年決まった日時"
                "(既定: 7月1日 6:00 日本時間、KPI_REFRESH_CRON で変更)に、"
                "すべての年度について1回の実行で行う。"
                " / Runs the annual refresh over every fiscal year,"
                " by default on 1 July at 06:00 Asia/Tokyo."
            ),
        )(annual_refresh_schedule)
    except dg.DagsterInvalidDefinitionError as error:
        raise SettingInvalid(
            f"{REFRESH_CRON_VARIABLE}「{cron}」は cron 式として正しくありません"
            "(例: 0 6 1 7 * = 7月1日 6:00) / "
            f"{REFRESH_CRON_VARIABLE} {cron!r} is not a valid cron expression (example: 0 6 1 7 *)"
        ) from error


annual_refresh_schedule = build_annual_refresh_schedule(refresh_cron())
