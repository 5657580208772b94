"""Time the bulk reader alone on a benchmark folder: `python -m bench.ingest data/bench/raw-1741000`.

Prints the seconds since start and the process RSS after each step: finding
and recognizing the files, reading the masters (DuckDB, and the Python
reader for any master DuckDB leaves to it), reading the submissions in bulk
(DuckDB). DuckDB runs under the memory limit kpi_tables sets
(KPI_DUCKDB_MEMORY_LIMIT, else bulk.BULK_MEMORY_LIMIT) and spills to a
temporary folder.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

from evaluation.intake import bulk, bulk_master
from evaluation.sources import discover
from evaluation.warehouse import memory_limit_setting


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
    with tempfile.TemporaryDirectory() as spill:
        connection = duckdb.connect(config={"temp_directory": spill, "memory_limit": memory_limit_setting()})
        sql_masters = bulk_master.read_masters(connection, chosen, files)
        masters = bulk.read_masters([s for s in chosen if s.strategy_id not in sql_masters], files)
        report(f"read {len(sql_masters)} masters with DuckDB and {len(masters)} with Python", started)
        result = bulk.load_bulk(connection, chosen, files, masters, sql_masters)
        report(f"bulk read {result.counts}, {len(result.unsure)} strategies left to the Python reader", started)
        connection.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
