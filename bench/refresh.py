"""Run the annual_refresh job in this process and measure each stage: `python -m bench.refresh RAW OUT`.

Prints one JSON object: the seconds spent importing, the whole run, and each
stage's wall time and peak resident memory (RSS). A stage is the asset group
of the steps it ran (raw and normalized are "ingest"). A step that only
evaluated asset checks counts as "validate", however the checks are written.
The memory of a stage is sampled every SAMPLE_SECONDS, so a peak shorter than
that can be missed; the run's peak is the kernel's exact figure (ru_maxrss).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402 (the import time is part of what is measured)
import resource  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import psutil  # noqa: E402

from pipelines.definitions import defs  # noqa: E402
from pipelines.partitions import all_fiscal_years_tags  # noqa: E402
from pipelines.resources import KpiWarehouse  # noqa: E402

SAMPLE_SECONDS = 0.01
STAGE_OF_GROUP = {
    "raw": "ingest",
    "normalized": "ingest",
    "validated": "validate",
    "scores": "score",
    "summaries": "summarize",
    "publish": "publish",
    "reports": "reports",
}
STAGES = ("ingest", "validate", "score", "summarize", "publish", "reports")


class MemorySampler(threading.Thread):
    """Record (time, RSS in bytes) of this process until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()
        self._process = psutil.Process()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), self._process.memory_info().rss))
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak(self, start: float, end: float) -> int:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0)



def error_chain(error) -> str:
    """Join the messages of a Dagster error and of the exceptions that caused it, outermost first."""
    messages = []
    while error is not None:
        messages.append(str(error.message).strip())
        error = error.cause or error.context
    return " <- ".join(messages)[:4000]

def group_of_assets() -> dict[str, str]:
    return {spec.key.to_user_string(): spec.group_name for spec in defs.resolve_all_asset_specs()}


def step_stages(records: list) -> dict[str, dict]:
    """Return each step's stage, start and end time from the run's event log."""
    groups = group_of_assets()
    steps: dict[str, dict] = {}
    for record in records:
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {"assets": set(), "checks": 0})
        if event.event_type_value == "STEP_START":
            step["start"] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = record.timestamp
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            step["assets"].add(event.asset_key.to_user_string())
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            step["checks"] += 1
    for key, step in steps.items():
        asset_groups = {groups.get(asset, "") for asset in step["assets"]}
        if not asset_groups and step["checks"]:
            step["stage"] = "validate"
        else:
            group = min(asset_groups) if asset_groups else key
            step["stage"] = STAGE_OF_GROUP.get(group, group)
    return steps


def main(raw_dir: Path, output_dir: Path) -> dict:
    imported = time.perf_counter()
    sampler = MemorySampler()
    sampler.start()
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("annual_refresh")
    result = job.execute_in_process(
        instance=instance,
        resources={"kpi_warehouse": KpiWarehouse(raw_dir=str(raw_dir),
                                                 warehouse_path=str(output_dir / "kpi.duckdb"),
                                                 reports_dir=str(output_dir / "reports"))},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        raise_on_error=False,
        tags=all_fiscal_years_tags(),  # every fiscal-year partition in the one run, as `make run` refreshes
    )
    finished = time.perf_counter()
    sampler.stop()

    records = instance.all_logs(result.run_id)
    stages: dict[str, dict] = {stage: {"seconds": 0.0, "peak_rss": 0, "steps": []} for stage in STAGES}
    for key, step in step_stages(records).items():
        if "start" not in step or "end" not in step:
            continue  # skipped because an upstream step failed
        stage = stages.setdefault(step["stage"], {"seconds": 0.0, "peak_rss": 0, "steps": []})
        stage["seconds"] += step["end"] - step["start"]
        stage["peak_rss"] = max(stage["peak_rss"], sampler.peak(step["start"], step["end"]))
        stage["steps"].append({"step": key, "seconds": round(step["end"] - step["start"], 3)})
    failures = [error_chain(e.event_specific_data.error) for e in result.all_events if e.is_step_failure]
    return {
        "success": result.success,
        "failures": failures,
        "import_seconds": imported - STARTED,
        "run_seconds": finished - imported,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "stages": stages,
    }


if __name__ == "__main__":
    summary = main(Path(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(summary, ensure_ascii=False))  # noqa: T201 (the benchmark's output)
