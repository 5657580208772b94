"""The annual refresh: every asset, in one process, in one run."""

from __future__ import annotations

import dagster as dg

annual_refresh = dg.define_asset_job(
    name="annual_refresh",
    selection=dg.AssetSelection.all(),
    description="入力フォルダのすべてを読み直し、スコアと集計を作り直して DuckDB ファイルを公開する。"
    " / Re-read the input folder, rebuild scores and summaries, publish the DuckDB file.",
    executor_def=dg.in_process_executor,
)
