"""The files written once per strategy (workbooks, HTML reports), a batch of strategies per task.

A national collection has about 1,741 strategies. One process writing their
workbooks leaves the other cores idle, so with more than one batch the batches
go to worker processes, one per core this process may use. Each worker opens
the published file read-only, reads its batch with the queries of
``evaluation.reports.queries`` once and writes the batch's workbooks and
HTML reports from that data. Reading a batch of 100 national strategies
took 1.7 s and writing their HTML reports without charts 0.5 s
(docs/performance.md), so reading once saves most of the HTML reports' cost.
Only the small result records come back to the parent. With one batch (a
city, a prefecture's sample) no worker is started, since starting one costs
about a second of imports.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from evaluation.reports import queries
from evaluation.reports.files import html_report_path, workbook_path
from evaluation.warehouse import connect

if TYPE_CHECKING:
    from evaluation.reports.html_report import HtmlReportResult
    from evaluation.reports.workbook import WorkbookResult

log = logging.getLogger(__name__)

Result = TypeVar("Result")
PARENT_CHECK_SECONDS = 1.0
# New container objects between two collections of the youngest generation while a batch is written (default 700).
BATCH_GC_THRESHOLD = 50_000


def worker_count(strategy_count: int, batch_size: int = queries.REPORT_BATCH_STRATEGIES) -> int:
    """Processes to write ``strategy_count`` strategies' files with: one per usable core, at most one per batch."""
    batches = -(-strategy_count // batch_size)
    return max(1, min(len(os.sched_getaffinity(0)), batches))


def _batches(strategy_ids: list[str], batch_size: int) -> list[list[str]]:
    return [strategy_ids[start : start + batch_size] for start in range(0, len(strategy_ids), batch_size)]


def write_per_strategy(
    warehouse: Path,
    write_batch: Callable[[Path, list[str]], Result],
    batch_size: int = queries.REPORT_BATCH_STRATEGIES,
    workers: int | None = None,
) -> Iterator[Result]:
    """Call ``write_batch`` on every batch of the file's strategies, in worker processes when there are several.

    ``write_batch`` must be a module-level function (the workers import it by
    name). ``workers`` defaults to ``worker_count``. Results come back in strategy order. An exception in a batch is
    raised here; the files of other batches are complete files, each written
    atomically.
    """
    with connect(warehouse, read_only=True) as connection:
        strategy_ids = [strategy.strategy_id for strategy in queries.strategies(connection)]
    batches = _batches(strategy_ids, batch_size)
    workers = worker_count(len(strategy_ids), batch_size) if workers is None else workers
    if workers == 1:
        for batch in batches:
            yield write_batch(warehouse, batch)
        return
    log.info("writing %d strategies in %d batches with %d worker processes", len(strategy_ids), len(batches), workers)
    # spawn, not fork: the parent has DuckDB and Dagster threads running, which a fork would copy mid-state
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        yield from pool.map(partial(write_batch, warehouse), batches)


def exit_with_parent(parent_pid: int) -> None:
    """Start a thread that ends this worker process once ``parent_pid`` is no longer its parent.

    A worker whose parent was killed (SIGKILL, the OOM killer) would otherwise
    wait for tasks forever: it keeps the write end of the task queue open itself,
    so it never reads end-of-file.
    """
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        # NOTE: a file being written at that moment leaves its temporary file (.<name>.*.tmp) behind.
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _scored_reports(warehouse: Path, strategy_ids: list[str], unscored: list[str]) -> list[queries.StrategyReport]:
    """Return the report data of each strategy in ``strategy_ids`` that has a scored KPI; add the others to
    ``unscored``."""
    chosen = set(strategy_ids)
    with connect(warehouse, read_only=True) as connection:
        batch = [strategy for strategy in queries.strategies(connection) if strategy.strategy_id in chosen]
        reports = queries.load_reports(connection, batch)
    unscored.extend(report.strategy.strategy_id for report in reports if report.fiscal_year is None)
    return [report for report in reports if report.fiscal_year is not None]


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run a batch with Python's cyclic garbage collector working less, and restore it afterwards.

    A batch builds a few hundred thousand small objects per workbook (cells,
    XlsxWriter's rows) beside the batch's report data. With the collector's
    default of one collection per 700 new objects, and each full collection
    walking the report data again, collections took about a sixth of the
    batch's CPU time (docs/performance.md). The caller's ``gc.freeze`` after
    reading moves the report data out of the collector's sight, and leaving
    this block unfreezes it. The larger first threshold makes fewer collections.
    Cycles are still collected (XlsxWriter's workbook and sheets refer to each other).
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(BATCH_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@dataclass
class ReportsBatch:
    """The workbooks and HTML reports written for one batch, and the strategies skipped because none of their
    KPIs has a score."""

    workbooks: list[WorkbookResult] = field(default_factory=list)
    html_reports: list[HtmlReportResult] = field(default_factory=list)
    unscored: list[str] = field(default_factory=list)


def reports_batch(
    reports_dir: Path, workbooks: bool, html_reports: bool, draw_charts: bool, warehouse: Path,
    strategy_ids: list[str],
) -> ReportsBatch:
    """Write the evaluation workbooks (one per basis of each strategy's reported year) and the HTML reports
    (with charts when ``draw_charts``) of ``strategy_ids``, from one read of their report data."""
    from evaluation.reports.html_report import write_strategy_html_report
    from evaluation.reports.workbook import write_strategy_workbook

    result = ReportsBatch()
    with _fewer_collections():
        reports = _scored_reports(warehouse, strategy_ids, result.unscored)
        gc.freeze()
        for report in reports:
            strategy_id = report.strategy.strategy_id
            if workbooks:
                for basis in report.bases:
                    path = workbook_path(reports_dir, strategy_id, report.fiscal_year, basis)
                    result.workbooks.append(write_strategy_workbook(report, basis, path))
            if html_reports:
                path = html_report_path(reports_dir, strategy_id)
                result.html_reports.append(write_strategy_html_report(report, path, draw_charts))
    return result
