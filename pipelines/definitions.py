"""The Dagster code location: assembles assets, checks, jobs, schedules and resources, and no more.

Assets and asset checks are found by walking the ``assets`` package, so a new
stage adds a module there and needs no change here. Loading this module reads
no file and imports no heavy library (Great Expectations, openpyxl,
matplotlib, playwright): assets import those inside their functions.
"""

import warnings

import dagster as dg

# kpi_score and project_summary refresh every fiscal year in one run with
# BackfillPolicy.single_run(), which Dagster 1.13 marks as beta. Its warning is
# printed on every load and is of no use to the planning staff, so it is hidden.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

import assets  # noqa: E402 (the filter must be in place before the assets load)
from assets.metadata import with_column_schemas  # noqa: E402
from pipelines.jobs import annual_refresh  # noqa: E402
from pipelines.resources import KpiWarehouse  # noqa: E402
from pipelines.schedules import annual_refresh_schedule  # noqa: E402
from pipelines.sensors import input_folder_sensor  # noqa: E402

defs = dg.Definitions(
    assets=with_column_schemas(dg.load_assets_from_package_module(assets)),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[annual_refresh],
    schedules=[annual_refresh_schedule],
    sensors=[input_folder_sensor],
    resources={"kpi_warehouse": KpiWarehouse()},
    executor=dg.in_process_executor,
)
