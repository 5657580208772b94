"""The sensor that starts the annual refresh when an input file is added, changed or removed.

The cursor is the folder's state: each file's path, modification time and
size. Reading it stats the files and opens none, so a tick stays cheap
however large the files are.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from pipelines.jobs import annual_refresh
from pipelines.partitions import all_fiscal_years_tags
from pipelines.resources import KpiWarehouse


def folder_state(raw_dir: Path) -> dict[str, list[int]]:
    """Map each input file's path below ``raw_dir`` to [modification time in ns, size in bytes].

    Hidden files and Office lock files (``~$…``) are left out, as the refresh
    skips them too, so opening a spreadsheet starts no run.
    """
    state: dict[str, list[int]] = {}
    for path in sorted(raw_dir.rglob("*")):
        relative = path.relative_to(raw_dir)
        if any(part.startswith((".", "~$")) for part in relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        state[relative.as_posix()] = [stat.st_mtime_ns, stat.st_size]
    return state


def changed_files(previous: dict[str, list[int]], current: dict[str, list[int]]) -> list[str]:
    """Return the paths added, changed or removed between two folder states."""
    return sorted(
        path for path in previous.keys() | current.keys() if previous.get(path) != current.get(path)
    )


@dg.sensor(
    job=annual_refresh,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "入力フォルダ(KPI_RAW_DIR)のファイルが追加・変更・削除されたら、すべての年度の年次更新を1回実行する。"
        "最初の評価ではファイルを記録するだけで実行しない。"
        " / Starts the annual refresh when an input file is"
        " added, changed or removed; the first evaluation only records the files."
    ),
)
def input_folder_sensor(context: dg.SensorEvaluationContext, kpi_warehouse: KpiWarehouse):
    raw_dir = kpi_warehouse.raw_path
    if not raw_dir.is_dir():
        return dg.SkipReason(
            f"入力フォルダ {raw_dir} がありません / the input folder {raw_dir} does not exist"
        )
    current = folder_state(raw_dir)
    cursor = json.dumps(current, sort_keys=True)

    if context.cursor is None:
        context.log.info(f"recorded {len(current)} files under {raw_dir}")
        return dg.SensorResult(
            skip_reason=f"{len(current)} ファイルを記録しました / recorded {len(current)} files",
            cursor=cursor,
        )
    changed = changed_files(json.loads(context.cursor), current)
    if not changed:
        return dg.SkipReason(
            "入力フォルダに変更はありません / no input file was added, changed or removed"
        )

    context.log.info(f"{len(changed)} input files added, changed or removed: {', '.join(changed)}")
    request = dg.RunRequest(
        tags={
            **all_fiscal_years_tags(),
            "kpi/trigger": "sensor",
            "kpi/changed_files": str(len(changed)),
        },
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor)
