"""Findings of a validation run: one failing row of one rule, worded for the staff who fix it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evaluation.problems import InputProblem
from evaluation.validation.rules import Rule, Severity
from evaluation.warehouse import read_sql

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Finding:
    """One row that breaks one rule; ``problem`` carries the place, value and message."""

    check_name: str
    severity: Severity
    table: str
    record_key: str
    problem: InputProblem
    source_file: str | None = None  # the file alone; the problem's source_file adds the sheet

    @property
    def message(self) -> str:
        return self.problem.message


class _Blank(dict):
    """Format mapping that shows a missing or null column as an em dash."""

    def __missing__(self, key: str) -> str:
        return "—"


def _clean(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return value


def _column(text: str) -> int | str | None:
    if text in ("", "—", "None"):
        return None
    return int(text) if text.isdigit() else text


def finding_for(rule: Rule, row: Mapping[str, object]) -> Finding:
    """Word the finding of ``rule`` for one failing frame row (its columns as Python values)."""
    fields = _Blank({key: _clean(value) for key, value in row.items()})
    line = row.get("source_line")
    source_file = str(fields["source_file"])
    sheet = row.get("source_sheet")
    # a workbook cell is named as intake names it: "t/a.xlsx [実績報告]"
    shown_file = f"{source_file} [{sheet}]" if isinstance(sheet, str) and sheet else source_file
    problem = InputProblem(
        source_file=shown_file,
        line=None if line is None else int(line),
        column=_column(rule.column.format_map(fields)),
        value=rule.value.format_map(fields),
        rule_ja=rule.message_ja.format_map(fields),
        rule_en=rule.message_en.format_map(fields),
        severity=rule.severity.value,
    )
    return Finding(rule.name, rule.severity, str(fields["table"]), str(fields["record_key"]), problem, source_file)


def write_findings(
    connection: duckdb.DuckDBPyConnection, run_id: str, check_names: list[str], findings: list[Finding]
) -> int:
    """Replace the rows of ``check_names`` in validation_result with ``findings``; return the count."""
    connection.execute(read_sql("validated/validation_result.sql"))
    rows = [
        {
            "run_id": run_id,
            "check_name": finding.check_name,
            "severity": finding.severity.value,
            "table_name": finding.table,
            "record_key": finding.record_key,
            "source_file": finding.source_file or finding.problem.source_file,
            "source_line": finding.problem.line,
            "source_column": None if finding.problem.column is None else str(finding.problem.column),
            "value": finding.problem.value,
            "message": finding.message,
        }
        for finding in findings
    ]
    connection.execute("begin transaction")
    try:
        connection.execute("delete from validation_result where check_name in (select unnest(?))", [check_names])
        if rows:
            # one list parameter per column, unnested: no pandas frame of Python objects in between
            names = list(rows[0])
            selects = ", ".join(f'unnest(${number}) as "{name}"' for number, name in enumerate(names, start=1))
            connection.execute(f"insert into validation_result by name select {selects}",
                               [[row[name] for row in rows] for name in names])
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return len(rows)
