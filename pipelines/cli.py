"""Command line of the annual refresh: `python -m pipelines.cli run` (what `make run` calls).

Two more commands serve the yearly intake: `master --from DIR` writes a KPI
master from a strategy folder's published table, and `template --fiscal-year
FY` (what `make template FY=2020` calls) writes each department's template.
`asset-graph` prints the asset graph that tests/expected_asset_graph.json holds,
and `column-docs` the module evaluation/columns.py generated from docs/data-model.md.

It runs the annual_refresh job in this process, then prints the per-project
summary in Japanese and where the outputs are. This module is the one place
that prints. Every line it prints for the refresh, the master and the templates
goes through ``show``, and its log lines through ``TerminalSafeFormatter``, so
that a control character in a name from an input file reaches the terminal as
U+FFFD.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import TextIO

from evaluation.eras import era_label
from evaluation.problems import InputRejected
from evaluation.refresh_lock import RefreshLocked
from evaluation.reports.safety import terminal_safe
from evaluation.warehouse import PublishRejected, connect

log = logging.getLogger("pipelines.cli")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def show(line: str = "", file: TextIO | None = None) -> None:
    """Print one line to ``file`` (standard output by default), each control character but the tab as U+FFFD."""
    print(terminal_safe(line), file=file)


class TerminalSafeFormatter(logging.Formatter):
    """A log formatter that replaces control characters as ``show`` does but keeps the line feeds of a message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return "\n".join(terminal_safe(line) for line in super().formatMessage(record).split("\n"))


def _user_exception(error: BaseException) -> BaseException:
    """Return the error an asset raised, unwrapped from Dagster's step error."""
    return getattr(error, "user_exception", None) or error


class ChecksFailed(Exception):
    """Raised when a blocking validation rule failed; carries every failing row's message."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(f"{len(messages)} validation message(s)")


def failed_check_messages(instance, run_id: str) -> list[str]:
    """Return the messages of the failed asset checks of ``run_id``, errors first."""
    import dagster as dg

    lines: list[tuple[int, str]] = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        is_error = evaluation.severity == dg.AssetCheckSeverity.ERROR
        label = "エラー / error" if is_error else "警告 / warning"
        messages = evaluation.metadata.get("messages")
        # The check joined its messages with "\n", so a CR or form feed inside one message does not split it.
        for message in (messages.text.split("\n") if messages else [evaluation.check_name]):
            lines.append((0 if is_error else 1, f"[{label}] {evaluation.check_name}: {message}"))
    return [line for _, line in sorted(lines, key=lambda item: item[0])]


def warehouse_path() -> Path:
    """Return the path of the published DuckDB file that annual_refresh writes."""
    from pipelines.definitions import defs

    return defs.resources["kpi_warehouse"].published_path


def file_identity(path: Path) -> tuple[int, int] | None:
    """Inode and modification time of ``path``, which change when a refresh publishes it."""
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return status.st_ino, status.st_mtime_ns


def setting_problems() -> list[str]:
    """Check the environment settings of a refresh before it starts; return one message per problem."""
    from evaluation.intake.bulk import bulk_min_bytes
    from evaluation.validation.engines import chosen_engine
    from evaluation.warehouse import memory_limit_setting
    from pipelines.resources import SettingInvalid, lock_timeout_seconds, output_path_problems

    try:
        # loading the definitions builds the schedule from KPI_REFRESH_CRON
        from pipelines.definitions import defs
    except SettingInvalid as error:
        return [str(error)]
    resource = defs.resources["kpi_warehouse"]
    problems = []
    for check_setting in (lock_timeout_seconds, chosen_engine, memory_limit_setting, bulk_min_bytes):
        try:
            check_setting()
        except SettingInvalid as error:
            problems.append(str(error))
    problems.extend(output_path_problems(resource.published_path, resource.reports_path))
    return problems


def run_refresh(run_id: str, verbose: bool = False, fiscal_year: int | None = None) -> Path:
    """Execute annual_refresh in process as run ``run_id``; return the published DuckDB file.

    Every fiscal year is refreshed in the one run, unless ``fiscal_year`` names a
    single partition: then only that year's scores and summaries are replaced,
    and the other years keep their published rows. Dagster's own console log
    (step events, stack traces) is shown only with ``verbose``; the full record
    of every run stays in the run history that `make ui` shows.
    """
    import dagster as dg
    from dagster._core.errors import DagsterAssetCheckFailedError

    from pipelines.definitions import defs
    from pipelines.partitions import all_fiscal_years_tags

    # DAGSTER_HOME (set by the Makefile) keeps the run history that `make ui` shows.
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    try:
        result = defs.resolve_job_def("annual_refresh").execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}},
            run_id=run_id,
            partition_key=None if fiscal_year is None else str(fiscal_year),
            # otherwise every fiscal-year partition in this one run, as a single-run backfill would
            tags=all_fiscal_years_tags() if fiscal_year is None else None,
        )
    except DagsterAssetCheckFailedError as error:
        raise ChecksFailed(failed_check_messages(instance, run_id)) from error
    if not result.success:
        raise RuntimeError("annual_refresh failed")
    return warehouse_path()


def failure_lines(cause: BaseException, run_id: str, published: bool) -> list[str]:
    """Describe what failed and what to do next, in Japanese with English beside."""
    from pipelines.resources import SettingInvalid

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
    elif isinstance(cause, ChecksFailed):
        lines.append("  検証でエラーが見つかりました / validation found errors:")
        lines.extend(f"  - {message}" for message in cause.messages)
    elif isinstance(cause, PublishRejected | SettingInvalid):
        lines.append(f"  {cause}")  # already worded in Japanese and English
    elif type(cause).__name__ == "OutOfMemoryException":  # duckdb's, which this module does not import
        from evaluation.warehouse import memory_limit_setting

        limit = memory_limit_setting()
        lines.append(f"  DuckDB のメモリが上限 {limit} を超えました。環境変数 KPI_DUCKDB_MEMORY_LIMIT を"
                     f"大きくしてください / DuckDB ran out of memory under its limit of {limit};"
                     f" raise KPI_DUCKDB_MEMORY_LIMIT ({cause})")
    else:
        lines.append(f"  予期しないエラーです / unexpected error ({type(cause).__name__}): {cause}")
    lines.append(
        "  原因を直してから、もう一度実行してください(docs/operations.md)。"
        " / Fix the cause, then run the refresh again (docs/operations.md)."
    )
    return lines


BASIS_LABELS = (
    ("published", "公表スコアによる集計"),
    ("computed", "再計算したスコアによる集計"),
    ("original", "当初の基準値・目標値で再計算した集計"),
)


def summary_lines(warehouse: Path) -> list[str]:
    """Return the per-project summary of each strategy's latest scored fiscal year, in Japanese.

    Each project line gives the average, the count per band of the
    strategy's own method, 目標達成 and the early-warning counts
    (見通し) as of that year. Pairs of strategies whose methods differ are
    listed last, with what differs.
    """
    lines: list[str] = []
    with connect(warehouse, read_only=True) as connection:
        strategies = connection.execute(
            """
            select strategy.strategy_id, municipality, strategy_name,
                coalesce(max(kpi_score.fiscal_year), any_value(last_fiscal_year)),
                max(kpi_score.fiscal_year) is not null as scored
            from strategy
            left join kpi_score
                on strategy.strategy_id = kpi_score.strategy_id and kpi_score.score is not null
            group by all
            order by strategy.strategy_id
            """
        ).fetchall()
        for strategy_id, municipality, name, year, scored in strategies:
            lines.append(f"{municipality} {name} ({strategy_id}) {era_label(year)}年度 (FY{year})")
            if not scored:
                lines.append("  スコアのある KPI がないため、評価表とレポートは作っていません"
                             " / no KPI has a score, so no workbook or HTML report was written")
            lines.extend(_project_lines(connection, strategy_id, year))
        lines.extend(_comparison_lines(connection))
    return lines


def _project_lines(connection, strategy_id: str, year: int) -> list[str]:
    rows = connection.execute(
        """
        select basis, project_no, project_name, businesses_evaluated, kpis_evaluated,
               businesses_total, kpis_total, average_score, target_achieved_count,
               on_track_count, behind_count, unlikely_count, not_enough_data_count
        from project_summary
        where strategy_id = ? and fiscal_year = ?
        order by project_no
        """,
        [strategy_id, year],
    ).fetchall()
    band_counts: dict[tuple[str, int], list[str]] = {}
    for basis, project_no, label, count in connection.execute(
        "select basis, project_no, label_ja, kpi_count from project_band_count"
        " where strategy_id = ? and fiscal_year = ? order by band_order",
        [strategy_id, year],
    ).fetchall():
        band_counts.setdefault((basis, project_no), []).append(f"{label} {count}")
    # the average as the method shows it: 2 places for Otaru, 1 for a method that rounds to one place
    places = connection.execute(
        "select average_decimal_places from evaluation_method where strategy_id = ?", [strategy_id]
    ).fetchone()[0]

    lines = []
    for basis, label in BASIS_LABELS:
        selected = [r for r in rows if r[0] == basis]
        if not selected:
            continue
        lines.append(f"  [{label} / basis = {basis}]")
        for _, no, project, be, ke, bt, kt, avg, achieved, on_track, behind, unlikely, no_data in selected:
            average = "—" if avg is None else f"{avg:.{places}f}"
            counts = " / ".join([*band_counts.get((basis, no), []), f"目標達成 {achieved}"])
            lines.append(
                f"  ({no}) {project}  集計対象 {be}事業[{ke}KPI]／全 {bt}事業[{kt}KPI]  平均スコア {average}"
                f"  {counts}  見通し 順調 {on_track} / 遅れ {behind} / 達成困難 {unlikely} / データ不足 {no_data}"
            )
    return lines


def _comparison_lines(connection) -> list[str]:
    pairs = connection.execute(
        "select strategy_id, other_strategy_id, reason_ja from strategy_comparison where not comparable"
        " order by strategy_id, other_strategy_id"
    ).fetchall()
    if not pairs:
        return []
    lines = ["戦略の比較 / comparing strategies (strategy_comparison):"]
    lines.extend(f"  {left} と {right}: {reason}" for left, right, reason in pairs)
    return lines


def report_lines(warehouse: Path) -> list[str]:
    """Where each report of the run was written, one line per file that exists."""
    from evaluation.reports.outputs import report_files
    from pipelines.definitions import defs

    reports_dir = defs.resources["kpi_warehouse"].reports_path
    with connect(warehouse, read_only=True) as connection:
        files = report_files(connection, reports_dir)
    return [f"  {label}: {path}" for label, path in files if path.exists()]


DEFAULT_TEMPLATES_DIR = "data/templates"


def templates_dir() -> Path:
    """The folder templates and generated masters go to: KPI_TEMPLATES_DIR, else data/templates."""
    from pipelines.resources import _resolve

    return _resolve(os.environ.get("KPI_TEMPLATES_DIR", DEFAULT_TEMPLATES_DIR))


def raw_dir() -> Path:
    from pipelines.resources import DEFAULT_RAW_DIR, _resolve

    return _resolve(os.environ.get("KPI_RAW_DIR", DEFAULT_RAW_DIR))


def print_problems(heading: str, rejected: InputRejected) -> None:
    show(heading, file=sys.stderr)
    for problem in rejected.problems:
        show(f"  - {problem.message}", file=sys.stderr)


def run_master(source: Path, output: Path | None) -> int:
    """Write the KPI master of the strategy folder ``source``; print where it went and what next."""
    from evaluation.intake.commands import generate_master

    try:
        path = generate_master(source, output, templates_dir())
    except InputRejected as rejected:
        print_problems("KPIマスターを作れませんでした。 / The KPI master was not written.", rejected)
        return 1
    show(f"KPIマスターを書き出しました / wrote the KPI master: {path}")
    show("次に / next:")
    show("  1. 「KPI」シートの「担当課」欄に各KPIの担当課を記入します。")
    show("  2. ファイルを戦略のフォルダ(strategy.toml と同じ場所)に置きます。")
    show("  3. strategy.toml の [[exclusions]] を消します(除外はマスターの「集計対象」「除外理由」に移してあります)。")
    return 0


def run_template(fiscal_year: int) -> int:
    """Write each department's template for ``fiscal_year``; print the files written."""
    from evaluation.intake.commands import generate_templates

    try:
        paths = generate_templates(raw_dir(), fiscal_year, templates_dir())
    except InputRejected as rejected:
        print_problems("様式を作れませんでした。 / No templates were written.", rejected)
        return 1
    show(f"{era_label(fiscal_year)}年度 (FY{fiscal_year}) の実績報告の様式を {len(paths)} 件書き出しました"
         f" / wrote {len(paths)} templates:")
    for path in paths:
        show(f"  {path}")
    return 0


def validation_lines(warehouse: Path) -> list[str]:
    """The warnings of the published run and the count of published figures that differ."""
    with connect(warehouse, read_only=True) as connection:
        tables = {row[0] for row in connection.execute("select table_name from duckdb_tables()").fetchall()}
        if "validation_result" not in tables:
            return []
        warnings = connection.execute(
            "select check_name, message from validation_result where severity = 'warning' "
            "order by check_name, source_file, source_line"
        ).fetchall()
        discrepancies = connection.execute("select count(*) from score_discrepancy").fetchone()[0]
    lines = [f"検証の警告 {len(warnings)} 件 / {len(warnings)} validation warning(s):"]
    lines += [f"  - [{check}] {message}" for check, message in warnings]
    lines.append(f"公表値と再計算値の食い違い {discrepancies} 件(表 score_discrepancy) / "
                 f"{discrepancies} published figure(s) differ from the recomputation (table score_discrepancy)")
    return lines


def print_asset_graph() -> int:
    """Print the asset graph as JSON, the content of tests/expected_asset_graph.json."""
    import json

    from pipelines.asset_graph import describe_asset_graph
    from pipelines.definitions import defs

    print(json.dumps(describe_asset_graph(defs), ensure_ascii=False, indent=2))
    return 0


def check_fiscal_year_partition(parser: argparse.ArgumentParser, fiscal_year: int) -> None:
    """Exit with a usage error unless ``fiscal_year`` is a fiscal-year partition."""
    from pipelines.partitions import fiscal_year_partitions

    keys = fiscal_year_partitions.get_partition_keys()
    if str(fiscal_year) not in keys:
        parser.error(
            f"年度 {fiscal_year} はパーティションにありません({keys[0]}〜{keys[-1]}) / "
            f"fiscal year {fiscal_year} is not a partition ({keys[0]}-{keys[-1]})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.cli", description="KPI評価パイプラインの実行 / run the KPI evaluation")
    parser.add_argument(
        "command", choices=["run", "master", "template", "asset-graph", "column-docs"],
        help="run: 年次更新を実行して集計を表示 / refresh and print the summary; "
             "master: 公表評価表から KPIマスターを作る / write a KPI master from a published table; "
             "template: 担当課ごとの実績報告の様式を作る / write each department's template; "
             "asset-graph: アセットの系統を JSON で表示 / print the asset graph as JSON; "
             "column-docs: docs/data-model.md から evaluation/columns.py を作る"
             " / print evaluation/columns.py generated from docs/data-model.md",
    )
    parser.add_argument("--from", dest="source", type=Path,
                        help="master: 戦略のフォルダ(strategy.toml のある場所) / the strategy folder")
    parser.add_argument("--output", type=Path,
                        help="master: 書き出すファイル(既定は KPI_TEMPLATES_DIR の下) / the .xlsx file to write")
    parser.add_argument("--fiscal-year", type=int,
                        help="template: 報告する年度(西暦、例 2020) / the fiscal year to report, e.g. 2020; "
                             "run: この年度のスコアと集計だけを入れ替える / replace only this year's scores"
                             " and summaries")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="処理の記録(英語)も表示する / also show the run log (English)")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalSafeFormatter(LOG_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    logging.getLogger("evaluation").setLevel(logging.INFO if args.verbose else logging.WARNING)

    if args.command == "master":
        if args.source is None:
            parser.error("master には --from DIR が必要です / master needs --from DIR")
        return run_master(args.source, args.output)
    if args.command == "template":
        if args.fiscal_year is None:
            parser.error("template には --fiscal-year が必要です / template needs --fiscal-year")
        return run_template(args.fiscal_year)
    if args.command == "asset-graph":
        return print_asset_graph()
    if args.command == "column-docs":
        from evaluation.data_model_doc import columns_module_source

        print(columns_module_source(), end="")
        return 0
    if args.fiscal_year is not None:
        check_fiscal_year_partition(parser, args.fiscal_year)

    problems = setting_problems()
    if problems:
        show("設定が正しくないため、更新を開始しませんでした。公開済みの DuckDB ファイルは変更していません。 / "
             "The refresh did not start because of invalid settings; the published DuckDB file is unchanged.",
             file=sys.stderr)
        for problem in problems:
            show(f"  - {problem}", file=sys.stderr)
        return 1

    show("年次更新を実行しています… / running the annual refresh…", file=sys.stderr)
    run_id = str(uuid.uuid4())
    before = file_identity(warehouse_path())
    try:
        warehouse = run_refresh(run_id, verbose=args.verbose, fiscal_year=args.fiscal_year)
    except Exception as error:  # noqa: BLE001 - the command line reports every failure the same way
        published = file_identity(warehouse_path()) != before
        show(file=sys.stderr)
        for line in failure_lines(_user_exception(error), run_id, published):
            show(line, file=sys.stderr)
        show("詳しい記録は make ui の実行履歴(Runs)か、make run ARGS=-v で表示できます。 / "
             "Details: the run history in make ui (Runs), or make run ARGS=-v.", file=sys.stderr)
        return 1

    show()
    for line in summary_lines(warehouse):
        show(line)
    show()
    for line in validation_lines(warehouse):
        show(line)
    show()
    show("出力 / outputs:")
    show(f"  DuckDB: {warehouse}")
    for line in report_lines(warehouse):
        show(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
