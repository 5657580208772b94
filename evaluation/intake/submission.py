"""A yearly submission (実績報告): one department's actuals for a closed fiscal year, one row per KPI.

Each row gives the fiscal year, the KPI code, the actual value and its status:
確定 confirmed, 速報 provisional, 未確定 undetermined or 後日報告 to be reported
later. It also gives the factor analysis (要因分析) and who submitted it. A value
that replaces one reported before carries the correction mark (修正) and a reason. A
filled template is a submission; so is a CSV file with the same headers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from evaluation.cells import ValueStatus
from evaluation.intake.columns import (
    CHOICE,
    CODE,
    FISCAL_YEAR,
    QUANTITY,
    TEXT,
    Column,
    ColumnError,
    Quantity,
    cell_value,
    column_name,
    convert,
    locate_columns,
)
from evaluation.intake.sheets import Grid, cell_reference, data_rows, find_header
from evaluation.problems import InputProblem, InputRejected

log = logging.getLogger(__name__)

ANCHOR = "KPIコード"

# 状態 -> report_status; the value_status each one gives kpi_value.
REPORT_STATUSES = {
    "確定": "confirmed",
    "速報": "provisional",
    "未確定": "undetermined",
    "後日報告": "to_be_reported",
}
VALUE_STATUS_OF = {
    "confirmed": ValueStatus.REPORTED,
    "provisional": ValueStatus.REPORTED,
    "undetermined": ValueStatus.UNDETERMINED,
    "to_be_reported": ValueStatus.TO_BE_REPORTED,
}
STATUS_WORDS = (*REPORT_STATUSES.items(), ("(後日報告)", "to_be_reported"))
CORRECTION_WORD = "修正"

COLUMNS = (
    Column("fiscal_year", "年度", FISCAL_YEAR),
    Column("kpi_id", ANCHOR, CODE),
    Column("department", "担当課", TEXT, required=False),
    Column("kpi_name", "KPI名", TEXT, required=False, aliases=("施策KPI",)),
    Column("actual", "実績値", QUANTITY),
    Column("status", "状態", CHOICE, choices=STATUS_WORDS),
    Column("comment", "要因分析", TEXT, aliases=("コメント",)),
    Column("submitted_by", "提出者", TEXT),
    Column("correction", CORRECTION_WORD, CHOICE, required=False,
           choices=((CORRECTION_WORD, True), ("○", True), ("はい", True))),
    Column("correction_reason", "修正理由", TEXT, required=False),
)
# Cells a department fills in; a row with all of them blank has not been submitted.
INPUT_COLUMNS = ("actual", "status", "comment", "submitted_by", "correction", "correction_reason")


@dataclass(frozen=True)
class SubmittedValue:
    """One filled row of a submission, converted but not yet checked against the master."""

    kpi_id: str
    fiscal_year: int
    actual: Quantity | None
    report_status: str
    comment: str | None
    submitted_by: str | None
    correction: bool
    correction_reason: str | None
    department: str | None
    source_file: str
    source_sheet: str | None
    source_line: int
    source_column: int  # the actual's column
    source_cell: str  # "a.xlsx [実績報告] K7" for messages

    @property
    def value_status(self) -> ValueStatus:
        return VALUE_STATUS_OF[self.report_status]


@dataclass(frozen=True)
class Submission:
    """The filled rows of one submission file and every fiscal year its rows name, filled or not."""

    source_file: str
    values: tuple[SubmittedValue, ...]
    fiscal_years: frozenset[int]


def is_submission_grid(grid: Grid) -> bool:
    """Return True when the grid has a submission header: KPIコード with 実績値 and 状態."""
    header = find_header(grid, ANCHOR, {label for c in COLUMNS for label in c.labels})
    if header is None:
        return False
    keys = set(header.labels.values())
    return "状態" in keys and any(k == "実績値" or k.startswith("実績値(") for k in keys)


def read_submission(grids: list[Grid]) -> Submission:
    """Read every submission sheet of a file; raise ``InputRejected`` listing every problem."""
    problems: list[InputProblem] = []
    values: list[SubmittedValue] = []
    years: set[int] = set()
    for grid in (g for g in grids if is_submission_grid(g)):
        header = find_header(grid, ANCHOR, {label for c in COLUMNS for label in c.labels})
        positions, header_problems = locate_columns(grid, header, COLUMNS)
        problems.extend(header_problems)
        if header_problems:
            continue
        for row, _ in data_rows(grid, header):
            fields, row_problems = _convert_row(grid, row, positions)
            problems.extend(row_problems)
            if row_problems:
                continue
            if fields["fiscal_year"] is not None:
                years.add(fields["fiscal_year"])
            if all(fields[name] in (None, False) for name in INPUT_COLUMNS):
                continue  # a template row left blank: reported as missing, not an error
            value, value_problems = _check_row(grid, row, positions, fields)
            problems.extend(value_problems)
            if value is not None:
                values.append(value)
    if problems:
        raise InputRejected(problems)
    file = grids[0].file
    log.info("read submission %s: %d filled rows for fiscal years %s", file, len(values),
             ", ".join(map(str, sorted(years))) or "none")
    return Submission(file, tuple(values), frozenset(years))


def _convert_row(grid: Grid, row: int, positions: dict[str, int]) -> tuple[dict, list[InputProblem]]:
    fields: dict[str, object] = {}
    problems = []
    for column in COLUMNS:
        if column.name not in positions:
            fields[column.name] = None
            continue
        position = positions[column.name]
        try:
            fields[column.name] = convert(cell_value(grid, row, position, column), column)
        except ColumnError as error:
            value = grid.cell(row, position).value
            problems.append(grid.problem(row, column_name(column, position), value, error.rule_ja, error.rule_en))
    return fields, problems


def _check_row(grid: Grid, row: int, positions: dict[str, int], fields: dict) -> tuple[SubmittedValue | None,
                                                                                      list[InputProblem]]:
    """Check the rules that join a row's cells: status against value, correction against reason."""
    problems = []

    def reject(name: str, value: object, rule_ja: str, rule_en: str) -> None:
        column = next(c for c in COLUMNS if c.name == name)
        where = column_name(column, positions[name]) if name in positions else column.label
        problems.append(grid.problem(row, where, value, rule_ja, rule_en))

    actual: Quantity | None = fields["actual"]
    status = fields["status"]
    for name, label in (("fiscal_year", "年度"), ("kpi_id", "KPIコード")):
        if fields[name] is None:
            reject(name, "", f"「{label}」が空欄です", f"{label} is empty")
    if status is None:
        reject("status", "", "「状態」が空欄です(確定・速報・未確定・後日報告から選んでください)",
               "the status is empty; choose 確定, 速報, 未確定 or 後日報告")
    elif status in ("confirmed", "provisional"):
        if actual is None or actual.value is None:
            reject("actual", actual.text if actual else "",
                   "状態が確定・速報なのに実績値(数値)がありません",
                   "the status is confirmed or provisional but the actual is not a number")
    elif actual is not None and actual.value is not None:
        reject("actual", actual.text, "状態が未確定・後日報告なのに実績値が入っています。状態を確定か速報にしてください",
               "the status is undetermined or to be reported, yet an actual is given")
    if fields["correction"] and not fields["correction_reason"]:
        reject("correction_reason", "", "「修正」には修正理由が必要です", "a correction needs a reason")
    if fields["correction_reason"] and not fields["correction"]:
        reject("correction", "", "修正理由があるのに「修正」欄が空欄です。「修正」を選んでください",
               "a correction reason is given but the correction mark (修正) is empty")
    if problems:
        return None, problems

    column = positions["actual"]
    return SubmittedValue(
        kpi_id=fields["kpi_id"],
        fiscal_year=fields["fiscal_year"],
        actual=actual,
        report_status=status,
        comment=fields["comment"],
        submitted_by=fields["submitted_by"],
        correction=bool(fields["correction"]),
        correction_reason=fields["correction_reason"],
        department=fields["department"],
        source_file=grid.file,
        source_sheet=grid.sheet,
        source_line=row,
        source_column=column,
        source_cell=cell_reference(grid, row, column),
    ), []
