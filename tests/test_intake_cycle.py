"""A full yearly cycle on the Otaru data: master from the published table, FY2020 templates, submissions, refresh.

The three departments' files are made the way offices make them. One is a
filled template (xlsx). One is a workbook of the office's own, with a merged
two-row header, a percent-formatted cell, blank rows and a note. One is a CSV
file saved from Excel on Windows (CP932, full-width digits, ① and 髙).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.intake.commands import generate_master, generate_templates
from tests.conftest import refresh

# Departments by project, as the planning office would fill the master's 担当課 column.
DEPARTMENTS = {1: "建設部", 2: "教育部", 3: "産業港湾部", 4: "福祉部"}
DEPARTMENT_COLUMN = 17  # Q: 担当課 in the generated master


def extend_period_and_drop_exclusions(strategy_dir: Path) -> None:
    """Edit strategy.toml as staff do for the second year: period to FY2020, exclusions moved to the master."""
    path = strategy_dir / "strategy.toml"
    text = path.read_text(encoding="utf-8")
    text = text[: text.index("[[exclusions]]")]
    path.write_text(text.replace("last_fiscal_year = 2019", "last_fiscal_year = 2020"), encoding="utf-8")


def assign_departments(master: Path) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(master)
    sheet = workbook["KPI"]
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, DEPARTMENT_COLUMN).value = DEPARTMENTS[sheet.cell(row, 1).value]
    workbook.save(master)


def fill_template(template: Path, target: Path, values: dict[str, tuple[object, str]]) -> None:
    """Fill a template's input cells by KPI code: {code: (actual, status)}."""
    from openpyxl import load_workbook

    workbook = load_workbook(template)
    sheet = workbook["実績報告"]
    labels = {sheet.cell(4, c).value: c for c in range(1, sheet.max_column + 1)}
    for row in range(5, sheet.max_row + 1):
        code = sheet.cell(row, 3).value
        if code in values:
            actual, status = values[code]
            sheet.cell(row, labels["実績値"]).value = actual
            sheet.cell(row, labels["状態"]).value = status
            sheet.cell(row, labels["要因分析"]).value = "建替計画の前倒し"
            sheet.cell(row, labels["提出者"]).value = "建築住宅課 山田"
    workbook.save(target)


def write_office_workbook(path: Path) -> None:
    """教育部's own workbook: title, merged two-row header, a percent cell, a text percent, blank rows, a note."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "R2実績"
    sheet["A1"] = "令和2年度 KPI 実績(教育部)"
    for column, label in enumerate(("年度", "KPIコード", "KPI名"), start=1):
        sheet.cell(3, column, label)
        sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
    sheet.cell(3, 4, "令和2年度の報告")
    sheet.merge_cells("D3:H3")
    for column, label in enumerate(("実績値", "状態", "要因分析(コメント)", "提出者", "修正"), start=4):
        sheet.cell(4, column, label)
    sheet.append([])  # a blank row inside the table
    sheet.append(["R2", "012-1", "授業がよくわかると答えた児童の割合", 0.8225, "確定", "ICT 支援員の配置", "学校教育課"])
    sheet["D6"].number_format = "0.00%"  # shown as 82.25%
    sheet.append(["2020", "012-2", "授業がよくわかると答えた生徒の割合", "71.5%", "確定", None, "学校教育課"])
    sheet.append([])
    sheet.append(["※ 数値は学力・学習状況調査による。"])
    workbook.save(path)


def write_cp932_csv(path: Path) -> None:
    """福祉部's CSV as Excel on Windows saves it: CP932, full-width digits, ① and 髙."""
    lines = [
        "年度,KPIコード,KPI名,実績値,状態,要因分析,提出者,修正,修正理由",
        "令和2年度,056-1,防災体制整備率,７５．０％,確定,①訓練の実施,髙橋,,",
        "2020,054-1,消防団員数,４９０人,速報,,髙橋,,",
        "2020,055-1,普通救命講習会の講習受講者数,,後日報告,講習会の集計中,髙橋,,",
        "",
    ]
    path.write_bytes("\r\n".join(lines).encode("cp932"))


@pytest.fixture
def cycle_warehouse(otaru_raw_dir: Path, tmp_path: Path) -> Path:
    """Run the cycle: master, templates for FY2020, three departments' files, refresh."""
    strategy_dir = otaru_raw_dir / "otaru"
    templates = tmp_path / "templates"
    # The master is generated before strategy.toml loses its exclusions: they move into it.
    master = generate_master(strategy_dir, strategy_dir / "kpi_master.xlsx", templates)
    extend_period_and_drop_exclusions(strategy_dir)
    assign_departments(master)
    # The master's 「戦略」 sheet repeats the period; it must match strategy.toml.
    from openpyxl import load_workbook

    workbook = load_workbook(master)
    workbook["戦略"]["B6"] = 2020
    workbook.save(master)

    written = generate_templates(otaru_raw_dir, 2020, templates)
    assert sorted(p.name for p in written) == sorted(f"otaru-2015_2020_{d}.xlsx" for d in DEPARTMENTS.values())

    inbox = strategy_dir / "2020"
    inbox.mkdir()
    fill_template(templates / "otaru-2015_2020_建設部.xlsx", inbox / "建設部_提出.xlsx",
                  {"001-1": (42, "確定"), "005-1": ("７６件", "確定"), "006-1": (150, "確定")})
    write_office_workbook(inbox / "教育部 R2.xlsx")
    write_cp932_csv(inbox / "fukushi.csv")

    warehouse = tmp_path / "cycle.duckdb"
    refresh(otaru_raw_dir, warehouse)
    return warehouse


def test_cycle_scores_fy2020(cycle_warehouse: Path):
    with duckdb.connect(str(cycle_warehouse), read_only=True) as connection:
        scores = dict(connection.execute(
            "select kpi_id, score from kpi_score where fiscal_year = 2020 order by kpi_id").fetchall())
        raw_006 = connection.execute(
            "select raw_score from kpi_score where kpi_id = '006-1' and fiscal_year = 2020").fetchone()[0]
    # 001-1: (42 - 18) / (48 - 18) x 100 = 80.00 (baseline 18棟, target 48棟)
    assert scores["001-1"] == Decimal("80.00")
    # 005-1: (76 - 52) / (100 - 52) x 100 = 50.00, from the full-width text "７６件"
    assert scores["005-1"] == Decimal("50.00")
    # 006-1 (↘): (150 - 213) / (180 - 213) x 100 = 190.909... -> raw 190.91, clamped to 100.00
    assert raw_006 == Decimal("190.91")
    assert scores["006-1"] == Decimal("100.00")
    # 012-1: percent cell 0.8225 -> 82.25; (82.25 - 75.85) / (90 - 75.85) x 100 = 45.229... -> 45.23
    assert scores["012-1"] == Decimal("45.23")
    # 012-2: text "71.5%"; (71.5 - 67.85) / (80 - 67.85) x 100 = 30.041... -> 30.04
    assert scores["012-2"] == Decimal("30.04")
    # 056-1: "７５．０％"; (75 - 38) / (100 - 38) x 100 = 59.677... -> 59.68
    assert scores["056-1"] == Decimal("59.68")
    # 054-1: "４９０人" (速報, scored as reported); (490 - 485) / (494 - 485) x 100 = 55.555... -> 55.56
    assert scores["054-1"] == Decimal("55.56")
    # 055-1 is 後日報告: no score; nothing else was submitted
    assert set(scores) == {"001-1", "005-1", "006-1", "012-1", "012-2", "056-1", "054-1"}


def test_cycle_summarizes_fy2020(cycle_warehouse: Path):
    with duckdb.connect(str(cycle_warehouse), read_only=True) as connection:
        rows = connection.execute(
            """
            select project_no, businesses_evaluated, kpis_evaluated, average_score,
                   band_50_100_count, band_100_plus_count, target_achieved_count
            from project_summary
            where fiscal_year = 2020 and basis = 'computed'
            order by project_no
            """
        ).fetchall()
    # (1): (80.00 + 50.00 + 100.00) / 3 = 76.666... -> 76.67; raw 80 and 50 in 50~100, 190.91 in 100以上
    assert rows[0] == (1, 3, 3, Decimal("76.67"), 2, 1, 1)
    # (2): both KPIs belong to business 12; (45.23 + 30.04) / 2 = 37.635 -> 37.64 (half up)
    assert rows[1] == (2, 1, 2, Decimal("37.64"), 0, 0, 0)
    # (3): nothing submitted, so no evaluated KPI and no average
    assert rows[2] == (3, 0, 0, None, 0, 0, 0)
    # (4): (59.68 + 55.56) / 2 = 57.62
    assert rows[3] == (4, 2, 2, Decimal("57.62"), 2, 0, 0)


def test_cycle_keeps_earlier_years(cycle_warehouse: Path, otaru_warehouse: Path):
    queries = {
        "kpi_score": "select * exclude (fiscal_year), fiscal_year from kpi_score where fiscal_year <= 2019"
                     " order by kpi_id, fiscal_year",
        "project_summary": "select * from project_summary where fiscal_year <= 2019"
                           " order by project_no, fiscal_year, basis",
    }
    for table, query in queries.items():
        with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
            before = connection.execute(query).fetchall()
        with duckdb.connect(str(cycle_warehouse), read_only=True) as connection:
            after = connection.execute(query).fetchall()
        assert len(before) > 0, table
        assert after == before, table


def test_cycle_keeps_published_fy2019_figures(cycle_warehouse: Path):
    with duckdb.connect(str(cycle_warehouse), read_only=True) as connection:
        averages = [row[0] for row in connection.execute(
            "select average_score from project_summary where fiscal_year = 2019 and basis = 'published'"
            " order by project_no").fetchall()]
    # The four project lines of the published FY2019 table.
    assert averages == [Decimal("63.08"), Decimal("28.60"), Decimal("42.24"), Decimal("-20.39")]


def test_cycle_reports_missing_per_department(cycle_warehouse: Path):
    with duckdb.connect(str(cycle_warehouse), read_only=True) as connection:
        counts = dict(connection.execute(
            """
            select department, count(*) filter (where submission_state = 'missing')
            from submission_status
            where fiscal_year = 2020
            group by department
            """
        ).fetchall())
        states = dict(connection.execute(
            "select kpi_id, submission_state from submission_status where kpi_id in ('054-1', '055-1', '056-1')"
        ).fetchall())
    # 建設部 has 16 KPIs (project 1) and sent 3; 教育部 21 and sent 2;
    # 産業港湾部 21 and sent none; 福祉部 15 and sent 3 rows.
    assert counts == {"建設部": 13, "教育部": 19, "産業港湾部": 21, "福祉部": 12}
    assert states == {"054-1": "provisional", "055-1": "to_be_reported", "056-1": "confirmed"}


def test_cycle_keeps_submission_details(cycle_warehouse: Path):
    with duckdb.connect(str(cycle_warehouse), read_only=True) as connection:
        row = connection.execute(
            """
            select value, unit, value_text, report_status, comment, submitted_by, source_file, source_line
            from kpi_value where kpi_id = '056-1' and fiscal_year = 2020
            """
        ).fetchone()
    # value_text keeps the cell as written in the CSV
    assert row == (Decimal("75"), "%", "７５．０％", "confirmed", "①訓練の実施", "髙橋", "otaru/2020/fukushi.csv", 2)
