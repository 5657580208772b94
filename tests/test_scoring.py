"""The scoring rule, in DuckDB SQL (sql/scores/kpi_score.sql) and its Python reference.

Each case is a tiny strategy with one KPI and one actual; expected values are
worked out by hand in the comments.
"""

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.normalize import replace_rows, strategy_rows
from evaluation.scoring import ScoreUndefined, score_kpi
from evaluation.strategy import EvaluationMethod, Strategy
from evaluation.warehouse import ensure_normalized_tables, replace_fiscal_years

STRATEGY = Strategy("test", "テスト市", "テスト戦略", 2015, 2019, Path("."))


def sql_score(direction: str, baseline: str, actual: str, target: str, strategy: Strategy = STRATEGY) -> dict:
    """Score one KPI-year through kpi_score.sql in an in-memory DuckDB; return the row."""
    connection = duckdb.connect()
    ensure_normalized_tables(connection)
    for table, rows in strategy_rows(strategy).items():
        replace_rows(connection, table, [strategy.strategy_id], rows)
    replace_rows(connection, "kpi", [strategy.strategy_id], [{
        "strategy_id": strategy.strategy_id, "kpi_id": "001-1", "project_no": 1, "project_name": "p",
        "business_no": 1, "business_name": "b", "business_summary": None, "kpi_seq": 1, "kpi_name": "k",
        "unit": "件", "direction": direction, "cumulative": False, "baseline_fiscal_year": 2014,
        "baseline_value": baseline, "baseline_text": baseline, "target_fiscal_year": 2019,
        "target_value": target, "target_text": target, "evaluated": True, "exclusion_reason": None,
        "source_file": "t.txt", "source_line": 1, "notes": None,
    }])
    replace_rows(connection, "kpi_value", [strategy.strategy_id], [{
        "strategy_id": strategy.strategy_id, "kpi_id": "001-1", "fiscal_year": 2019, "value": actual,
        "unit": "件", "value_status": "reported", "value_text": actual, "source_file": "t.txt",
        "source_line": 1, "source_column": 10, "note": None,
    }])
    replace_fiscal_years(connection, "kpi_score", 2019, 2019)
    cursor = connection.execute("select * from kpi_score")
    # fetchone keeps DECIMAL as Decimal; a DataFrame would turn it into float64
    row = dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))
    connection.close()
    return row


# (direction, baseline, actual, target, raw_score, score, band, target_achieved)
CASES = [
    # Otaru line 7: (36 - 18) / (48 - 18) x 100 = 60
    ("up", "18", "36", "48", "60.00", "60.00", "50-100", False),
    # Otaru line 13, ↘: (173 - 213) / (180 - 213) x 100 = 121.2121… -> clamped to 100
    ("down", "213", "173", "180", "121.21", "100.00", "100+", True),
    # Otaru line 43, →: 96.00 / 96.45 x 100 = 99.5334…
    ("maintain", "96.45", "96.00", "96.45", "99.53", "99.53", "50-100", False),
    # Otaru line 94: (218 - 248) / (250 - 248) x 100 = -1500 -> clamped to -100
    ("up", "248", "218", "250", "-1500.00", "-100.00", "below_baseline", False),
    # exactly on the target: 100 is 100以上 and 目標達成
    ("up", "0", "10", "10", "100.00", "100.00", "100+", True),
    # exactly on the baseline: 0 is 0~50, not 基準未満
    ("up", "5", "5", "10", "0.00", "0.00", "0-50", False),
    # exactly 50 is 50~100
    ("up", "0", "5", "10", "50.00", "50.00", "50-100", False),
    # half up: 1 / 800 x 100 = 0.125 -> 0.13 (a binary float would give 0.12 or 0.13 by luck)
    ("up", "0", "1", "800", "0.13", "0.13", "0-50", False),
    # half up on a negative: -1 / 800 x 100 = -0.125 -> -0.13 (half away from zero, 四捨五入)
    ("up", "0", "-1", "800", "-0.13", "-0.13", "below_baseline", False),
    # below half: 1 / 3 x 100 = 33.333… -> 33.33
    ("up", "0", "1", "3", "33.33", "33.33", "0-50", False),
    # 99.995 exactly: 19999 / 20000 x 100 -> 100.00 when shown, yet raw < 100: band 50~100, not achieved
    ("up", "0", "19999", "20000", "100.00", "100.00", "50-100", False),
    # clamp edge: -100 exactly stays -100
    ("up", "10", "0", "20", "-100.00", "-100.00", "below_baseline", False),
]


@pytest.mark.parametrize(
    ("direction", "baseline", "actual", "target", "raw", "score", "band", "achieved"), CASES
)
def test_sql_score(direction, baseline, actual, target, raw, score, band, achieved):
    row = sql_score(direction, baseline, actual, target)
    assert row["raw_score"] == Decimal(raw)
    assert row["score"] == Decimal(score)
    assert row["band"] == band
    assert row["target_achieved"] is achieved
    assert row["invalid_reason"] is None


@pytest.mark.parametrize(
    ("direction", "baseline", "actual", "target", "raw", "score", "band", "achieved"), CASES
)
def test_python_reference_agrees(direction, baseline, actual, target, raw, score, band, achieved):
    result = score_kpi(direction, Decimal(baseline), Decimal(actual), Decimal(target))
    assert result.raw_score == Decimal(raw)
    assert result.score == Decimal(score)
    assert result.band == band
    assert result.target_achieved is achieved


def test_target_equals_baseline_has_no_score():
    # ↗ with target = baseline: the denominator is zero, which is bad input, not a zero score
    row = sql_score("up", "152", "151", "152")
    assert row["raw_score"] is None
    assert row["score"] is None
    assert row["band"] is None
    assert row["invalid_reason"] == "target_equals_baseline"
    with pytest.raises(ScoreUndefined):
        score_kpi("up", Decimal(152), Decimal(151), Decimal(152))


def test_method_truncation_and_no_clamp():
    # truncate toward zero, no clamp: (10 - 0) / (3 - 0) x 100 = 333.333… -> 333.33; -0.125 -> -0.12
    method = EvaluationMethod(rounding="truncate", clamp_min=None, clamp_max=None)
    strategy = Strategy("trunc", "市", "戦略", 2015, 2019, Path("."), method=method)
    row = sql_score("up", "0", "10", "3", strategy)
    assert row["raw_score"] == Decimal("333.33")
    assert row["score"] == Decimal("333.33")
    row = sql_score("up", "0", "-1", "800", strategy)
    assert row["raw_score"] == Decimal("-0.12")


def test_method_one_decimal_place():
    # 1 / 3 x 100 = 33.333… -> 33.3 with one place; 2 / 3 x 100 = 66.666… -> 66.7
    method = EvaluationMethod(decimal_places=1)
    strategy = Strategy("one", "市", "戦略", 2015, 2019, Path("."), method=method)
    assert sql_score("up", "0", "1", "3", strategy)["raw_score"] == Decimal("33.30")
    assert sql_score("up", "0", "2", "3", strategy)["raw_score"] == Decimal("66.70")
