"""The Dagster code location: assembles assets, checks, jobs, schedules and resources, and no more.

Assets and asset checks are found by walking the ``assets`` package, so a new
stage adds a module there and needs no change here. Loading this module reads
no file and imports no heavy library (Great Expectations, openpyxl,
matplotlib, playwright): assets import those inside their functions.
"""

import dagster as dg

import assets
from assets.metadata import with_column_schemas
from pipelines.jobs import annual_refresh
from pipelines.resources import KpiWarehouse
from pipelines.schedules import annual_refresh_schedule
from pipelines.sensors import input_folder_sensor

defs = dg.Definitions(
    assets=with_column_schemas(dg.load_assets_from_package_module(assets)),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[annual_refresh],
    schedules=[annual_refresh_schedule],
    sensors=[input_folder_sensor],
    resources={"kpi_warehouse": KpiWarehouse()},
    executor=dg.in_process_executor,
)
