"""Command line of the annual refresh: `python -m pipelines.cli run` (what `make run` calls).

It runs the annual_refresh job in this process, then prints the per-project
summary in Japanese and where the outputs are. This module is the one place
that prints.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from pathlib import Path

from evaluation.eras import era_label
from evaluation.problems import InputRejected
from evaluation.refresh_lock import RefreshLocked
from evaluation.warehouse import connect

log = logging.getLogger("pipelines.cli")


def _user_exception(error: BaseException) -> BaseException:
    """Return the error an asset raised, unwrapped from Dagster's step error."""
    return getattr(error, "user_exception", None) or error


def warehouse_path() -> Path:
    """Return the path of the published DuckDB file that annual_refresh writes."""
    from pipelines.definitions import defs

    return defs.resources["kpi_warehouse"].warehouse.path


def file_identity(path: Path) -> tuple[int, int] | None:
    """Inode and modification time of ``path``, which change when a refresh publishes it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def run_refresh(run_id: str, verbose: bool = False) -> Path:
    """Execute annual_refresh in process as run ``run_id``; return the published DuckDB file.

    Dagster's own console log (step events, stack traces) is shown only with
    ``verbose``; the full record of every run stays in the run history that
    `make ui` shows.
    """
    import dagster as dg

    from pipelines.definitions import defs

    # DAGSTER_HOME (set by the Makefile) keeps the run history that `make ui` shows.
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("annual_refresh").execute_in_process(
        instance=instance,
        run_id=run_id,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}},
    )
    if not result.success:
        raise RuntimeError("annual_refresh failed")
    return warehouse_path()


def failure_lines(cause: BaseException, run_id: str, published: bool) -> list[str]:
    """Describe what failed and what to do next, in Japanese with English beside."""
    if isinstance(cause, RefreshLocked):
        return [
            "更新を開始できませんでした。公開済みの DuckDB ファイルは変更していません。 / "
            "The refresh did not start; the published DuckDB file is unchanged.",
            f"  {cause}",
        ]
    if published:
        lines = [
            f"DuckDB ファイルの公開後に、更新の後続のステップが失敗しました(run {run_id})。 / "
            f"A step after publishing the DuckDB file failed (run {run_id}).",
        ]
    else:
        lines = [
            f"更新に失敗しました(run {run_id})。"
            "公開済みの DuckDB ファイルは変更せず、この実行の作業用ファイルは削除しました。"
            f" / The refresh failed (run {run_id}); the published DuckDB file is unchanged"
            " and this run's staging file was removed.",
        ]
    if isinstance(cause, InputRejected):
        lines.extend(f"  - {problem.message}" for problem in cause.problems)
    else:
        lines.append(f"  {type(cause).__name__}: {cause}")
    lines.append(
        "  原因を直してから、もう一度実行してください(docs/operations.md)。"
        " / Fix the cause, then run the refresh again (docs/operations.md)."
    )
    return lines


def summary_lines(warehouse: Path) -> list[str]:
    """The per-project summary of each strategy's latest fiscal year, in Japanese."""
    lines: list[str] = []
    with connect(warehouse, read_only=True) as connection:
        strategies = connection.execute(
            "select strategy_id, municipality, strategy_name, last_fiscal_year from strategy order by strategy_id"
        ).fetchall()
        for strategy_id, municipality, name, year in strategies:
            lines.append(f"{municipality} {name} ({strategy_id}) {era_label(year)}年度 (FY{year})")
            rows = connection.execute(
                """
                select basis, project_no, project_name, businesses_evaluated, kpis_evaluated,
                       businesses_total, kpis_total, average_score, below_baseline_count,
                       band_0_50_count, band_50_100_count, band_100_plus_count, target_achieved_count
                from project_summary
                where strategy_id = ? and fiscal_year = ?
                order by basis desc, project_no
                """,
                [strategy_id, year],
            ).fetchall()
            for basis, label in (("published", "公表スコアによる集計"), ("computed", "再計算したスコアによる集計")):
                selected = [r for r in rows if r[0] == basis]
                if not selected:
                    continue
                lines.append(f"  [{label} / basis = {basis}]")
                for _, no, project, be, ke, bt, kt, avg, below, b0, b50, b100, achieved in selected:
                    average = "—" if avg is None else f"{avg:.2f}"
                    lines.append(
                        f"  ({no}) {project}  集計対象 {be}事業[{ke}KPI]／全 {bt}事業[{kt}KPI]  平均スコア {average}"
                        f"  基準未満 {below} / 0~50 {b0} / 50~100 {b50} / 100以上 {b100} / 目標達成 {achieved}"
                    )
    return lines


def report_lines(warehouse: Path) -> list[str]:
    """Where each report of the run was written, one line per file that exists."""
    from evaluation.reports.outputs import report_files
    from pipelines.definitions import defs

    reports_dir = defs.resources["kpi_warehouse"].reports_path
    with connect(warehouse, read_only=True) as connection:
        files = report_files(connection, reports_dir)
    return [f"  {label}: {path}" for label, path in files if path.exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.cli", description="KPI評価パイプラインの実行 / run the KPI evaluation")
    parser.add_argument("command", choices=["run"], help="run: 年次更新を実行して集計を表示 / refresh and print the summary")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="処理の記録(英語)も表示する / also show the run log (English)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("evaluation").setLevel(logging.INFO if args.verbose else logging.WARNING)

    print("年次更新を実行しています… / running the annual refresh…", file=sys.stderr)
    run_id = str(uuid.uuid4())
    before = file_identity(warehouse_path())
    try:
        warehouse = run_refresh(run_id, verbose=args.verbose)
    except Exception as error:  # noqa: BLE001 - the command line reports every failure the same way
        published = file_identity(warehouse_path()) != before
        print(file=sys.stderr)
        for line in failure_lines(_user_exception(error), run_id, published):
            print(line, file=sys.stderr)
        print("詳しい記録は make ui の実行履歴(Runs)か、make run ARGS=-v で表示できます。 / "
              "Details: the run history in make ui (Runs), or make run ARGS=-v.", file=sys.stderr)
        return 1

    print()
    for line in summary_lines(warehouse):
        print(line)
    print()
    print(f"出力 / outputs:\n  DuckDB: {warehouse}")
    for line in report_lines(warehouse):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
