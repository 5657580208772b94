"""The annual refresh: every asset and every asset check, in one process, in one run."""

from __future__ import annotations

import dagster as dg

annual_refresh = dg.define_asset_job(
    name="annual_refresh",
    # every asset, and with them every check (blocking or not) defined on them
    selection=dg.AssetSelection.all(),
    description="入力フォルダのすべてを読み直し、スコアと集計を作り直して"
    " DuckDB ファイルを公開する。"
    "年度パーティションを1つ選べばその年度だけ入れ替える。"
    " / Re-read the input folder, rebuild scores and summaries, publish the DuckDB file;"
    " with one fiscal-year partition, replace that year only.",
    executor_def=dg.in_process_executor,
)
