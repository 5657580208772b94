"""The two example strategies in examples/, refreshed end to end, against figures worked out by hand.

midori-pref-2020: achievement against each year's expected value (期待値;
期待値 / actual for the ↘ KPI),
truncated to whole numbers, no clamp, bands A / B+ / B / C on the score as
shown, project averages truncated to one place.
sakura-city-2020: progress toward the straight path from baseline to target,
clamped to 0–100, half up to one place, bands 努力を要する / おおむね順調 / 順調,
a survey rate maintained within ±3 points.
"""

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT_ROOT, refresh

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "raw"


@pytest.fixture(scope="module")
def examples_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("examples-raw")
    for strategy in ("midori-pref", "sakura-city"):
        shutil.copytree(EXAMPLES_DIR / strategy, raw / strategy)
    warehouse = tmp_path_factory.mktemp("examples-warehouse") / "kpi.duckdb"
    refresh(raw, warehouse)
    return warehouse


def score_of(warehouse: Path, strategy_id: str, kpi_id: str, fiscal_year: int) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(
            "select * from kpi_score where strategy_id = ? and kpi_id = ? and fiscal_year = ?",
            [strategy_id, kpi_id, fiscal_year],
        )
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def summary_of(warehouse: Path, strategy_id: str, project_no: int, fiscal_year: int) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(
            "select * from project_summary where strategy_id = ? and project_no = ? and fiscal_year = ?"
            " and basis = 'computed'",
            [strategy_id, project_no, fiscal_year],
        )
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


# (kpi_id, fiscal_year, expected value, score, band), midori-pref-2020: score = actual / 期待値 x 100 truncated
MIDORI_SCORES = [
    ("101-1", 2020, "1100", "104", "A"),    # 1,150 / 1,100 x 100 = 104.54… -> 104, no clamp
    ("101-1", 2021, "1200", "98", "B+"),    # 1,180 / 1,200 x 100 = 98.33… -> 98
    # 102-1's expected values are not on a straight line (400, 450, 520, … after a fall in visitors)
    ("102-1", 2020, "400", "77", "B"),      # 310 / 400 x 100 = 77.5 -> 77 (half up would give 78)
    ("102-1", 2021, "450", "90", "B+"),     # 405 / 450 x 100 = 90 exactly
    ("102-1", 2022, "520", "103", "A"),     # 540 / 520 x 100 = 103.84… -> 103
    ("103-1", 2020, "60", "96", "B+"),      # 58 / 60 x 100 = 96.66… -> 96 (half up would give 97)
    ("201-1", 2020, "240", "41", "C"),      # 100 / 240 x 100 = 41.66… -> 41
    ("201-1", 2021, "280", "80", "B+"),     # 224 / 280 x 100 = 80 exactly: the lower bound of B+
    ("201-1", 2022, "320", "100", "A"),     # 320 / 320: exactly on the expected value
    # ↘ scored as inverse achievement: 2,600 / 2,650 x 100 = 98.11… -> 98
    ("202-1", 2021, "2600", "98", "B+"),
    # 2,400 / 2,700 x 100 = 88.88… -> 88 (half up would give 89)
    ("202-1", 2022, "2400", "88", "B+"),
]


@pytest.mark.parametrize(("kpi_id", "fiscal_year", "expected", "score", "band"), MIDORI_SCORES)
def test_midori_scores(examples_warehouse, kpi_id, fiscal_year, expected, score, band):
    row = score_of(examples_warehouse, "midori-pref-2020", kpi_id, fiscal_year)
    assert row["yardstick"] == "expected_value"
    assert row["yardstick_value"] == Decimal(expected)
    assert row["score"] == Decimal(score)
    assert row["band"] == band


def test_midori_average_truncated(examples_warehouse):
    # project (1) FY2021: (98 + 90 + 90) / 3 = 92.666… -> truncated to one place 92.6 (half up: 92.7)
    row = summary_of(examples_warehouse, "midori-pref-2020", 1, 2021)
    assert row["kpis_evaluated"] == 3
    assert row["average_score"] == Decimal("92.6")


def test_midori_band_counts(examples_warehouse):
    # project (1) FY2020: 101-1 104 A, 102-1 77 B, 103-1 58 / 60 = 96.66… -> 96 B+
    with duckdb.connect(str(examples_warehouse), read_only=True) as connection:
        counts = dict(connection.execute(
            "select label_ja, kpi_count from project_band_count"
            " where strategy_id = 'midori-pref-2020' and project_no = 1 and fiscal_year = 2020"
            " and basis = 'computed'"
        ).fetchall())
    assert counts == {"C": 0, "B": 1, "B+": 1, "A": 1}


def test_midori_target_achieved_count(examples_warehouse):
    # FY2020: only 101-1 (104) reaches 100; its Otaru band columns do not apply and stay null
    row = summary_of(examples_warehouse, "midori-pref-2020", 1, 2020)
    assert row["target_achieved_count"] == 1
    assert row["band_100_plus_count"] is None


# (kpi_id, fiscal_year, path value, raw score, score, band), sakura-city-2020
SAKURA_SCORES = [
    # ↘ path FY2021: 50 + (0 - 50) x 2 / 5 = 30; (36 - 50) / (30 - 50) x 100 = 70: the lower bound of おおむね順調
    ("101-1", 2021, "30", "70.0", "70.0", "mostly_on_track"),
    # path FY2022: 20; (18 - 50) / (20 - 50) x 100 = 106.66… -> raw 106.7, clamped to 100.0
    ("101-1", 2022, "20", "106.7", "100.0", "on_track"),
    # path FY2021: 12,000 + 3,000 x 2 / 5 = 13,200; 600 / 1,200 x 100 = 50
    ("102-1", 2021, "13200", "50.0", "50.0", "needs_effort"),
    # target raised to 16,000 from FY2022 (revisions.csv): path 12,000 + 4,000 x 3 / 5 = 14,400;
    # 1,500 / 2,400 x 100 = 62.5
    ("102-1", 2022, "14400", "62.5", "62.5", "needs_effort"),
    # → within ±3 points: |78.1 - 80.0| = 1.9 -> 100
    ("201-1", 2021, "80", "100.0", "100.0", "on_track"),
    # → outside ±3 points: |76.4 - 80.0| = 3.6 -> 76.4 / 80 x 100 = 95.5
    ("201-1", 2022, "80", "95.5", "95.5", "mostly_on_track"),
    # path FY2021: 60 + 15 x 2 / 5 = 66; (61 - 60) / (66 - 60) x 100 = 16.66… -> 16.7
    ("202-1", 2021, "66", "16.7", "16.7", "needs_effort"),
    # target FY2022, so FY2020's path is 900 + 100 x 1 / 3 = 933.33…; 20 / (100 / 3) x 100 = 60 exactly
    ("203-1", 2020, "933.333333", "60.0", "60.0", "needs_effort"),
    # FY2021's path 966.66…; 50 / (200 / 3) x 100 = 75 exactly
    ("203-1", 2021, "966.666667", "75.0", "75.0", "mostly_on_track"),
]


@pytest.mark.parametrize(("kpi_id", "fiscal_year", "path", "raw", "score", "band"), SAKURA_SCORES)
def test_sakura_scores(examples_warehouse, kpi_id, fiscal_year, path, raw, score, band):
    row = score_of(examples_warehouse, "sakura-city-2020", kpi_id, fiscal_year)
    assert row["yardstick"] == "linear_path"
    assert row["yardstick_value"] == Decimal(path)
    assert row["raw_score"] == Decimal(raw)
    assert row["score"] == Decimal(score)
    assert row["band"] == band


def test_sakura_average_half_up(examples_warehouse):
    # project (1) FY2022 on the revised target: (100.0 + 62.5) / 2 = 81.25 -> half up 81.3
    assert summary_of(examples_warehouse, "sakura-city-2020", 1, 2022)["average_score"] == Decimal("81.3")
    # project (2) FY2021: (100.0 + 16.7 + 75.0) / 3 = 63.9
    assert summary_of(examples_warehouse, "sakura-city-2020", 2, 2021)["average_score"] == Decimal("63.9")


def test_sakura_band_labels(examples_warehouse):
    # project (2) FY2022: 201-1 95.5 おおむね順調; 202-1 on its rebased baseline 58.0, path
    # 58 + 17 x 3 / 5 = 68.2, (64.5 - 58) / (68.2 - 58) x 100 = 63.72… -> 63.7 努力を要する
    with duckdb.connect(str(examples_warehouse), read_only=True) as connection:
        counts = dict(connection.execute(
            "select label_ja, kpi_count from project_band_count"
            " where strategy_id = 'sakura-city-2020' and project_no = 2 and fiscal_year = 2022"
            " and basis = 'computed'"
        ).fetchall())
    assert counts == {"努力を要する": 1, "おおむね順調": 1, "順調": 0}


@pytest.fixture(scope="module")
def three_strategies_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Otaru, a copy of Otaru under another id (same method) and sakura-city-2020, in one file."""
    raw = tmp_path_factory.mktemp("comparison-raw")
    shutil.copytree(PROJECT_ROOT / "data" / "raw" / "otaru", raw / "otaru")
    shutil.copytree(PROJECT_ROOT / "data" / "raw" / "otaru", raw / "otaru-copy")
    toml = raw / "otaru-copy" / "strategy.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"otaru-2015"', '"otaru-copy"'), encoding="utf-8")
    shutil.copytree(EXAMPLES_DIR / "sakura-city", raw / "sakura-city")
    warehouse = tmp_path_factory.mktemp("comparison-warehouse") / "kpi.duckdb"
    refresh(raw, warehouse)
    return warehouse


def comparison_of(warehouse: Path, strategy_id: str, other_strategy_id: str) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(
            "select * from strategy_comparison where strategy_id = ? and other_strategy_id = ?",
            [strategy_id, other_strategy_id],
        )
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_same_method_is_comparable(three_strategies_warehouse):
    row = comparison_of(three_strategies_warehouse, "otaru-2015", "otaru-copy")
    assert row["comparable"] is True
    assert row["differences"] == []
    assert row["reason_ja"] is None


def test_other_method_not_comparable(three_strategies_warehouse):
    # sakura-city-2020 against Otaru: → uses maintain (±3), the yardstick is the linear path,
    # the clamp is 0–100 (the upper bound 100 is the same), one place, bands 70 / 100 instead of 0 / 50 / 100
    row = comparison_of(three_strategies_warehouse, "otaru-2015", "sakura-city-2020")
    assert row["comparable"] is False
    assert row["scores_comparable"] is False
    assert row["bands_comparable"] is False
    assert row["differences"] == ["formula_maintain", "yardstick", "maintain_tolerance", "clamp_min",
                                  "decimal_places", "bands"]
    assert row["reason_ja"].startswith("評価方法が違うため比べられません: →の計算式、比べる値")
    assert "yardstick" in row["reason_en"]


def test_otaru_figures_unchanged_beside_others(three_strategies_warehouse):
    # the published line of project (1) in FY2019 is 63.08 whatever else shares the file
    with duckdb.connect(str(three_strategies_warehouse), read_only=True) as connection:
        average = connection.execute(
            "select average_score from project_summary where strategy_id = 'otaru-2015' and project_no = 1"
            " and fiscal_year = 2019 and basis = 'published'"
        ).fetchone()[0]
    assert average == Decimal("63.08")


def outlook_counts(warehouse: Path, strategy_id: str, project_no: int, fiscal_year: int) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return dict(connection.execute(
            "select outlook_label_ja, count(*) from kpi_outlook inner join kpi using (strategy_id, kpi_id)"
            " where strategy_id = ? and project_no = ? and as_of_fiscal_year = ? and kpi_outlook.evaluated"
            " group by all",
            [strategy_id, project_no, fiscal_year],
        ).fetchall())


def test_summary_counts_outlook(examples_warehouse):
    # project_summary's outlook columns count kpi_outlook's statuses of the project's evaluated KPIs
    row = summary_of(examples_warehouse, "midori-pref-2020", 1, 2022)
    counts = outlook_counts(examples_warehouse, "midori-pref-2020", 1, 2022)
    assert row["on_track_count"] == counts.get("順調", 0)
    assert row["behind_count"] == counts.get("遅れ", 0)
    assert row["unlikely_count"] == counts.get("達成困難", 0)
    assert row["not_enough_data_count"] == counts.get("データ不足", 0)
    # FY2020 has one actual per KPI so far, too few for a trend: all three are データ不足
    assert summary_of(examples_warehouse, "midori-pref-2020", 1, 2020)["not_enough_data_count"] == 3


def test_cli_summary_lines(examples_warehouse):
    from pipelines.cli import summary_lines

    lines = summary_lines(examples_warehouse)
    # the latest scored year, not the empty last year of the period
    assert lines[0] == "みどり県 第2期みどり県まち・ひと・しごと創生総合戦略 (midori-pref-2020) R4年度 (FY2022)"
    # FY2022 project (1): (91 + 103 + 90) / 3 = 94.66… truncated to 94.6; 103 is A and 目標達成
    project_line = next(line for line in lines if line.startswith("  (1) しごとをつくる"))
    assert "平均スコア 94.6 " in project_line
    assert "C 0 / B 0 / B+ 2 / A 1 / 目標達成 1" in project_line
    counts = outlook_counts(examples_warehouse, "midori-pref-2020", 1, 2022)
    assert f"見通し 順調 {counts.get('順調', 0)} / 遅れ {counts.get('遅れ', 0)}" in project_line
    assert any(line.startswith("  midori-pref-2020 と sakura-city-2020: 評価方法が違うため") for line in lines)


def test_cli_summary_notes_unscored_strategy(examples_warehouse, tmp_path):
    from pipelines.cli import summary_lines

    # the same file, with no score left for sakura-city-2020 (as when its submissions hold no actual yet)
    warehouse = tmp_path / "kpi.duckdb"
    shutil.copyfile(examples_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from kpi_score where strategy_id = 'sakura-city-2020'")

    lines = summary_lines(warehouse)

    sakura = next(index for index, line in enumerate(lines) if "(sakura-city-2020)" in line)
    assert lines[sakura + 1] == ("  スコアのある KPI がないため、評価表とレポートは作っていません"
                                 " / no KPI has a score, so no workbook or HTML report was written")
    assert sum("no KPI has a score" in line for line in lines) == 1


def test_workbook_shows_outlook(examples_warehouse):
    from openpyxl import load_workbook

    path = examples_warehouse.parent / "reports" / "midori-pref-2020" / "evaluation_FY2022_computed.xlsx"
    sheet = load_workbook(path).worksheets[0]
    headers = [sheet.cell(row=3, column=c).value for c in range(1, sheet.max_column + 1)]
    column = headers.index("見通し(早期警戒)") + 1
    labels = {sheet.cell(row=r, column=column).value for r in range(5, sheet.max_row)}
    assert labels <= {"順調", "遅れ", "達成困難", "データ不足"}
    assert sheet.cell(row=sheet.max_row, column=column).value.startswith("順調 ")


def test_html_report_shows_outlook(examples_warehouse):
    page = (examples_warehouse.parent / "reports" / "midori-pref-2020" / "report.html").read_text(encoding="utf-8")
    assert "見通し(早期警戒): 遅れ・達成困難の施策KPI" in page
    assert "見通し: 順調" in page


def test_outlook_uses_expected_value(examples_warehouse):
    # midori-pref-2020 judges against the master's 期待値: as of FY2022, 102-1's expected value is
    # R4's 520, not the straight path 500 + 100 x 3 / 5 = 560; the actual 540 is above it
    with duckdb.connect(str(examples_warehouse), read_only=True) as connection:
        expected, latest_progress, expected_progress = connection.execute(
            "select expected_value, latest_progress, expected_progress from kpi_outlook"
            " where strategy_id = 'midori-pref-2020' and kpi_id = '102-1' and as_of_fiscal_year = 2022"
        ).fetchone()
    assert expected == Decimal("520")
    # achievement: 540 / 600 x 100 = 90.00 and 520 / 600 x 100 = 86.67
    assert latest_progress == Decimal("90.00")
    assert expected_progress == Decimal("86.67")
