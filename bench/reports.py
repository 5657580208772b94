"""Time the per-strategy report writers on one batch of a refreshed file: `python -m bench.reports WAREHOUSE`.

Reads the report data of ``--count`` strategies from ``--first`` on (in the
order of ``queries.strategies``) and writes their workbooks and HTML reports
(without charts, as a national run does) to a scratch folder, in this one
process. Prints, for each of reading, workbooks and HTML, the median wall
and CPU seconds of REPEATS runs, as one JSON line. The national file of `make
bench` is data/bench/out-1741000/kpi.duckdb.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evaluation.reports import queries
from evaluation.reports.files import html_report_path, workbook_path
from evaluation.warehouse import connect

REPEATS = 3


def median_times(work: Callable[[], object]) -> dict[str, float]:
    """Return the median wall and CPU seconds of REPEATS calls of ``work``."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"seconds": round(statistics.median(walls), 3), "cpu_seconds": round(statistics.median(cpus), 3)}


def main() -> None:
    from evaluation.reports.html_report import write_strategy_html_report
    from evaluation.reports.workbook import write_strategy_workbook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--first", type=int, default=200)
    parser.add_argument("--count", type=int, default=100)
    arguments = parser.parse_args()

    with connect(arguments.warehouse, read_only=True) as connection:
        batch = queries.strategies(connection)[arguments.first : arguments.first + arguments.count]
        reports = [report for report in queries.load_reports(connection, batch) if report.fiscal_year is not None]
        reading = median_times(lambda: queries.load_reports(connection, batch))

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as scratch:
        folder = Path(scratch)

        def workbooks() -> None:
            for report in reports:
                for basis in report.bases:
                    path = workbook_path(folder, report.strategy.strategy_id, report.fiscal_year, basis)
                    write_strategy_workbook(report, basis, path)

        def html_reports() -> None:
            for report in reports:
                write_strategy_html_report(report, html_report_path(folder, report.strategy.strategy_id), False)

        result = {
            "strategies": len(reports),
            "workbooks": sum(len(report.bases) for report in reports),
            "reading": reading,
            "workbook_writing": median_times(workbooks),
            "html_writing": median_times(html_reports),
        }
    print(json.dumps(result))  # noqa: T201 (the benchmark's output)


if __name__ == "__main__":
    main()
