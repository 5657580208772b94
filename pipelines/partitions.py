"""Fiscal-year partitions: one partition per Japanese fiscal year (April to March, Asia/Tokyo).

The key is the year the fiscal year starts in, so partition "2019" is
2019-04-01 to 2020-03-31 (H31 / R1). The set is a fixed start and a moving end
that Dagster computes from the clock, so loading the code location reads no
file: it starts at FY2015, the first year of the regional revitalization
strategies (地方版総合戦略), and ends at the last fiscal year that has closed.
A fiscal year gets its partition on 1 April after it ends, when its actual
values can first be reported.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

TIMEZONE = "Asia/Tokyo"
FIRST_FISCAL_YEAR = 2015
# Dagster's run tags for a run over a range of partitions (a single-run backfill).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

fiscal_year_partitions = dg.TimeWindowPartitionsDefinition(
    # a fiscal year starts on 1 April at 00:00 Japan time
    cron_schedule="0 0 1 4 *",
    start=dt.datetime(FIRST_FISCAL_YEAR, 4, 1, tzinfo=ZoneInfo(TIMEZONE)),
    fmt="%Y",
    timezone=TIMEZONE,
)


def all_fiscal_years_tags(current_time: dt.datetime | None = None) -> dict[str, str]:
    """Return run tags that target every fiscal-year partition as of ``current_time`` in one run."""
    keys = fiscal_year_partitions.get_partition_keys(current_time=current_time)
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def partition_fiscal_years(current_time: dt.datetime | None = None) -> tuple[int, int]:
    """Return the first and last fiscal year that have a partition as of ``current_time``."""
    keys = fiscal_year_partitions.get_partition_keys(current_time=current_time)
    return int(keys[0]), int(keys[-1])


def run_fiscal_years(context: dg.AssetExecutionContext) -> tuple[int, int]:
    """Return the first and last fiscal year of the partitions this run materializes."""
    key_range = context.partition_key_range
    return int(key_range.start), int(key_range.end)
