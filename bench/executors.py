"""The annual_refresh assets under two executors, for `dagster job execute -f bench/executors.py -j JOB`.

bench/run.py times both jobs on the Otaru data to show why pipelines/jobs.py
uses the in-process executor: the multiprocess executor starts a Python
process per step, and each one imports dagster and the code location again.
"""

import dagster as dg

import assets
from pipelines.resources import KpiWarehouse

refresh_in_process = dg.define_asset_job("refresh_in_process", selection=dg.AssetSelection.all(),
                                         executor_def=dg.in_process_executor)
refresh_multiprocess = dg.define_asset_job("refresh_multiprocess", selection=dg.AssetSelection.all(),
                                           executor_def=dg.multiprocess_executor)

defs = dg.Definitions(
    assets=dg.load_assets_from_package_module(assets),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[refresh_in_process, refresh_multiprocess],
    resources={"kpi_warehouse": KpiWarehouse()},
)
