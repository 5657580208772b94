"""The published-table importer on the real Otaru table and on its quirks, each by rule."""

from decimal import Decimal
from pathlib import Path

import pytest

from evaluation.cells import ValueStatus
from evaluation.problems import InputRejected
from evaluation.published_table import parse_published_table, read_published_table
from evaluation.sources import discover
from tests.conftest import OTARU_TABLE


@pytest.fixture(scope="module")
def table():
    return read_published_table(OTARU_TABLE)


def kpi(table, kpi_id):
    return next(k for k in table.kpis if k.kpi_id == kpi_id)


def test_counts(table):
    # The table has four projects, businesses No.1-62, 73 KPIs; the summary lines add up to
    # 16 + 21 + 21 + 15 = 73 KPIs and 11 + 19 + 18 + 14 = 62 businesses
    assert sorted(table.projects) == [1, 2, 3, 4]
    assert len({k.business_no for k in table.kpis}) == 62
    assert sorted({k.business_no for k in table.kpis}) == list(range(1, 63))
    assert len(table.kpis) == 73
    assert len(table.summaries) == 4


def test_per_project_totals_match_summary_lines(table):
    for summary in table.summaries:
        kpis = [k for k in table.kpis if k.project_no == summary.project_no]
        assert len(kpis) == summary.kpis_total
        assert len({k.business_no for k in kpis}) == summary.businesses_total


def test_project_names(table):
    # headings at lines 3, 25 ("(2) " with a space), 55 and 85
    assert table.projects[1] == "あずまい暮らしプロジェクト"
    assert table.projects[2] == "樽っ子プライド育成プロジェクト"
    assert table.projects[4] == "あんしん絆再生プロジェクト"


def test_layout_from_header(table):
    # header line 5: 基準値(H26), H27実績値 … H30実績値, H31年度, 目標値(H31)
    layout = table.layouts[0]
    assert layout.baseline_fiscal_year == 2014
    assert layout.actual_fiscal_years == (2015, 2016, 2017, 2018, 2019)
    assert layout.target_fiscal_year == 2019
    # one layout per page header, whatever its spelling (基準未満 / 基準未達 / 基準未滿)
    assert [layout.line for layout in table.layouts] == [5, 27, 45, 57, 73, 87]


def test_first_row(table):
    # line 7: business 1, 18棟 → 36棟 against 48棟, published 60.00 / 60.00, mark ○
    row = kpi(table, "001-1")
    assert row.business_name == "市営住宅改善・建替事業"
    assert row.direction == "up"
    assert row.unit == "棟"
    assert row.baseline.value == Decimal(18)
    assert row.actuals[2019][0].value == Decimal(36)
    assert row.target.value == Decimal(48)
    assert row.published_raw_score == Decimal("60.00")
    assert row.published_band == "50-100"
    assert row.published_target_achieved is False
    assert row.line == 7


def test_continuation_row_belongs_to_previous_business(table):
    # line 12: first three cells empty, second KPI of business 5
    row = kpi(table, "005-2")
    assert row.business_no == 5
    assert row.kpi_name == "移住ワンストップ窓口を利用した移住世帯数"
    assert row.unit == "世帯"
    assert row.line == 12


def test_row_with_extra_cell(table):
    # line 50: nine cells before ↗ instead of eight; the surplus is a trailing —
    row = kpi(table, "028-2")
    assert row.baseline.value == Decimal("34.4")
    assert row.actuals[2016][0].value == Decimal("19.3")
    assert row.actuals[2019][0].status is ValueStatus.MISSING
    assert row.target.value == Decimal("45.0")
    assert any("extra cell" in note for note in row.notes)


def test_row_with_one_cell_short(table):
    # line 36: seven cells before ↗; the scores are printed as one —
    row = kpi(table, "018-1")
    assert row.actuals[2016][0].value == Decimal("90.7")
    assert row.actuals[2018][0].value == Decimal("91.0")
    assert row.actuals[2019][0].status is ValueStatus.MISSING
    assert row.published_score is None
    assert any("one cell missing" in note for note in row.notes)


def test_missing_markers(table):
    assert kpi(table, "021-1").actuals[2019][0].status is ValueStatus.MISSING  # line 39 "—人"
    assert kpi(table, "048-1").actuals[2019][0].status is ValueStatus.TO_BE_REPORTED  # line 82
    assert kpi(table, "049-1").actuals[2019][0].status is ValueStatus.UNDETERMINED  # line 89


def test_band_marks_read_by_symbol(table):
    # line 75: ○ printed in the 100以上 column; the symbol decides
    assert kpi(table, "041-1").published_band == "50-100"
    # line 11: ◎ and ☆
    assert kpi(table, "005-1").published_band == "100+"
    assert kpi(table, "005-1").published_target_achieved is True
    # line 33: ×
    assert kpi(table, "015-1").published_band == "below_baseline"


def test_summary_lines(table):
    # line 23 and, for project (4), line 104 with its counts on line 105
    first, *_, last = table.summaries
    assert (first.businesses_evaluated, first.kpis_evaluated) == (10, 15)
    assert (first.businesses_total, first.kpis_total) == (11, 16)
    assert first.average_score == Decimal("63.08")
    assert (first.below_baseline_count, first.band_0_50_count, first.band_50_100_count,
            first.band_100_plus_count, first.target_achieved_count) == (0, 6, 4, 5, 5)
    assert last.average_score == Decimal("-20.39")
    assert (last.below_baseline_count, last.band_0_50_count, last.band_50_100_count,
            last.band_100_plus_count, last.target_achieved_count) == (7, 3, 4, 0, 0)
    assert last.line == 104


def test_excluded_business_keeps_its_figures(table):
    # line 10: business 4 has actuals but its scores are printed as —
    row = kpi(table, "004-1")
    assert row.actuals[2019][0].value == Decimal(1)
    assert row.published_score is None


HEADER = "No.\t事業名\t事業概要\t施策KPI\t基準値(H26)\tH27実績値\tH28実績値\tH29実績値\tH30実績値\tH31年度\t\t\t目標値(H31)"


def parse(lines: list[str]):
    return parse_published_table("\n".join(["(1)テストプロジェクト", HEADER, *lines]), "test.txt")


def test_unknown_arrow_names_line():
    with pytest.raises(InputRejected) as error:
        parse(["1\t事業\t概要\tKPI\t1件\t2件\t3件\t4件\t5件\t6件\t50.00\t50.00\t⇒\t11件\t○"])
    problem = error.value.problems[0]
    assert problem.line == 3
    assert "arrow" in problem.rule_en


def test_bad_value_names_line_and_column():
    with pytest.raises(InputRejected) as error:
        parse(["1\t事業\t概要\tKPI\t1件\t2件\t1,2,3件\t4件\t5件\t6件\t50.00\t50.00\t↗\t11件\t○"])
    problem = error.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (3, 7, "1,2,3件")
    assert "桁区切り" in problem.message


def test_every_problem_is_reported():
    with pytest.raises(InputRejected) as error:
        parse([
            "1\t事業\t概要\tKPI\t1件\tabc\t3件\t4件\t5件\t6件\t50.00\t50.00\t↗\t11件\t○",
            "2\t事業\t概要\tKPI\t1件\t2件\t3件\t4件\t5件\t6件\t50.00\t50.00\t↗\txyz\t○",
        ])
    assert [p.line for p in error.value.problems] == [3, 4]


def test_two_cells_short_is_rejected():
    # a row that lost two figures must not shift values between years
    with pytest.raises(InputRejected) as error:
        parse(["1\t事業\t概要\tKPI\t1件\t2件\t3件\t4件\t50.00\t50.00\t↗\t11件\t○"])
    assert "cells before the direction arrow" in error.value.problems[0].rule_en


def test_unknown_file_is_named(tmp_path: Path):
    folder = tmp_path / "raw" / "city"
    folder.mkdir(parents=True)
    (folder / "strategy.toml").write_text(
        '[strategy]\nstrategy_id = "city"\nmunicipality = "市"\nname = "戦略"\n'
        "first_fiscal_year = 2015\nlast_fiscal_year = 2019\n",
        encoding="utf-8",
    )
    (folder / "table.txt").write_text(OTARU_TABLE.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "memo.txt").write_text("会議のメモ\n", encoding="utf-8")
    with pytest.raises(InputRejected) as error:
        discover(tmp_path / "raw")
    assert [p.source_file for p in error.value.problems] == ["city/memo.txt"]
    assert "no known input format" in error.value.problems[0].rule_en


def test_table_found_whatever_its_name(tmp_path: Path):
    folder = tmp_path / "raw" / "city"
    folder.mkdir(parents=True)
    (folder / "strategy.toml").write_text(
        '[strategy]\nstrategy_id = "city"\nmunicipality = "市"\nname = "戦略"\n'
        "first_fiscal_year = 2015\nlast_fiscal_year = 2019\n",
        encoding="utf-8",
    )
    (folder / "評価表_最終版(2).dat").write_bytes(OTARU_TABLE.read_bytes())
    _, files = discover(tmp_path / "raw")
    assert [f.file_format for f in files] == ["published_table"]


def test_table_with_cr_line_ends_found(tmp_path: Path):
    folder = tmp_path / "raw" / "city"
    write_strategy(folder)
    # classic Mac OS line ends: CR alone, no LF anywhere
    (folder / "table.txt").write_bytes(OTARU_TABLE.read_bytes().replace(b"\n", b"\r"))
    _, files = discover(tmp_path / "raw")
    assert [f.file_format for f in files] == ["published_table"]


def write_strategy(folder: Path, extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "strategy.toml").write_text(
        '[strategy]\nstrategy_id = "city"\nmunicipality = "市"\nname = "戦略"\n'
        f"first_fiscal_year = 2015\nlast_fiscal_year = 2019\n{extra}",
        encoding="utf-8",
    )
    (folder / "table.txt").write_bytes(OTARU_TABLE.read_bytes())


def test_invalid_strategy_reported_once(tmp_path: Path):
    # an invalid setting is one problem, named by folder and key; the table beside it is not blamed
    write_strategy(tmp_path / "raw" / "city", '[method]\nrounding = "bankers"\n')
    with pytest.raises(InputRejected) as error:
        discover(tmp_path / "raw")
    problems = error.value.problems
    assert len(problems) == 1
    assert problems[0].source_file == "city/strategy.toml"
    assert problems[0].key == "method.rounding"
    assert "項目「method.rounding」" in problems[0].message


def test_unknown_strategy_key_rejected(tmp_path: Path):
    write_strategy(tmp_path / "raw" / "city", "[method]\nround = \"half_up\"\n")
    with pytest.raises(InputRejected) as error:
        discover(tmp_path / "raw")
    assert [p.key for p in error.value.problems] == ["method.round"]
    assert "unknown key" in error.value.problems[0].rule_en


# -- repeated project numbers and summary lines --------------------------------------------------


def otaru_lines() -> list[str]:
    """Return the Otaru table's lines, line 1 at index 0."""
    return OTARU_TABLE.read_text(encoding="utf-8").split("\n")


def rejected_problems(text: str):
    with pytest.raises(InputRejected) as error:
        parse_published_table(text, "otaru/table.txt")
    return error.value.problems


def test_project_number_twice_names_both_lines():
    lines = otaru_lines()
    # line 25 is the heading of project (2), which gets the number of project (1), whose heading is line 3
    assert lines[24] == "(2) 樽っ子プライド育成プロジェクト"
    lines[24] = "(1) 樽っ子プライド育成プロジェクト"
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column, problem.value) == (25, 1, "(1) 樽っ子プライド育成プロジェクト")
    assert problem.rule_ja.startswith("プロジェクト(1) は 3行目 にもあります。")
    assert problem.rule_en.startswith("project (1) also starts line 3;")
    assert problem.message.startswith("otaru/table.txt 25行目 1列目: 値「(1) 樽っ子プライド育成プロジェクト」: ")
    # Japanese first, then " / " and the English
    assert " / otaru/table.txt, line 25, column 1: " in problem.message


def test_summary_line_twice_names_both_lines():
    lines = otaru_lines()
    # line 23 is project (1)'s summary line for H31 (FY2019), and its copy becomes line 24
    assert lines[22].startswith("(集計対象 10事業[15KPI]／全 11事業[16KPI])\t")
    lines.insert(23, lines[22])
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column, problem.value) == (24, 1, "(集計対象 10事業[15KPI]／全 11事業[16KPI])")
    assert problem.rule_ja.startswith("プロジェクト(1) のH31年度の集計行は 23行目 にもあります。")
    assert problem.rule_en.startswith("project (1) has its FY2019 summary line on line 23 already;")


# -- line ends and control characters --------------------------------------------------------------


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r", "\r\r\n"], ids=["LF", "CRLF", "CR", "CRCRLF"])
def test_line_numbers_whatever_line_end(line_end):
    text = line_end.join(otaru_lines())
    table = parse_published_table(text, "otaru/table.txt")
    # the same lines as with LF: business 1 on line 7, project (4)'s summary on line 104
    assert kpi(table, "001-1").line == 7
    assert kpi(table, "005-2").line == 12
    assert table.summaries[-1].line == 104
    assert [layout.line for layout in table.layouts] == [5, 27, 45, 57, 73, 87]


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_problem_line_whatever_line_end(line_end):
    lines = otaru_lines()
    # line 9, column 10 is business No.3's H31 actual, 14件
    cells = lines[8].split("\t")
    assert cells[9] == "14件"
    cells[9] = "1,4件"
    lines[8] = "\t".join(cells)
    (problem,) = rejected_problems(line_end.join(lines))
    assert (problem.line, problem.column, problem.value) == (9, 10, "1,4件")


def test_carriage_return_in_cell_rejected():
    lines = otaru_lines()
    # line 7, column 3 is business No.1's summary, and the CR goes after its fifth character 老朽化した
    cells = lines[6].split("\t")
    assert cells[2].startswith("老朽化した市営住宅")
    cells[2] = "老朽化した\r" + cells[2][5:]
    lines[6] = "\t".join(cells)
    # one problem, on line 7: the CR does not end a line, so no later line number shifts
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column) == (7, 3)
    assert problem.value == "老朽化した\r市営住宅の改修や建替を計画的に進める事業"
    assert problem.rule_ja.startswith("セルの6文字目に改行か制御の文字 U+000D があります。")
    assert problem.rule_en.startswith("line-break or control character U+000D at character 6 of the cell;")


def test_carriage_return_after_business_no():
    lines = otaru_lines()
    # line 7 starts with business No. 1. With "1\r", str.splitlines cut the row and read_kpi_row raised IndexError.
    assert lines[6].startswith("1\t")
    lines[6] = "1\r" + lines[6][1:]
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column, problem.value) == (7, 1, "1\r")
    assert "U+000D" in problem.rule_en


# Each character on which str.splitlines ends a line, and other controls a terminal acts on.
LINE_BREAKS_AND_CONTROLS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x1b", "\x07", "\x00"]


@pytest.mark.parametrize("character", LINE_BREAKS_AND_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_character_in_cell_rejected(character):
    lines = otaru_lines()
    # line 7, column 4 is business No.1's KPI name, and the character goes after its second character 市営
    cells = lines[6].split("\t")
    assert cells[3] == "市営住宅の改善・建替の実施棟数"
    cells[3] = "市営" + character + cells[3][2:]
    lines[6] = "\t".join(cells)
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column, problem.value) == (7, 4, cells[3])
    assert problem.rule_en.startswith(f"line-break or control character U+{ord(character):04X} at character 3 ")


def test_form_feed_page_breaks_read():
    lines = otaru_lines()
    # pdftotext ends every page with a form feed, here before the page headers of lines 45 and 73 and at the end
    lines[44] = "\f" + lines[44]
    lines[72] = "\f" + lines[72]
    table = parse_published_table("\n".join([*lines, "\f"]), "otaru/table.txt")
    assert [layout.line for layout in table.layouts] == [5, 27, 45, 57, 73, 87]
    assert len(table.kpis) == 73  # as test_counts


def test_short_business_row_rejected():
    lines = otaru_lines()
    # line 9 is business No.3, cut after its name to two cells
    assert lines[8].startswith("3\t住宅エコリフォーム助成事業\t")
    lines[8] = "3\t住宅エコリフォーム助成事業"
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column, problem.value) == (9, None, "3\t住宅エコリフォーム助成事業")
    assert problem.rule_ja.startswith("事業の行にセルが 2 個しかありません")


def test_digit_int_cannot_read_rejected():
    lines = otaru_lines()
    # ፩ (U+1369 ETHIOPIC DIGIT ONE) is a digit to str.isdigit, but int() cannot read it
    lines[6] = "፩" + lines[6][1:]
    (problem,) = rejected_problems("\n".join(lines))
    assert (problem.line, problem.column) == (7, 1)
    assert "the line is no heading, header, business or summary row" in problem.rule_en
