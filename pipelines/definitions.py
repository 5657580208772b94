"""The Dagster code location: assembles assets, checks, jobs and resources, and does nothing else.

Assets and asset checks are found by walking the ``assets`` package, so a new
stage adds a module there and needs no change here.
"""

import dagster as dg

import assets
from pipelines.jobs import annual_refresh
from pipelines.resources import KpiWarehouse

defs = dg.Definitions(
    assets=dg.load_assets_from_package_module(assets),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[annual_refresh],
    resources={"kpi_warehouse": KpiWarehouse()},
    executor=dg.in_process_executor,
)
