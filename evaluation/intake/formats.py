"""Recognize the intake formats by content, and read one strategy's intake files.

A workbook or CSV file is a submission when a sheet has the header KPIコード
with 実績値 and 状態, and a KPI master when a sheet has KPIコード with 方向 and
目標値 but no 状態. (A filled template shows 方向 and 目標値 for reference, so
the submission test comes first.)
"""

from __future__ import annotations

import logging

from evaluation.intake.expected_values import check_expected_values
from evaluation.intake.master import expected_value_rows, is_master_grid, read_master
from evaluation.intake.merge import IntakeResult, merge_sources
from evaluation.intake.revisions import is_revision_grid, read_revisions, revision_rows
from evaluation.intake.sheets import Grid, read_csv, read_workbook
from evaluation.intake.submission import is_submission_grid, read_submission
from evaluation.problems import InputProblem, InputRejected
from evaluation.published_table import parse_published_table
from evaluation.sources import KPI_MASTER, KPI_REVISION, PUBLISHED_TABLE, SUBMISSION, SourceFile, decode_text
from evaluation.strategy import Strategy

log = logging.getLogger(__name__)


def format_of_grids(grids: list[Grid]) -> str | None:
    """Return SUBMISSION, KPI_MASTER or None for the sheets of one file."""
    if any(is_submission_grid(g) for g in grids):
        return SUBMISSION
    if any(is_master_grid(g) for g in grids):
        return KPI_MASTER
    if any(is_revision_grid(g) for g in grids):
        return KPI_REVISION
    return None


def read_grids(file: SourceFile) -> list[Grid]:
    """Read an intake file's sheets (one grid for a CSV file)."""
    if file.encoding is None:
        return read_workbook(file.path, file.relative_path)
    grid, encoding = read_csv(file.path, file.relative_path)
    log.info("decoded %s as %s", file.relative_path, encoding)
    return [grid]


def load_intake(strategy: Strategy, files: list[SourceFile]) -> IntakeResult:
    """Read one strategy's published tables, master and submissions, and merge them.

    Every file is read even after an error, so the result lists all problems
    at once; the merge runs only when every file was read.
    """
    problems: list[InputProblem] = []
    tables, masters, submissions = [], [], []
    revision_grids = []  # the 「改定」 sheet of a master workbook, or a revision file
    for file in sorted(files, key=lambda f: f.relative_path):
        if file.strategy_id != strategy.strategy_id:
            continue
        try:
            if file.file_format == PUBLISHED_TABLE:
                text, _ = decode_text(file.path.read_bytes())
                tables.append(parse_published_table(text, file.relative_path))
            elif file.file_format == KPI_MASTER:
                grids = read_grids(file)
                masters.append(read_master(grids, strategy))
                revision_grids.extend(g for g in grids if is_revision_grid(g))
            elif file.file_format == KPI_REVISION:
                revision_grids.extend(read_grids(file))
            elif file.file_format == SUBMISSION:
                submissions.append(read_submission(read_grids(file)))
        except InputRejected as rejected:
            problems.extend(rejected.problems)
    if len(masters) > 1:
        names = ", ".join(m.source_file for m in masters)
        problems.append(InputProblem(masters[1].source_file, None, None, names,
                                     "1つの戦略のフォルダに KPIマスターが2つ以上あります。1つにしてください",
                                     "a strategy folder holds more than one KPI master; keep one"))
    master = masters[0] if masters else None
    rows: list[dict] = []
    revisions, revision_problems = read_revisions(revision_grids, master)
    problems.extend(revision_problems)
    problems.extend(check_expected_values(strategy, master))
    if master is not None and not revision_problems:
        rows, revision_problems = revision_rows(revisions, master, strategy)
        problems.extend(revision_problems)
    if any(p.severity == "error" for p in problems):
        return IntakeResult(problems=problems)

    result = merge_sources(strategy, master, tables, submissions)
    result.problems.extend(problems)
    if master is not None:
        result.tables["kpi_revision"] = rows
        result.tables["kpi_expected_value"] = expected_value_rows(master, strategy.strategy_id)
    log.info("%s: %d published tables, %d masters, %d submissions -> %d KPIs, %d current values, %d problems",
             strategy.strategy_id, len(tables), len(masters), len(submissions), len(result.tables["kpi"]),
             len(result.tables["kpi_value"]), len(result.problems))
    return result
