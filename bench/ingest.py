"""Time the bulk reader alone on a benchmark folder: `python -m bench.ingest data/bench/raw-1741000`.

Prints the seconds since start and the process RSS after each step: finding
and recognizing the files, reading the masters (Python reader), reading the
submissions in bulk (DuckDB, in memory).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import duckdb
import psutil

from evaluation.intake import bulk
from evaluation.sources import discover


def report(step: str, started: float) -> None:
    rss = psutil.Process().memory_info().rss >> 20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
    print(f"{step}: {time.perf_counter() - started:.1f} s, RSS {rss} MiB, peak {peak} MiB",  # noqa: T201
          flush=True)


def main(raw_dir: Path) -> None:
    started = time.perf_counter()
    strategies, files = discover(raw_dir)
    report("discover", started)
    chosen = bulk.qualifying_strategies(strategies, files)
    masters = bulk.read_masters(chosen, files)
    report(f"read {len(masters)} masters", started)
    result = bulk.load_bulk(duckdb.connect(), chosen, files, masters)
    report(f"bulk read {result.counts}, {len(result.unsure)} strategies left to the Python reader", started)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
