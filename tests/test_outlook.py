"""Early warning (kpi_outlook) on the Otaru data, with trends worked out by hand."""

from decimal import Decimal

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(otaru_warehouse):
    connection = duckdb.connect(str(otaru_warehouse), read_only=True)
    yield connection
    connection.close()


def outlook(db, kpi_id, year):
    cursor = db.execute("select * from kpi_outlook where kpi_id = ? and as_of_fiscal_year = ?", [kpi_id, year])
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))


def test_two_actuals_give_a_trend(db):
    # 001-1 (line 7): baseline 18 (H26), target 48 (H31); actuals 21 (H27), 27 (H28).
    # Trend: +6 a year, so H31 = 27 + 6 x 3 = 45 -> (45 - 18) / 30 = 90.00.
    # Path at H28: 18 + 30 x 2/5 = 30 -> 40.00; latest 27 -> 30.00. Both short: unlikely.
    row = outlook(db, "001-1", 2016)
    assert row["actuals_used"] == 2
    assert row["projected_value"] == Decimal("45")
    assert row["expected_value"] == Decimal("30")
    assert row["latest_progress"] == Decimal("30.00")
    assert row["expected_progress"] == Decimal("40.00")
    assert row["projected_progress"] == Decimal("90.00")
    assert row["outlook_status"] == "unlikely"
    assert row["outlook_label_ja"] == "達成困難"


def test_one_actual_is_not_enough(db):
    row = outlook(db, "001-1", 2015)
    assert row["actuals_used"] == 1
    assert row["projected_value"] is None
    assert row["outlook_status"] == "not_enough_data"


def test_three_actuals_least_squares(db):
    # 009-1 (line 18): 0灯 (H26) -> 11,749灯 (H31); actuals 3,808 / 7,554 / 11,018 (H27-H29).
    # x = 1, 2, 3: sum y = 22,380, sum xy = 3,808 + 15,108 + 33,054 = 51,970;
    # slope = (3 x 51,970 - 6 x 22,380) / (3 x 14 - 6 x 6) = 21,630 / 6 = 3,605;
    # mean y = 7,460, so H31 (x = 5) = 7,460 + 3,605 x 3 = 18,275 -> 18,275 / 11,749 = 1.555451 -> 155.55.
    # Path at H29: 11,749 x 3/5 = 7,049.4 -> 60.00; latest 11,018 -> 93.78: on track.
    row = outlook(db, "009-1", 2017)
    assert row["projected_value"] == Decimal("18275")
    assert row["expected_value"] == Decimal("7049.4")
    assert row["projected_progress"] == Decimal("155.55")
    assert row["latest_progress"] == Decimal("93.78")
    assert row["outlook_status"] == "on_track"


def test_decreasing_kpi(db):
    # 006-1 (line 13, ↘): 213 -> 180; actuals 162, 220, 244 (H27-H29): slope (3 x 1,334 - 6 x 626) / 6
    # = 41; mean 208.67, H31 = 208.67 + 41 x 3 = 331.67 -> (331.67 - 213) / (180 - 213) = -359.60.
    # Path at H29: 213 - 33 x 3/5 = 193.2 -> 60.00; latest 244 -> -93.94: unlikely.
    row = outlook(db, "006-1", 2017)
    assert row["projected_value"] == Decimal("331.666667")
    assert row["projected_progress"] == Decimal("-359.60")
    assert row["outlook_status"] == "unlikely"


def test_every_kpi_and_year(db):
    # 73 KPIs x 5 as-of years (H27-H31)
    assert db.execute("select count(*) from kpi_outlook").fetchone()[0] == 365


def test_backtest_figures_in_docs(db):
    # docs/forecast.md quotes this table: status as of H29 against target achieved in H31
    table = db.execute(
        """
        select o.outlook_status,
               count(*),
               count(*) filter (where s.target_achieved),
               count(*) filter (where not s.target_achieved)
        from kpi_outlook o
        join kpi_score s using (strategy_id, kpi_id)
        where o.as_of_fiscal_year = 2017 and s.fiscal_year = 2019 and o.evaluated
        group by all
        """
    ).fetchall()
    assert sorted(table) == [
        ("behind", 5, 2, 3),
        ("not_enough_data", 5, 1, 4),
        ("on_track", 14, 5, 9),
        ("unlikely", 42, 5, 37),
    ]
