"""Time the ingest stage alone in Dagster: `python -m bench.ingest_stage RAW OUT`.

Runs the assets of the raw and normalized groups (source_file, strategy,
kpi_tables) without their checks, in this process, as annual_refresh runs
them. Prints one JSON object: each step's seconds and peak RSS (sampled as
bench/refresh.py samples it), and the process's peak RSS (ru_maxrss). The
staging file goes beside OUT/kpi.duckdb and is removed at the end of the run,
because nothing publishes it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import dagster as dg

from bench.refresh import MemorySampler
from pipelines.definitions import defs
from pipelines.resources import KpiWarehouse

INGEST_GROUPS = ("raw", "normalized")


def failure_text(error) -> str:
    """Return a failed step's error message with the messages of the errors that caused it."""
    messages = []
    while error is not None:
        messages.append(str(error.message).strip())
        error = error.cause
    return " <- ".join(messages)[:4000]


def main(raw_dir: Path, output_dir: Path) -> dict:
    keys = {spec.key for spec in defs.resolve_all_asset_specs() if spec.group_name in INGEST_GROUPS}
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection=keys, asset_check_selection=set())
    sampler = MemorySampler()
    sampler.start()
    started = time.perf_counter()
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        instance=instance,
        resources={"kpi_warehouse": KpiWarehouse(raw_dir=str(raw_dir),
                                                 warehouse_path=str(output_dir / "kpi.duckdb"),
                                                 reports_dir=str(output_dir / "reports"))},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    sampler.stop()

    steps: dict[str, dict] = {}
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {})
        if event.event_type_value == "STEP_START":
            step["start"] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = record.timestamp
    return {
        "success": result.success,
        "seconds": round(seconds, 2),
        "steps": {key: {"seconds": round(step["end"] - step["start"], 2),
                        "peak_rss_mib": sampler.peak(step["start"], step["end"]) >> 20}
                  for key, step in steps.items() if "start" in step and "end" in step},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10,
        "failures": [failure_text(e.event_specific_data.error) for e in result.all_events if e.is_step_failure],
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))  # noqa: T201 (the benchmark's output)
