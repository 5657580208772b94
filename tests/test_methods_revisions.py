"""Revised baselines and targets: each year scored on the version in force, and on the original one.

sakura-city-2020 (examples/raw/sakura-city/revisions.csv) raises 102-1's
target from 15,000 to 16,000 and rebases 202-1's baseline from 60.0% to 58.0%,
both from FY2022. Expected figures are worked out by hand in the comments.
"""

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.intake.expected_values import expected_value_columns
from evaluation.intake.formats import load_intake
from evaluation.intake.master import read_master, write_master
from evaluation.intake.revisions import read_revisions, revision_rows
from evaluation.intake.sheets import find_header, read_csv
from evaluation.sources import discover
from evaluation.strategy import load_strategy
from tests.conftest import PROJECT_ROOT, refresh

SAKURA_DIR = PROJECT_ROOT / "examples" / "raw" / "sakura-city"
REVISION_HEADER = "KPIコード,適用年度,基準年度,基準値,目標年度,目標値,改定理由\n"


@pytest.fixture(scope="module")
def sakura_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("sakura-raw")
    shutil.copytree(SAKURA_DIR, raw / "sakura-city")
    warehouse = tmp_path_factory.mktemp("sakura-warehouse") / "kpi.duckdb"
    refresh(raw, warehouse)
    return warehouse


def fetch_one(warehouse: Path, query: str, parameters: list) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(query, parameters)
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def score_of(warehouse: Path, kpi_id: str, fiscal_year: int) -> dict:
    return fetch_one(warehouse, "select * from kpi_score where kpi_id = ? and fiscal_year = ?", [kpi_id, fiscal_year])


def test_raised_target_in_force(sakura_warehouse):
    # FY2022, revision 1: (13,500 - 12,000) / (14,400 - 12,000) x 100 = 62.5 on the path to 16,000
    row = score_of(sakura_warehouse, "102-1", 2022)
    assert row["definition_version"] == 1
    assert row["target_value"] == Decimal("16000")
    assert row["score"] == Decimal("62.5")
    assert row["revision_reason"] == "中間見直しで利用者数の目標を引き上げ"


def test_raised_target_original_basis(sakura_warehouse):
    # the same FY2022 actual on the original target 15,000: path 13,800, 1,500 / 1,800 x 100 = 83.33… -> 83.3
    row = score_of(sakura_warehouse, "102-1", 2022)
    assert row["original_score"] == Decimal("83.3")
    assert row["original_band"] == "mostly_on_track"
    assert row["band"] == "needs_effort"


def test_year_before_revision_unchanged(sakura_warehouse):
    # FY2021 precedes the revision: version 0 on both bases, 600 / 1,200 x 100 = 50
    row = score_of(sakura_warehouse, "102-1", 2021)
    assert row["definition_version"] == 0
    assert row["score"] == Decimal("50.0")
    assert row["original_score"] == Decimal("50.0")


def test_rebased_baseline(sakura_warehouse):
    # baseline 58.0 from FY2022: path 58 + 17 x 3 / 5 = 68.2; (64.5 - 58) / (68.2 - 58) x 100 = 63.72… -> 63.7;
    # on the original baseline 60.0: path 69, (64.5 - 60) / (69 - 60) x 100 = 50.0
    row = score_of(sakura_warehouse, "202-1", 2022)
    assert row["baseline_value"] == Decimal("58")
    assert row["yardstick_value"] == Decimal("68.2")
    assert row["score"] == Decimal("63.7")
    assert row["original_score"] == Decimal("50.0")


def test_summary_on_both_bases(sakura_warehouse):
    query = ("select average_score from project_summary where project_no = ? and fiscal_year = 2022"
             " and basis = ?")
    # project (1): revised (100.0 + 62.5) / 2 = 81.25 -> 81.3; original (100.0 + 83.3) / 2 = 91.65 -> 91.7
    assert fetch_one(sakura_warehouse, query, [1, "computed"])["average_score"] == Decimal("81.3")
    assert fetch_one(sakura_warehouse, query, [1, "original"])["average_score"] == Decimal("91.7")
    # project (2): revised (95.5 + 63.7) / 2 = 79.6; original (95.5 + 50.0) / 2 = 72.75 -> 72.8
    assert fetch_one(sakura_warehouse, query, [2, "computed"])["average_score"] == Decimal("79.6")
    assert fetch_one(sakura_warehouse, query, [2, "original"])["average_score"] == Decimal("72.8")


def test_outlook_uses_revision_in_force(sakura_warehouse):
    # as of FY2022 the path of 102-1 runs to the raised target: 12,000 + 4,000 x 3 / 5 = 14,400
    row = fetch_one(sakura_warehouse, "select * from kpi_outlook where kpi_id = '102-1' and as_of_fiscal_year = 2022",
                    [])
    assert row["expected_value"] == Decimal("14400")


def revision_problems(tmp_path: Path, lines: str) -> list:
    """Check revision rows against the sakura-city master; return the problems found."""
    strategy = load_strategy(SAKURA_DIR / "strategy.toml")
    master_grid, _ = read_csv(SAKURA_DIR / "kpi_master.csv", "kpi_master.csv")
    master = read_master([master_grid], strategy)
    path = tmp_path / "revisions.csv"
    path.write_text(REVISION_HEADER + lines, encoding="utf-8")
    grid, _ = read_csv(path, "revisions.csv")
    revisions, problems = read_revisions([grid], master)
    if problems:
        return problems
    _, problems = revision_rows(revisions, master, strategy)
    return problems


def test_revision_unknown_code_rejected(tmp_path):
    (problem,) = revision_problems(tmp_path, "999-1,2022,,,,100,理由\n")
    assert problem.line == 2
    assert "KPIマスターにありません" in problem.rule_ja


def test_revision_without_reason_rejected(tmp_path):
    (problem,) = revision_problems(tmp_path, "102-1,2022,,,,16000,\n")
    assert "改定理由" in problem.rule_ja


def test_revision_changing_nothing_rejected(tmp_path):
    (problem,) = revision_problems(tmp_path, "102-1,2022,,,,,理由\n")
    assert "fill the baseline or the target" in problem.rule_en


def test_two_revisions_same_year_rejected(tmp_path):
    (problem,) = revision_problems(tmp_path, "102-1,2022,,,,16000,理由\n102-1,R4,,,,17000,別の理由\n")
    assert problem.line == 3
    assert "適用年度が同じ" in problem.rule_ja


def test_revision_in_first_year_rejected(tmp_path):
    # FY2020 is the first year: a value in force from the start belongs in the master
    (problem,) = revision_problems(tmp_path, "102-1,2020,,,,16000,理由\n")
    assert problem.value == "2020"


def test_revised_target_equal_baseline_rejected(tmp_path):
    # 102-1 is ↗ with baseline 12,000: a revised target of 12,000 leaves no score
    (problem,) = revision_problems(tmp_path, "102-1,2022,,,,12000,理由\n")
    assert problem.column == "目標値"


def test_revision_sheet_in_master_workbook(tmp_path):
    # the 「改定」 sheet of a master workbook is read like revisions.csv
    folder = tmp_path / "raw" / "sakura"
    folder.mkdir(parents=True)
    shutil.copy(SAKURA_DIR / "strategy.toml", folder / "strategy.toml")
    shutil.copy(SAKURA_DIR / "submissions.csv", folder / "submissions.csv")
    strategy = load_strategy(folder / "strategy.toml")
    master_grid, _ = read_csv(SAKURA_DIR / "kpi_master.csv", "kpi_master.csv")
    workbook_path = write_master(read_master([master_grid], strategy), strategy, folder / "master.xlsx")

    from openpyxl import load_workbook

    workbook = load_workbook(workbook_path)
    sheet = workbook.create_sheet("改定")
    sheet.append(REVISION_HEADER.strip().split(","))
    sheet.append(["102-1", "R4", None, None, None, 16000, "中間見直し"])
    workbook.save(workbook_path)

    strategies, files = discover(tmp_path / "raw")
    result = load_intake(strategies[0], files)
    assert result.errors == []
    (row,) = result.tables["kpi_revision"]
    assert row["effective_fiscal_year"] == 2022
    assert row["target_value"] == "16000"
    assert row["baseline_value"] == "12000"  # carried over from the master


@pytest.mark.parametrize(("label", "year"), [
    ("期待値(R2)", 2020),
    ("目安値(2021年度)", 2021),
    ("R5期待値", 2023),
    ("令和6年度の目安値", 2024),
])
def test_expected_value_headers(tmp_path, label, year):
    path = tmp_path / "m.csv"
    path.write_text(f"KPIコード,方向,目標値,{label}\n101-1,↗,10,5\n", encoding="utf-8")
    grid, _ = read_csv(path, "m.csv")
    columns, problems = expected_value_columns(grid, find_header(grid, "KPIコード", {"方向"}))
    assert problems == []
    assert list(columns.values()) == [(year, label)]


def test_expected_value_header_without_year(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("KPIコード,方向,目標値,期待値(来年)\n101-1,↗,10,5\n", encoding="utf-8")
    grid, _ = read_csv(path, "m.csv")
    _, (problem,) = expected_value_columns(grid, find_header(grid, "KPIコード", {"方向"}))
    assert problem.column == "D 期待値(来年)"


def test_expected_value_yardstick_needs_every_year(tmp_path):
    # midori-pref-2020 without R6 (FY2024) for 101-1: rejected, naming the KPI, the year and method.yardstick
    folder = tmp_path / "raw" / "midori"
    shutil.copytree(PROJECT_ROOT / "examples" / "raw" / "midori-pref", folder)
    master = folder / "kpi_master.csv"
    lines = master.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].removesuffix(",1500") + ","
    master.write_text("\n".join(lines) + "\n", encoding="utf-8")
    strategies, files = discover(tmp_path / "raw")
    (problem,) = load_intake(strategies[0], files).errors
    assert problem.key == "method.yardstick"
    assert "101-1" in problem.rule_ja
    assert "2024" in problem.rule_ja
