"""KPI definitions, actual values and published figures, merged from every input of a strategy.

The inputs are the KPI master, the departments' yearly submissions and the
published tables; evaluation.intake reads and merges them.
"""

import hashlib

import dagster as dg

from assets.metadata import LOGGED_LINES_MAX, table_metadata
from evaluation.intake import bulk, bulk_master
from evaluation.intake.formats import load_intake
from evaluation.normalize import UNIQUE_KEYS, recorded_source_files, repeated_keys, replace_rows
from evaluation.problems import InputProblem, InputRejected
from evaluation.sources import SourceFile, discover
from pipelines.resources import KpiWarehouse, staging_id

# The tables evaluation.intake.bulk leaves in temporary tables named bulk_<table>.
BULK_TABLES = ("kpi_value", "kpi_value_history", "submission_status")

TABLE_SPECS = {
    "kpi": (
        "施策KPIの定義。1行が1KPIで、プロジェクト・事業・単位・方向・基準値・目標値・集計対象かどうか・担当課を持つ。"
        "KPIマスターがあればマスターから、なければ公表評価表から作る。"
        " / One row per KPI: project, business, unit, direction, baseline, target, evaluated or excluded,"
        " department; from the KPI master, else from the published table.",
        "strategy_id, kpi_id",
    ),
    "kpi_value": (
        "実績値。1行が1KPI・1年度の現在の値で、値・状態・報告の区分(確定・速報など)・要因分析・元のファイルとセルを持つ。"
        " / One row per KPI and fiscal year: the current actual, its status and the file and cell it came from.",
        "strategy_id, kpi_id, fiscal_year",
    ),
    "kpi_value_history": (
        "実績値の履歴。公表評価表と実績報告から読んだすべての値を残し、どれを現在の値にしたかと理由(修正など)を持つ。"
        " / Every value read for a KPI and year, numbered, with which one is current and why.",
        "strategy_id, kpi_id, fiscal_year, revision",
    ),
    "submission_status": (
        "実績報告の提出状況。1行が1KPI・報告年度で、担当課と提出の状態(未提出は missing)を持つ。"
        " / One row per KPI and submitted fiscal year: its department and whether it was submitted.",
        "strategy_id, fiscal_year, department, kpi_id",
    ),
    "kpi_expected_value": (
        "期待値・目安値。1行が1KPI・1年度で、KPIマスターの「期待値(R2)」などの列から読む。"
        " / One row per KPI and fiscal year: the expected value (期待値, 目安値) from the KPI master.",
        "strategy_id, kpi_id, fiscal_year",
    ),
    "kpi_revision": (
        "基準値・目標値の改定。1行が1KPIの改定1つで、適用年度・改定後の基準値と目標値・改定理由を持つ。"
        " / One row per revision of a KPI's baseline or target: effective year, revised values, reason.",
        "strategy_id, kpi_id, revision_no",
    ),
    "published_kpi_score": (
        "公表された補正前スコア・スコア・評価記号。1行が1KPI・評価年度。公表値のまま保存し、上書きしない。"
        " / One row per KPI and evaluated year: the scores and marks as published, never overwritten.",
        "strategy_id, kpi_id, fiscal_year",
    ),
    "published_summary": (
        "公表されたプロジェクトの集計行(集計対象・平均スコア・区分ごとの件数)。1行が1プロジェクト・年度。"
        " / One row per project summary line as published.",
        "strategy_id, project_no, fiscal_year",
    ),
}


@dg.multi_asset(
    group_name="normalized",
    specs=[
        dg.AssetSpec(name, description=description, kinds={"duckdb", "python"}, deps=["source_file", "strategy"])
        for name, (description, _) in TABLE_SPECS.items()
    ],
)
def kpi_tables(context: dg.AssetExecutionContext, kpi_warehouse: KpiWarehouse):
    """Read every strategy's master, revisions, submissions and published tables; write the tables they feed.

    Large collections of CSV strategies are read in bulk by DuckDB (evaluation.intake.bulk); every
    other strategy, and every bulk strategy with a problem, is read by the Python reader.
    """
    with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
        recorded = recorded_source_files(connection, kpi_warehouse.raw_path)
        # the files source_file recognized are not recognized again, so their checksums are compared here
        strategies, files = discover(kpi_warehouse.raw_path, recorded)
        problems = changed_files(files, {relative: file.sha256 for relative, file in recorded.items()})

        in_bulk = bulk.bulk_strategies(strategies, files)
        # DuckDB reads the masters it can decide with certainty; the Python reader reads the others.
        sql_masters = bulk_master.read_masters(connection, in_bulk, files) if in_bulk else set()
        masters = bulk.read_masters([s for s in in_bulk if s.strategy_id not in sql_masters], files)
        master_rows = {s.strategy_id: bulk.master_tables(s, masters[s.strategy_id])
                       for s in in_bulk if s.strategy_id in masters}
        masters = {strategy_id: masters[strategy_id] for strategy_id, tables in master_rows.items() if tables}
        bulk_result = bulk.load_bulk(connection, in_bulk, files, masters, sql_masters) \
            if masters or sql_masters else None
        done = (set(masters) | sql_masters) - (bulk_result.unsure if bulk_result else set())

        rows: dict[str, list[dict]] = {name: [] for name in TABLE_SPECS}
        for strategy in strategies:
            if strategy.strategy_id in done:
                for name, table_rows in master_rows.get(strategy.strategy_id, {}).items():
                    rows[name].extend(table_rows)
                continue
            context.log.info(f"reading {sum(f.strategy_id == strategy.strategy_id for f in files)} files of {strategy.strategy_id}")
            result = load_intake(strategy, files)
            problems.extend(result.errors)
            for warning in result.warnings:
                context.log.warning(warning.message)
            for name in TABLE_SPECS:
                rows[name].extend(result.tables.get(name, []))
        if problems:
            raise InputRejected(problems)
        log_missing_submissions(context, rows["submission_status"])
        if done:
            context.log.info(f"read {len(done)} strategies in bulk with DuckDB")
            log_missing_in_bulk(context, bulk.missing_submissions(connection))

        for name, (_, order_by) in TABLE_SPECS.items():
            count = replace_rows(connection, name, [s.strategy_id for s in strategies], rows[name])
            if done and name in BULK_TABLES:
                count += bulk.insert_in_chunks(connection, name, f"bulk_{name}", sorted(done))
            if name == "kpi" and done & sql_masters:
                count += bulk.insert_in_chunks(connection, "kpi", "bulk_kpi", sorted(done & sql_masters))
            repeated = repeated_keys(connection, name) if name in UNIQUE_KEYS else []
            if repeated:
                raise InputRejected(repeated)
            context.log.info(f"wrote {count} rows to {name}")
            yield dg.MaterializeResult(asset_key=name, metadata=table_metadata(connection, name, order_by))


def changed_files(files: list[SourceFile], inventory: dict[str, str]) -> list[InputProblem]:
    """List the files whose content differs from what source_file recorded at the start of the run."""
    problems = []
    for file in files:
        if inventory.get(file.relative_path) != hashlib.sha256(file.path.read_bytes()).hexdigest():
            problems.append(InputProblem(file.relative_path, None, None, "", "実行中にファイルが変更されました。もう一度実行してください",
                                         "the file changed during the run; run the refresh again"))
    return problems


def log_missing_submissions(context: dg.AssetExecutionContext, status_rows: list[dict]) -> None:
    """Log, per fiscal year and department, how many KPIs were submitted and which are missing."""
    departments: dict[tuple, list[dict]] = {}
    for row in status_rows:
        departments.setdefault((row["strategy_id"], row["fiscal_year"], row["department"]), []).append(row)
    log_missing_in_bulk(context, [
        (*key, len(kpis), [r["kpi_id"] for r in kpis if r["submission_state"] == "missing"])
        for key, kpis in sorted(departments.items())
    ])


def log_missing_in_bulk(context: dg.AssetExecutionContext, departments: list[tuple]) -> None:
    """Log (strategy, year, department, KPI count, missing codes) lines, one line per department.

    The lines of one strategy go out as at most two log events, the warnings and then the rest,
    for the first LOGGED_LINES_MAX strategies of each kind; one more line counts the others.
    Each event is a write to Dagster's event log, and the national benchmark has 1,741 strategies
    and 85,000 department lines, all of them in table submission_status.
    """
    by_strategy: dict[str, tuple[list[str], list[str]]] = {}
    for strategy_id, year, department, total, missing in departments:
        warnings, complete = by_strategy.setdefault(strategy_id, ([], []))
        if missing:
            warnings.append(f"{strategy_id} FY{year} {department}: 未提出 {len(missing)}/{total} KPI"
                            f" / {len(missing)} of {total} KPIs not submitted: {', '.join(missing)}")
        else:
            complete.append(f"{strategy_id} FY{year} {department}: {total} KPI すべて提出済み / all submitted")
    with_missing = [lines for lines in by_strategy.values() if lines[0]]
    all_submitted = [lines for lines in by_strategy.values() if not lines[0]]
    for warnings, complete in with_missing[:LOGGED_LINES_MAX]:
        context.log.warning("\n".join(warnings))
        if complete:
            context.log.info("\n".join(complete))
    for _, complete in all_submitted[:LOGGED_LINES_MAX]:
        context.log.info("\n".join(complete))
    if len(with_missing) > LOGGED_LINES_MAX:
        context.log.warning(f"ほか {len(with_missing) - LOGGED_LINES_MAX} 戦略にも未提出の実績報告があります(表 submission_status)"
                            f" / {len(with_missing) - LOGGED_LINES_MAX} more strategies have missing submissions"
                            " (table submission_status)")
    if len(all_submitted) > LOGGED_LINES_MAX:
        context.log.info(f"ほか {len(all_submitted) - LOGGED_LINES_MAX} 戦略は実績報告がすべて提出済みです"
                         f" / {len(all_submitted) - LOGGED_LINES_MAX} more strategies submitted every KPI")
