"""The workbook, HTML report and CSV exports a refresh writes, checked against the DuckDB tables.

Expected values come from the Otaru table (data/raw/otaru/000_5dbc621b8e05bc0a.txt):
line numbers below are lines of that file.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from evaluation.reports.files import write_atomically
from evaluation.reports.workbook import write_workbook

PROJECT_SHEETS = [
    "(1)あずまい暮らしプロジェクト",
    "(2)樽っ子プライド育成プロジェクト",
    "(3)にぎわい再生プロジェクト",
    "(4)あんしん絆再生プロジェクト",
]
# Columns of a project sheet for FY2019 (first year FY2015): A No. .. D 施策KPI, E 基準値(H26),
# F-I H27-H30実績値, J-L H31 実績値/補正前スコア/スコア, M arrow, N 目標値(H31), O-R bands, S 目標達成.
HEADERS = [
    "No.", "事業名", "事業概要", "施策KPI", "基準値(H26)", "H27実績値", "H28実績値", "H29実績値", "H30実績値",
    "実績値", "補正前スコア", "スコア", "方向", "目標値(H31)", "基準未満", "0~50", "50~100", "100以上", "目標達成",
]
FIRST_DATA_ROW = 5
# The four published summary lines for H31 (lines 23, 53, 83, 104-105):
# evaluated/all businesses[KPIs], average, counts 基準未満 0~50 50~100 100以上 目標達成.
PUBLISHED_SUMMARIES = {
    "(1)あずまい暮らしプロジェクト": ("(集計対象 10事業[15KPI]／全 11事業[16KPI])", 63.08, [0, 6, 4, 5, 5]),
    "(2)樽っ子プライド育成プロジェクト": ("(集計対象 16事業[17KPI]／全 19事業[21KPI])", 28.60, [4, 4, 6, 3, 3]),
    "(3)にぎわい再生プロジェクト": ("(集計対象 17事業[20KPI]／全 18事業[21KPI])", 42.24, [4, 5, 6, 5, 5]),
    "(4)あんしん絆再生プロジェクト": ("(集計対象 13事業[14KPI]／全 14事業[15KPI])", -20.39, [7, 3, 4, 0, 0]),
}


@pytest.fixture(scope="module")
def reports_dir(otaru_warehouse: Path) -> Path:
    """The reports the session refresh wrote beside its DuckDB file (see conftest.refresh)."""
    return otaru_warehouse.parent / "reports"


def _summary_row(sheet) -> int:
    """Return the row of the sheet's summary line, the last row written."""
    return sheet.max_row


def _kpi_rows(sheet) -> list[tuple]:
    return [
        tuple(cell.value for cell in row)
        for row in sheet.iter_rows(min_row=FIRST_DATA_ROW, max_row=_summary_row(sheet) - 1)
    ]


def test_workbook_files_per_basis(reports_dir):
    # FY2019 has published scores, so both bases get a workbook.
    names = sorted(path.name for path in (reports_dir / "otaru-2015").glob("*.xlsx"))
    assert names == ["evaluation_FY2019_computed.xlsx", "evaluation_FY2019_published.xlsx"]


def test_workbook_layout(reports_dir):
    workbook = load_workbook(reports_dir / "otaru-2015" / "evaluation_FY2019_published.xlsx")
    assert workbook.sheetnames == PROJECT_SHEETS + ["公表値との差異"]
    sheet = workbook["(1)あずまい暮らしプロジェクト"]

    # Row 4 contains the sub-headers of the year group. Every other header is in row 3.
    headers = [sheet.cell(row=4, column=c).value or sheet.cell(row=3, column=c).value for c in range(1, 20)]
    assert headers == HEADERS
    assert sheet["J3"].value == "H31年度"  # the evaluated year spans J:L
    assert "J3:L3" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet.freeze_panes == "A5"
    assert "basis = published" in sheet["A2"].value
    # 事業概要 is capped at 44 and wraps; No. needs little room.
    # XlsxWriter stores a width of n characters as Excel does, with the cell's 5-pixel padding at
    # 7 pixels per character in 1/256 steps: int((7n + 5) / 7 * 256) / 256, so 44 -> 44.7109375.
    assert sheet.column_dimensions["C"].width == 44.7109375
    assert sheet.column_dimensions["A"].width == 5.7109375
    assert sheet["C5"].alignment.wrap_text


def test_workbook_values_keep_units(reports_dir):
    workbook = load_workbook(reports_dir / "otaru-2015" / "evaluation_FY2019_published.xlsx")
    sheet = workbook["(1)あずまい暮らしプロジェクト"]
    rows = {row[0]: FIRST_DATA_ROW + index for index, row in enumerate(_kpi_rows(sheet)) if row[0]}

    # Line 16, No.8: baseline 1,199件, H31 actual 185件, target 830件.
    snow = rows[8]
    assert sheet.cell(row=snow, column=5).value == 1199
    assert sheet.cell(row=snow, column=5).number_format == '#,##0"件"'
    assert sheet.cell(row=snow, column=10).value == 185
    assert sheet.cell(row=snow, column=14).number_format == '0"件"'
    # Line 8, No.2: H27 and H28 actuals are —, kept as text.
    assert sheet.cell(row=rows[2], column=6).value == "—"
    assert sheet.cell(row=rows[2], column=6).data_type == "s"

    project_2 = workbook["(2)樽っ子プライド育成プロジェクト"]
    # Line 29, No.12: baseline 75.85%, H31 actual 81.40%, target 90%.
    assert project_2["A5"].value == 12
    assert project_2["E5"].value == 75.85
    assert project_2["E5"].number_format == '0.00"%"'
    assert project_2["J5"].number_format == '0.00"%"'
    assert project_2["N5"].number_format == '0"%"'


def test_workbook_fy2019_matches_published_table(reports_dir):
    workbook = load_workbook(reports_dir / "otaru-2015" / "evaluation_FY2019_published.xlsx")
    sheet = workbook["(1)あずまい暮らしプロジェクト"]
    rows = {row[0]: row for row in _kpi_rows(sheet) if row[0]}

    # Line 7, No.1: 60.00 60.00 ↗ 48棟, mark ○ under 50~100.
    assert rows[1][10:14] == (60.0, 60.0, "↗", 48)
    assert rows[1][14:19] == (None, None, "○", None, None)
    # Line 10, No.4 is excluded: — in both scores and in every band column.
    assert rows[4][10:12] == ("—", "—")
    assert rows[4][14:19] == ("—",) * 5
    # Line 11, No.5: raw 129.17, clamped to 100.00, ◎ and ☆.
    assert rows[5][10:12] == (129.17, 100.0)
    assert rows[5][14:19] == (None, None, None, "◎", "☆")
    # Line 15, 007-2 as published: 30.00 (recomputing gives 6.00).
    second_kpi_of_7 = _kpi_rows(sheet)[8]
    assert second_kpi_of_7[3] == "特定空家等で除却・解体以外では正された件数"
    assert second_kpi_of_7[10:12] == (30.0, 30.0)

    for name, (label, average, counts) in PUBLISHED_SUMMARIES.items():
        project = workbook[name]
        row = _summary_row(project)
        assert project.cell(row=row, column=1).value == label, name
        assert project.cell(row=row, column=11).value == "平均スコア", name
        assert project.cell(row=row, column=12).value == average, name
        assert [project.cell(row=row, column=c).value for c in range(15, 20)] == counts, name


def test_workbook_computed_matches_kpi_score(reports_dir, otaru_warehouse):
    workbook = load_workbook(reports_dir / "otaru-2015" / "evaluation_FY2019_computed.xlsx")
    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        expected = connection.execute(
            """
            select kpi.project_no, kpi.kpi_name,
                case when kpi.evaluated and kpi_score.score is not null then kpi_score.raw_score end,
                case when kpi.evaluated and kpi_score.score is not null then kpi_score.score end
            from kpi
            left join kpi_score
                on kpi.strategy_id = kpi_score.strategy_id and kpi.kpi_id = kpi_score.kpi_id
                and kpi_score.fiscal_year = 2019
            order by kpi.project_no, kpi.business_no, kpi.kpi_seq
            """
        ).fetchall()
        averages = dict(
            connection.execute(
                "select project_no, average_score from project_summary "
                "where fiscal_year = 2019 and basis = 'computed'"
            ).fetchall()
        )

    shown = []
    for number, name in enumerate(PROJECT_SHEETS, start=1):
        sheet = workbook[name]
        shown += [(number, row[3], row[10], row[11]) for row in _kpi_rows(sheet)]
        assert sheet.cell(row=_summary_row(sheet), column=12).value == float(averages[number])
    as_sheet = [
        (project, kpi_name, "—" if raw is None else float(raw), "—" if score is None else float(score))
        for project, kpi_name, raw, score in expected
    ]
    assert shown == as_sheet
    # The recomputed averages differ from the published ones in (1) and (4).
    assert float(averages[1]) == 61.48
    assert float(averages[4]) == -19.49


def test_discrepancy_sheet_from_table(reports_dir):
    workbook = load_workbook(reports_dir / "otaru-2015" / "evaluation_FY2019_published.xlsx")
    sheet = workbook["公表値との差異"]
    assert "score_discrepancy" in sheet["A2"].value
    # the note names every kind of row the table lists, not only score differences: 004-1 below has no published score
    assert "公表スコアがない" in sheet["A2"].value
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=4)]
    # 004-1 (line 10): excluded in strategy.toml, so no published score.
    # 007-2 (line 15): published 30.00, recomputed (3-0)/(50-0)x100 = 6.00.
    # 059-1 (line 100): published 86.67, recomputed 151/152x100 = 99.34.
    assert [row[5] for row in rows] == ["004-1", "007-2", "007-2", "059-1", "059-1"]
    assert rows[1][8:11] == (30.0, 6.0, -24.0)
    assert rows[3][8:11] == (86.67, 99.34, 12.67)


def test_discrepancy_sheet_prefers_table(otaru_warehouse, tmp_path):
    copy = tmp_path / "kpi.duckdb"
    shutil.copyfile(otaru_warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        # A made-up row, so the sheet can only have it from score_discrepancy.
        connection.execute(
            "create or replace table score_discrepancy as select 'otaru-2015' as strategy_id, '001-1' as kpi_id, "
            "2019 as fiscal_year, 61.00::decimal(18, 2) as published_raw_score, 60.00::decimal(18, 2) as raw_score"
        )
    with duckdb.connect(str(copy), read_only=True) as connection:
        result = write_workbook(connection, "otaru-2015", 2019, "computed", tmp_path / "book.xlsx")
    assert result.discrepancy_source == "score_discrepancy"
    sheet = load_workbook(tmp_path / "book.xlsx")["公表値との差異"]
    headers = [cell.value for cell in sheet[3]]
    assert headers == ["事業No.", "事業名", "施策KPI", "KPI ID", "年度", "公表 補正前スコア", "補正前スコア"]
    assert [cell.value for cell in sheet[4]] == [1, "市営住宅改善・建替事業", "市営住宅の改善・建替の実施棟数",
                                                 "001-1", 2019, 61.0, 60.0]


def _read_csv(path: Path, encoding: str) -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_csv_project_summary(reports_dir, otaru_warehouse):
    japanese = reports_dir / "csv" / "project_summary.ja.csv"
    english = reports_dir / "csv" / "project_summary.csv"
    assert japanese.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not english.read_bytes().startswith(b"\xef\xbb\xbf")

    japanese_rows = _read_csv(japanese, "utf-8-sig")
    english_rows = _read_csv(english, "utf-8")
    assert japanese_rows[0][:4] == ["戦略ID", "プロジェクトNo.", "プロジェクト名", "年度"]
    assert "平均スコア" in japanese_rows[0]
    assert japanese_rows[1:] == english_rows[1:]

    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        result = connection.execute(
            "select * from project_summary order by strategy_id, project_no, fiscal_year, basis"
        )
        columns = [description[0] for description in result.description]
        expected = result.fetchall()
    assert english_rows[0] == columns
    assert len(english_rows) - 1 == len(expected) == 24  # 4 projects x (5 computed years + 1 published)
    average = columns.index("average_score")
    assert [row[average] for row in english_rows[1:]] == [str(row[average]) for row in expected]

    published_2019 = {
        row[1]: row[average] for row in english_rows[1:] if row[3] == "2019" and row[4] == "published"
    }
    # The published lines; a negative average stays a plain number, with no apostrophe.
    assert published_2019 == {"1": "63.08", "2": "28.60", "3": "42.24", "4": "-20.39"}


def test_csv_kpi_score(reports_dir, otaru_warehouse):
    rows = _read_csv(reports_dir / "csv" / "kpi_score.csv", "utf-8")
    header = rows[0]
    by_key = {(row[header.index("kpi_id")], row[header.index("fiscal_year")]): row for row in rows[1:]}
    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        count = connection.execute("select count(*) from kpi_score").fetchone()[0]
    assert len(by_key) == count == 337  # every reported actual value is scored
    # 004-1 (line 10): (1-5)/(6-5)x100 = -400.00, clamped -100.00, not evaluated.
    row = by_key[("004-1", "2019")]
    assert row[header.index("raw_score")] == "-400.00"
    assert row[header.index("score")] == "-100.00"
    assert row[header.index("evaluated")] == "false"
    japanese_header = _read_csv(reports_dir / "csv" / "kpi_score.ja.csv", "utf-8-sig")[0]
    assert japanese_header[header.index("raw_score")] == "補正前スコア"


def test_csv_export_quoting_matches_csv_module(tmp_path, monkeypatch):
    from evaluation.reports import csv_export

    monkeypatch.setitem(csv_export.EXPORTED_TABLES, "odd_text", "id")
    connection = duckdb.connect()
    connection.execute("create table odd_text (id integer, text varchar, amount decimal(5, 2), flag boolean)")
    connection.executemany("insert into odd_text values (?, ?, ?, ?)", [
        (1, "a,b", Decimal("1.50"), True),
        (2, 'say "hi"', None, False),
        (3, "two\r\nlines", Decimal("-0.10"), None),
        (4, "", Decimal("63.08"), True),
        (5, None, None, None),
        (6, "=1+2", Decimal("0.00"), False),
    ])

    export = csv_export.export_table(connection, "odd_text", tmp_path)

    # What Python's csv module writes for these rows: CRLF line ends, quotes only around a comma, a quote or a
    # line break, an empty field for both NULL and "", the decimal's scale kept, and the formula prefix (').
    expected = (
        'id,text,amount,flag\r\n'
        '1,"a,b",1.50,true\r\n'
        '2,"say ""hi""",,false\r\n'
        '3,"two\r\nlines",-0.10,\r\n'
        '4,,63.08,true\r\n'
        '5,,,\r\n'
        "6,'=1+2,0.00,false\r\n"
    )
    assert export.rows == 6
    assert export.english_path.read_bytes() == expected.encode("utf-8")
    # The Japanese file has the same rows after a byte order mark; these columns have no Japanese label.
    assert export.japanese_path.read_bytes() == b"\xef\xbb\xbf" + expected.encode("utf-8")
    assert [path.name for path in (tmp_path / "csv").iterdir() if path.name.startswith(".")] == []


def test_csv_japanese_header_every_column(reports_dir, otaru_warehouse):
    from evaluation.columns import TABLE_COLUMNS
    from evaluation.reports.csv_export import EXPORTED_TABLES
    from evaluation.reports.labels import COLUMN_LABELS_JA

    # Every column of an exported table, as docs/data-model.md lists it and as the file has it.
    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        for table in EXPORTED_TABLES:
            present = [row[0] for row in connection.execute(f"describe {table}").fetchall()]
            documented = [column.name for column in TABLE_COLUMNS[table]]
            assert [column for column in documented + present if column not in COLUMN_LABELS_JA] == [], table

    # A header equal to its English column name is one that fell back to English.
    for table in EXPORTED_TABLES:
        japanese = _read_csv(reports_dir / "csv" / f"{table}.ja.csv", "utf-8-sig")[0]
        english = _read_csv(reports_dir / "csv" / f"{table}.csv", "utf-8")[0]
        assert len(japanese) == len(english), table
        assert [name for name, header in zip(english, japanese, strict=True) if name == header] == [], table


def test_html_report_content(reports_dir, otaru_warehouse):
    page = (reports_dir / "otaru-2015" / "report.html").read_text(encoding="utf-8")
    # 3 charts in each of the 4 projects, all embedded.
    assert page.count('src="data:image/svg+xml;base64,') == 12
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert "default-src 'none'" in page
    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        below = connection.execute(
            "select count(*) from kpi_score where fiscal_year = 2019 and evaluated "
            "and score is not null and not target_achieved"
        ).fetchone()[0]
        warned, warned_projects = connection.execute(
            "select count(*), count(distinct kpi.project_no)"
            " from kpi_outlook inner join kpi using (strategy_id, kpi_id)"
            " where as_of_fiscal_year = 2019 and kpi_outlook.evaluated and outlook_status in ('behind', 'unlikely')"
        ).fetchone()
    # One table row per KPI below target, plus one header row per project table,
    # plus the discrepancy table (a header row and the 5 rows of score_discrepancy),
    # plus one row per KPI behind or unlikely in the early-warning tables and a header row for each.
    assert page.count("<tr>") == below + 4 + 6 + warned + warned_projects
    assert "見通し(早期警戒)" in page
    assert "(1)あずまい暮らしプロジェクト" in page


def test_write_atomically_keeps_old_file(tmp_path):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")

    def fail_halfway(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, fail_halfway)
    assert target.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["book.xlsx"]


def test_cli_prints_report_paths(tmp_path, monkeypatch, capsys, otaru_raw_dir):
    from pipelines import cli

    monkeypatch.setenv("KPI_RAW_DIR", str(otaru_raw_dir))
    monkeypatch.setenv("KPI_WAREHOUSE", str(tmp_path / "warehouse" / "kpi.duckdb"))
    monkeypatch.setenv("KPI_REPORTS_DIR", str(tmp_path / "reports"))
    assert cli.main(["run"]) == 0

    output = capsys.readouterr().out
    for relative in (
        "otaru-2015/evaluation_FY2019_published.xlsx",
        "otaru-2015/evaluation_FY2019_computed.xlsx",
        "otaru-2015/report.html",
        "csv/project_summary.ja.csv",
        "csv/project_summary.csv",
        "csv/kpi_score.ja.csv",
    ):
        path = tmp_path / "reports" / relative
        assert f": {path}" in output, relative
        assert path.exists(), relative


def test_decimal_scores_stay_exact(reports_dir):
    # 28.60 keeps its trailing zero in the CSV, as printed on line 53.
    rows = _read_csv(reports_dir / "csv" / "published_summary.csv", "utf-8")
    header = rows[0]
    averages = [Decimal(row[header.index("average_score")]) for row in rows[1:]]
    assert [row[header.index("average_score")] for row in rows[1:]] == ["63.08", "28.60", "42.24", "-20.39"]
    assert sum(averages) == Decimal("113.53")  # 63.08 + 28.60 + 42.24 - 20.39


REPORT_MODULES_PROBE = """
import importlib, json, pkgutil, sys
import evaluation.reports
for module in pkgutil.iter_modules(evaluation.reports.__path__):
    importlib.import_module(f"evaluation.reports.{module.name}")
import assets.reports.csv_exports, assets.reports.strategy_reports
print(json.dumps([name for name in ("pandas", "openpyxl", "xlsxwriter", "matplotlib") if name in sys.modules]))
"""


def test_report_modules_import_no_heavy_libraries():
    # openpyxl, XlsxWriter, matplotlib and pandas load inside the functions that use them, so loading the
    # definitions stays fast.
    completed = subprocess.run(
        [sys.executable, "-c", REPORT_MODULES_PROBE], cwd=Path(__file__).resolve().parent.parent,
        capture_output=True, text=True, check=True,
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []


def test_score_axis_widens_past_clamp():
    from evaluation.reports.charts import score_range

    # Otaru clamps scores to -100..100, so its axis stays there.
    assert score_range([42.51, -20.39]) == (-100, 100)
    # A method without a clamp: a KPI at 9,990 against a target of 1,300 scores 768 and must stay on the chart.
    assert score_range([768.0, 90.0]) == (-100, 768.0)
    assert score_range([-250.0]) == (-250.0, 100)


def test_average_chart_spreads_years_with_one_score():
    from evaluation.reports.charts import average_score_chart

    # One scored year of five: every year's tick label is still drawn, each at its own position.
    svg = average_score_chart([2020, 2021, 2022, 2023, 2024], [None, Decimal("36.89"), None, None, None], {})
    ticks = [float(x) for x in re.findall(r'<g id="xtick_\d+">\s*<g id="line2d_\d+">.*?x="([0-9.]+)"', svg, re.S)]
    assert len(ticks) == 5
    # a label such as "R2\n(FY2020)" is about 45 points wide; matplotlib's own limits put them 1.6 points apart
    assert min(b - a for a, b in zip(ticks, ticks[1:], strict=False)) > 50


def test_html_outlook_values_written_like_target(reports_dir):
    page = (reports_dir / "otaru-2015" / "report.html").read_text(encoding="utf-8")
    # 001-1, 18棟 (H26) to 48棟 (H31), actuals 21, 27, 31, 34, 36棟 in H27-H31: the straight path is 48 in
    # the target year, and the least-squares line through the actuals (slope 3.7, mean 29.8 at H29) gives
    # 29.8 + 2 x 3.7 = 37.2, written as the target writes its number: no decimals, unit 棟
    assert ("<td>市営住宅の改善・建替の実施棟数</td><td>達成困難</td><td>36棟</td><td>48棟</td><td>37棟</td>"
            "<td>48棟</td>") in page
    assert "37.200000" not in page
