"""A refresh of the embedded Otaru data into a temporary DuckDB file, checked against the table."""

from decimal import Decimal

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(otaru_warehouse):
    connection = duckdb.connect(str(otaru_warehouse), read_only=True)
    yield connection
    connection.close()


def rows(db, sql, params=()):
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# The four published FY2019 project lines (Otaru table lines 23, 53, 83, 104-105):
# (businesses evaluated, KPIs evaluated, businesses total, KPIs total, average,
#  基準未満, 0~50, 50~100, 100以上, 目標達成)
PUBLISHED_LINES = {
    1: (10, 15, 11, 16, Decimal("63.08"), 0, 6, 4, 5, 5),
    2: (16, 17, 19, 21, Decimal("28.60"), 4, 4, 6, 3, 3),
    3: (17, 20, 18, 21, Decimal("42.24"), 4, 5, 6, 5, 5),
    4: (13, 14, 14, 15, Decimal("-20.39"), 7, 3, 4, 0, 0),
}
SUMMARY_COLUMNS = """
    businesses_evaluated, kpis_evaluated, businesses_total, kpis_total, average_score,
    below_baseline_count, band_0_50_count, band_50_100_count, band_100_plus_count,
    target_achieved_count
"""


@pytest.mark.parametrize("project_no", [1, 2, 3, 4])
def test_published_basis_reproduces_published_line(db, project_no):
    line = db.execute(
        f"select {SUMMARY_COLUMNS} from project_summary "
        "where strategy_id = 'otaru-2015' and fiscal_year = 2019 and basis = 'published' and project_no = ?",
        [project_no],
    ).fetchone()
    assert line == PUBLISHED_LINES[project_no]


@pytest.mark.parametrize("project_no", [1, 2, 3, 4])
def test_published_summary_kept_as_printed(db, project_no):
    line = db.execute(
        f"select {SUMMARY_COLUMNS} from published_summary where project_no = ?", [project_no]
    ).fetchone()
    assert line == PUBLISHED_LINES[project_no]


def test_computed_basis_differs_only_where_rows_do(db):
    # Two published scores disagree with their own rows:
    #   007-2 (line 15): (3 - 0) / (50 - 0) x 100 = 6.00, printed 30.00 -> project (1) drops by
    #         24 / 15 = 1.60: 63.08 - 1.60 = 61.48
    #   059-1 (line 100, →): 151 / 152 x 100 = 99.34, printed 86.67 -> project (4) rises by
    #         12.67 / 14 = 0.905: sum -285.46 + 12.67 = -272.79, / 14 = -19.485 -> -19.49
    averages = dict(db.execute(
        "select project_no, average_score from project_summary "
        "where fiscal_year = 2019 and basis = 'computed' order by project_no"
    ).fetchall())
    assert averages == {1: Decimal("61.48"), 2: Decimal("28.60"), 3: Decimal("42.24"), 4: Decimal("-19.49")}


# (kpi_id, Otaru line, raw_score, score, band, target_achieved), worked out from the row:
HAND_CHECKED_2019 = [
    ("001-1", 7, "60.00", "60.00", "50-100", False),  # (36-18)/(48-18) = 18/30
    ("002-1", 8, "13.33", "13.33", "0-50", False),  # (4-0)/(30-0) = 0.1333…
    ("005-1", 11, "129.17", "100.00", "100+", True),  # (114-52)/(100-52) = 62/48 = 1.29166…
    ("006-1", 13, "121.21", "100.00", "100+", True),  # ↘ (173-213)/(180-213) = 40/33
    ("008-2", 17, "921.05", "100.00", "100+", True),  # ↘ (148-498)/(460-498) = 350/38
    ("009-2", 19, "99.61", "99.61", "50-100", False),  # ↘ (29205852-54886770)/(29104364-54886770)
    ("012-1", 29, "39.22", "39.22", "0-50", False),  # (81.40-75.85)/(90-75.85) = 5.55/14.15
    ("015-1", 33, "-91.30", "-91.30", "below_baseline", False),  # (6746-8299)/(10000-8299)
    ("025-1", 43, "99.53", "99.53", "50-100", False),  # → 96.00/96.45 (baseline a bare 96.45)
    ("033-1", 62, "-1080.00", "-100.00", "below_baseline", False),  # (860-968)/(978-968) 千t
    ("031-2", 60, "77.36", "77.36", "50-100", False),  # (697-345)/(800-345) 万円 = 352/455
    ("050-1", 90, "-143.75", "-100.00", "below_baseline", False),  # ↘ (121.0-118.7)/(117.1-118.7)
    ("062-1", 103, "0.00", "0.00", "0-50", False),  # (1-1)/(5-1) = 0
    ("047-1", 81, "0.00", "0.00", "0-50", False),  # (17-17)/(25-17) = 0
]


@pytest.mark.parametrize(("kpi_id", "line", "raw", "score", "band", "achieved"), HAND_CHECKED_2019)
def test_hand_checked_scores(db, kpi_id, line, raw, score, band, achieved):
    row = rows(db, "select * from kpi_score where kpi_id = ? and fiscal_year = 2019", [kpi_id])[0]
    assert row["raw_score"] == Decimal(raw)
    assert row["score"] == Decimal(score)
    assert row["band"] == band
    assert row["target_achieved"] is achieved
    source_line = db.execute("select source_line from kpi where kpi_id = ?", [kpi_id]).fetchone()[0]
    assert source_line == line


def test_every_year_with_an_actual_is_scored(db):
    # 001-1 over the years (line 7): (21-18)/30 = 10, (27-18)/30 = 30, (31-18)/30 = 43.33,
    # (34-18)/30 = 53.33, (36-18)/30 = 60
    scores = db.execute(
        "select fiscal_year, raw_score from kpi_score where kpi_id = '001-1' order by fiscal_year"
    ).fetchall()
    assert scores == [(2015, Decimal("10.00")), (2016, Decimal("30.00")), (2017, Decimal("43.33")),
                      (2018, Decimal("53.33")), (2019, Decimal("60.00"))]


def test_missing_years_are_not_scored(db):
    # 002-1 (line 8) has — in H27 and H28: no score for 2015 and 2016
    years = [r[0] for r in db.execute(
        "select fiscal_year from kpi_score where kpi_id = '002-1' order by fiscal_year").fetchall()]
    assert years == [2017, 2018, 2019]


def test_kpi_value_has_every_kpi_year_with_status(db):
    # 73 KPIs x 5 actual years (H27-H31)
    assert db.execute("select count(*) from kpi_value").fetchone()[0] == 365
    statuses = dict(db.execute(
        "select value_status, count(*) from kpi_value where fiscal_year = 2019 group by all").fetchall())
    # FY2019: 未確定 once (line 89), (後日報告) once (line 82), — four times (lines 36, 39, 49, 50)
    assert statuses == {"reported": 67, "missing": 4, "undetermined": 1, "to_be_reported": 1}
    source = db.execute(
        "select source_file, source_line, source_column, value_text from kpi_value "
        "where kpi_id = '048-1' and fiscal_year = 2019").fetchone()
    assert source == ("otaru/000_5dbc621b8e05bc0a.txt", 82, 10, "(後日報告)人")


def test_exclusion_is_recorded_with_reason(db):
    evaluated, reason = db.execute(
        "select evaluated, exclusion_reason from kpi where kpi_id = '004-1'").fetchone()
    assert evaluated is False
    assert "集計対象外" in reason
    assert db.execute("select count(*) from kpi where not evaluated").fetchone()[0] == 1


def test_every_row_carries_strategy_id(db):
    for table in ("kpi", "kpi_value", "kpi_score", "project_summary", "published_summary",
                  "published_kpi_score", "source_file", "strategy", "evaluation_method", "score_band"):
        ids = db.execute(f"select distinct strategy_id from {table}").fetchall()
        assert ids == [("otaru-2015",)], table


def test_computed_summary_for_every_year(db):
    # 4 projects x 5 fiscal years on the computed basis, plus 4 published lines for FY2019
    counts = dict(db.execute("select basis, count(*) from project_summary group by all").fetchall())
    assert counts == {"computed": 20, "published": 4}
