"""Names that start like a formula stay text in the workbook and the CSVs, and negative numbers stay numbers.

Control characters in text printed on the command line become U+FFFD.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from evaluation.reports.safety import csv_safe, starts_like_formula, terminal_safe
from evaluation.reports.workbook import _SheetWriter, _Styles
from tests.conftest import OTARU_DIR, OTARU_TABLE, refresh

# (line of the Otaru table, cell index, new name). Lines 7 and 9 are No.1 and No.3.
RENAMES = [
    (7, 1, '=HYPERLINK("http://example.invalid","住宅")'),
    (7, 3, "+市営住宅の実施棟数"),
    (9, 1, "-住宅エコリフォーム"),
    (9, 3, "@助成件数"),
]


@pytest.fixture(scope="module")
def formula_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reports of the Otaru table with business and KPI names that start like formulas."""
    raw = tmp_path_factory.mktemp("formula-raw") / "otaru"
    raw.mkdir()
    shutil.copyfile(OTARU_DIR / "strategy.toml", raw / "strategy.toml")
    lines = OTARU_TABLE.read_text(encoding="utf-8").split("\n")
    for line_no, index, name in RENAMES:
        cells = lines[line_no - 1].split("\t")
        cells[index] = name
        lines[line_no - 1] = "\t".join(cells)
    (raw / OTARU_TABLE.name).write_text("\n".join(lines), encoding="utf-8")

    warehouse = tmp_path_factory.mktemp("formula-warehouse") / "kpi.duckdb"
    refresh(raw.parent, warehouse)
    return warehouse.parent / "reports"


@pytest.mark.parametrize(
    "text", ["=1+2", "+81", "-5", "@SUM(A1)", "\tname", "\rname", "＝1", "＋1", "－1", "＠A"]
)
def test_formula_prefixes_detected(text):
    assert starts_like_formula(text)
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["市営住宅", "1,199件", "—", -20.39, 0])
def test_plain_values_unchanged(value):
    assert csv_safe(value) == value


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("小樽市\x1b[2J戦略", "小樽市\ufffd[2J戦略"),  # ESC [2J clears the screen
        ("\x1b]0;title\x07", "\ufffd]0;title\ufffd"),  # OSC 0 sets the window title, ended by BEL
        ("\x9b31m", "\ufffd31m"),  # U+009B is CSI in one character
        ("偽\r本物", "偽\ufffd本物"),  # CR returns to the start of the line
        ("1行目\n2行目", "1行目\ufffd2行目"),  # a line feed would start a line that looks like output
        ("\x00\x7f", "\ufffd\ufffd"),  # NUL and DEL
    ],
)
def test_terminal_controls_replaced(text, shown):
    assert terminal_safe(text) == shown


@pytest.mark.parametrize("text", ["事業名\t事業概要", "①髙橋 1,199件 —", "行\u2028区切り"])
def test_terminal_text_unchanged(text):
    # the tab and every character that is no control character (U+2028 is category Zl, not Cc) stay
    assert terminal_safe(text) == text


def test_workbook_names_stay_text(formula_reports):
    for basis in ("computed", "published"):
        workbook = load_workbook(formula_reports / "otaru-2015" / f"evaluation_FY2019_{basis}.xlsx")
        sheet = workbook["(1)あずまい暮らしプロジェクト"]
        # Rows 5 and 7 are No.1 and No.3; B is 事業名 and D is 施策KPI.
        for coordinate, name in (("B5", RENAMES[0][2]), ("D5", RENAMES[1][2]), ("B7", RENAMES[2][2]),
                                 ("D7", RENAMES[3][2])):
            cell = sheet[coordinate]
            assert cell.value == name, coordinate
            assert cell.data_type == "s", coordinate
            assert cell.quotePrefix, coordinate
        # No.61 (line 101): (10-13)/(16-13)x100 = -100.00 stays a number.
        project_4 = workbook["(4)あんしん絆再生プロジェクト"]
        row = next(r for r in project_4.iter_rows(min_row=5) if r[0].value == 61)
        assert row[10].value == -100
        assert row[10].data_type == "n"


def test_csv_names_prefixed(formula_reports):
    for name, encoding in (("kpi.csv", "utf-8"), ("kpi.ja.csv", "utf-8-sig")):
        with open(formula_reports / "csv" / name, encoding=encoding, newline="") as handle:
            rows = list(csv.reader(handle))
        by_id = {row[1]: row for row in rows[1:]}
        # business_name and kpi_name: columns 6 and 9 of table kpi (sql/normalized/kpi.sql)
        business, kpi_name = 5, 8
        assert by_id["001-1"][business] == "'" + RENAMES[0][2]
        assert by_id["001-1"][kpi_name] == "'" + RENAMES[1][2]
        assert by_id["003-1"][business] == "'" + RENAMES[2][2]
        assert by_id["003-1"][kpi_name] == "'" + RENAMES[3][2]
        # An ordinary name is left alone.
        assert by_id["002-1"][business] == "既存借上公営住宅事業"

    with open(formula_reports / "csv" / "published_summary.csv", encoding="utf-8", newline="") as handle:
        averages = [row[7] for row in list(csv.reader(handle))[1:]]
    # Line 104: -20.39 is a number and keeps its minus sign without an apostrophe.
    assert averages == ["63.08", "28.60", "42.24", "-20.39"]


def unescape_ooxml(text: str) -> str:
    """Undo the _xHHHH_ escapes of an OOXML string, as Excel does on reading."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match.group(1), 16)), text)


def test_writer_tab_and_full_width_names(tmp_path):
    # A tab or CR cannot reach the workbook through the tab-separated table, so the writer is tested directly.
    workbook = xlsxwriter.Workbook(str(tmp_path / "names.xlsx"))
    writer = _SheetWriter(workbook.add_worksheet("names"), _Styles(workbook, tmp_path / "names.xlsx"))
    names = ["\t=1+2", "\r@A1", "＝SUM(A1)", "#N/A", "=A1"]
    for row, name in enumerate(names, start=1):
        assert writer.text(row, 1, name).value == name
    writer.write()
    workbook.close()

    sheet = load_workbook(tmp_path / "names.xlsx")["names"]
    for row, name in enumerate(names, start=1):
        # Each one a string cell holding the text as given, not a formula or an error value. XlsxWriter
        # stores the CR as the OOXML escape _x000D_, which Excel reads back as CR and openpyxl leaves as is.
        cell = sheet.cell(row=row, column=1)
        assert (unescape_ooxml(cell.value), cell.data_type) == (name, "s")
    assert sheet["A1"].quotePrefix
    assert not sheet["A4"].quotePrefix  # "#N/A" is no formula, only kept from becoming an error value


def test_writer_long_text_cut_with_warning(tmp_path, caplog):
    # An Excel cell can contain at most 32,767 characters, and a row can be at most 409 points high.
    workbook = xlsxwriter.Workbook(str(tmp_path / "long.xlsx"))
    writer = _SheetWriter(workbook.add_worksheet("long"), _Styles(workbook, tmp_path / "long.xlsx"))
    writer.text(5, 4, "長" * 40_000)
    writer.column_widths[4] = 36
    writer.fit_wrapped_rows(range(5, 6), (4,))
    with caplog.at_level("WARNING", logger="evaluation.reports.workbook"):
        writer.write()
    workbook.close()

    # 40,000 full-width characters in a 36-wide column: 80,000 / 35 = 2,286 lines of 15 pt, capped at 409.
    assert writer.row_heights[5] == 409
    sheet = load_workbook(tmp_path / "long.xlsx")["long"]
    assert len(sheet["D5"].value) == 32_767
    # XlsxWriter stores heights in whole pixels (4/3 per point): int(409 * 4 / 3) = 545 px = 408.75 pt.
    assert sheet.row_dimensions[5].height == 408.75
    (record,) = caplog.records
    assert "40000 文字" in record.getMessage()
    assert f"{tmp_path / 'long.xlsx'}, sheet long, row 5, column 4: text of 40000 characters is cut to the 32767" \
        in record.getMessage()
