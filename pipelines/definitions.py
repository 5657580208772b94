"""The Dagster code location: assembles assets, jobs and resources, and does nothing else."""

from __future__ import annotations

import dagster as dg

from assets.normalized.published_tables import published_tables
from assets.normalized.strategy import strategy
from assets.publish.warehouse_file import warehouse_file
from assets.raw.source_file import source_file
from assets.scores.kpi_score import kpi_score
from assets.summaries.project_summary import project_summary
from pipelines.jobs import annual_refresh
from pipelines.resources import KpiWarehouse

defs = dg.Definitions(
    assets=[source_file, strategy, published_tables, kpi_score, project_summary, warehouse_file],
    jobs=[annual_refresh],
    resources={"kpi_warehouse": KpiWarehouse()},
    executor=dg.in_process_executor,
)
