"""Hostile input: every fault gets a Japanese and English message naming its place, and nothing crashes.

The inputs are small and made in each test: a CSV KPI master of two KPIs (the
same rows as tests/test_intake.py) and a submission or setting that breaks one
rule.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from evaluation.problems import InputRejected
from tests.conftest import refresh
from tests.test_intake import MASTER_ROWS, SUBMISSION_HEADER, intake, make_strategy


def _check_messages(outcome, check_name: str) -> list[str]:
    return [
        line
        for evaluation in outcome.get_asset_check_evaluations()
        if evaluation.check_name == check_name and not evaluation.passed
        for line in evaluation.metadata["messages"].text.splitlines()
    ]


# -- value checks name the submission, not the master ---------------------------------------


def test_value_check_names_submission_sheet(tmp_path):
    from openpyxl import Workbook

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "報告"
    sheet.append(SUBMISSION_HEADER.split(","))
    sheet.append([2020, "0201", 105, "確定", "", "山田"])  # 理解度 is a % KPI: 105 is out of range
    workbook.save(raw / "t" / "a.xlsx")

    outcome = refresh(raw, tmp_path / "out" / "kpi.duckdb", raise_on_error=False)
    messages = _check_messages(outcome, "percent_in_range")
    # the value sits in row 2, column 3 (実績値) of sheet 報告 of a.xlsx
    assert len(messages) == 1
    # value_text shows the number in the KPI's unit, as intake stores it
    assert messages[0].startswith("t/a.xlsx [報告] 2行目 3列目: 値「105%」")
    assert "master.csv" not in messages[0]


def test_value_warning_stores_submission_file(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n",
    })
    warehouse = tmp_path / "out" / "kpi.duckdb"
    assert refresh(raw, warehouse).success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select check_name, source_file, source_line, source_column from validation_result "
            "where table_name = 'kpi_value'"
        ).fetchall()
    # "12" in a.csv line 2, column 3 has no unit: read as 棟, the KPI's unit
    assert rows == [("unit_missing", "t/a.csv", 2, "3")]
