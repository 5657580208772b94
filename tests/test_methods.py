"""Evaluation-method options in strategy.toml: how each one scores, and how a contradiction is rejected.

Each case scores a tiny strategy through the real SQL files in an in-memory
DuckDB; expected values are worked out by hand in the comments.
"""

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.intake.expected_values import check_expected_values
from evaluation.methods import Band, EvaluationMethod
from evaluation.normalize import replace_rows, strategy_rows
from evaluation.problems import InputRejected
from evaluation.scoring import score_kpi
from evaluation.strategy import Strategy, load_strategy
from evaluation.warehouse import ensure_normalized_tables, replace_table_from_query

ABC_BANDS = (
    Band("C", "C", "", None, Decimal(50)),
    Band("B", "B", "", Decimal(50), Decimal(80)),
    Band("B+", "B+", "", Decimal(80), Decimal(100)),
    Band("A", "A", "", Decimal(100), None),
)


def kpi_row(strategy_id: str, kpi_id: str, direction: str, baseline: str, target: str,
            baseline_year: int = 2014, target_year: int = 2019, project_no: int = 1) -> dict:
    return {
        "strategy_id": strategy_id, "kpi_id": kpi_id, "project_no": project_no, "project_name": "p",
        "business_no": int(kpi_id[:3]), "business_name": "b", "business_summary": None, "kpi_seq": 1,
        "kpi_name": "k", "unit": "%", "direction": direction, "cumulative": False,
        "baseline_fiscal_year": baseline_year, "baseline_value": baseline, "baseline_text": baseline,
        "target_fiscal_year": target_year, "target_value": target, "target_text": target, "evaluated": True,
        "exclusion_reason": None, "source_file": "m.csv", "source_line": 2, "notes": None,
    }


def value_row(strategy_id: str, kpi_id: str, fiscal_year: int, value: str) -> dict:
    return {
        "strategy_id": strategy_id, "kpi_id": kpi_id, "fiscal_year": fiscal_year, "value": value, "unit": "%",
        "value_status": "reported", "value_text": value, "source_file": "s.csv", "source_line": 2,
        "source_column": 4, "note": None,
    }


def refresh_tables(strategy: Strategy, kpis: list[dict], values: list[dict], expected: list[dict] = (),
                   revisions: list[dict] = ()) -> duckdb.DuckDBPyConnection:
    """Load the rows into an in-memory DuckDB and build every score and summary table."""
    connection = duckdb.connect()
    ensure_normalized_tables(connection)
    for table, rows in strategy_rows(strategy).items():
        replace_rows(connection, table, [strategy.strategy_id], rows)
    replace_rows(connection, "kpi", [strategy.strategy_id], kpis)
    replace_rows(connection, "kpi_value", [strategy.strategy_id], values)
    replace_rows(connection, "kpi_expected_value", [strategy.strategy_id], list(expected))
    replace_rows(connection, "kpi_revision", [strategy.strategy_id], list(revisions))
    for table, path in (("kpi_score", "scores/kpi_score.sql"), ("kpi_outlook", "summaries/kpi_outlook.sql"),
                        ("project_summary", "summaries/project_summary.sql"),
                        ("project_band_count", "summaries/project_band_count.sql")):
        replace_table_from_query(connection, table, path)
    return connection


def fetch_rows(connection: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    """Rows as dicts; fetchall keeps DECIMAL as Decimal."""
    cursor = connection.execute(query)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def score_one(method: EvaluationMethod, direction: str, baseline: str, actual: str, target: str,
              fiscal_year: int = 2019, expected: str | None = None, target_year: int = 2019) -> dict:
    """Score one KPI-year under ``method``; return its kpi_score row."""
    strategy = Strategy("m", "市", "戦略", 2015, 2019, Path("."), method=method)
    expected_rows = []
    if expected is not None:
        expected_rows = [{"strategy_id": "m", "kpi_id": "001-1", "fiscal_year": fiscal_year,
                          "expected_value": expected, "expected_text": expected, "source_file": "m.csv",
                          "source_line": 2, "source_column": "N 期待値"}]
    connection = refresh_tables(strategy, [kpi_row("m", "001-1", direction, baseline, target, target_year=target_year)],
                                [value_row("m", "001-1", fiscal_year, actual)], expected_rows)
    (row,) = fetch_rows(connection, "select * from kpi_score")
    connection.close()
    return row


def test_clamp_zero_to_hundred():
    # (5 - 10) / (20 - 10) x 100 = -50: raw -50.00, clamped to 0
    row = score_one(EvaluationMethod(clamp_min=Decimal(0), clamp_max=Decimal(100)), "up", "10", "5", "20")
    assert row["raw_score"] == Decimal("-50.00")
    assert row["score"] == Decimal("0.00")


def test_no_clamp_keeps_over_hundred():
    # (25 - 10) / (20 - 10) x 100 = 150, shown as is without a clamp
    row = score_one(EvaluationMethod(clamp_min=None, clamp_max=None), "up", "10", "25", "20")
    assert row["score"] == Decimal("150.00")


def test_maintain_within_tolerance_is_hundred():
    # → with ±3 points: |77.5 - 80| = 2.5 <= 3, so the raw score is 100
    method = EvaluationMethod(formula_maintain="maintain", maintain_tolerance=Decimal(3))
    row = score_one(method, "maintain", "80", "77.5", "80")
    assert row["raw_score"] == Decimal("100.00")
    assert row["target_achieved"] is True


def test_maintain_outside_tolerance_is_achievement():
    # → with ±3 points: |76 - 80| = 4 > 3, so 76 / 80 x 100 = 95.00
    method = EvaluationMethod(formula_maintain="maintain", maintain_tolerance=Decimal(3))
    row = score_one(method, "maintain", "80", "76", "80")
    assert row["raw_score"] == Decimal("95.00")
    assert row["target_achieved"] is False
    assert score_kpi("maintain", Decimal(80), Decimal(76), Decimal(80), method).raw_score == Decimal("95.00")


def test_inverse_achievement_for_down():
    # ↘ as a ratio: target 80 / actual 100 x 100 = 80.00; target / actual = 80 / 64 x 100 = 125 -> clamped to 100
    method = EvaluationMethod(formula_down="inverse_achievement")
    assert score_one(method, "down", "120", "100", "80")["raw_score"] == Decimal("80.00")
    row = score_one(method, "down", "120", "64", "80")
    assert row["raw_score"] == Decimal("125.00")
    assert row["score"] == Decimal("100.00")
    assert score_kpi("down", Decimal(120), Decimal(100), Decimal(80), method).raw_score == Decimal("80.00")


def test_inverse_achievement_actual_zero():
    # target / 0 has no value: no score, and invalid_reason gives the cause
    row = score_one(EvaluationMethod(formula_down="inverse_achievement"), "down", "120", "0", "80")
    assert row["score"] is None
    assert row["invalid_reason"] == "actual_is_zero"


def test_linear_path_progress():
    # path in FY2016: 100 + (200 - 100) x 2 / 5 = 140; (130 - 100) / (140 - 100) x 100 = 75
    row = score_one(EvaluationMethod(yardstick="linear_path"), "up", "100", "130", "200", fiscal_year=2016)
    assert row["yardstick_value"] == Decimal("140")
    assert row["raw_score"] == Decimal("75.00")


def test_linear_path_achievement_rounding():
    # 130 / 140 x 100 = 92.857142…: half up 92.86, truncated 92.85
    half_up = EvaluationMethod(yardstick="linear_path", formula_up="achievement")
    truncate = EvaluationMethod(yardstick="linear_path", formula_up="achievement", rounding="truncate")
    assert score_one(half_up, "up", "100", "130", "200", fiscal_year=2016)["raw_score"] == Decimal("92.86")
    assert score_one(truncate, "up", "100", "130", "200", fiscal_year=2016)["raw_score"] == Decimal("92.85")


def test_linear_path_repeating_decimal_is_exact():
    # baseline 0 in FY2014, target 10 in FY2017: FY2015's path is 10 / 3 = 3.333…;
    # 3 / (10 / 3) x 100 = 90 exactly (a path rounded to 3.333333 would give 90.000009)
    row = score_one(EvaluationMethod(yardstick="linear_path"), "up", "0", "3", "10", fiscal_year=2015,
                    target_year=2017)
    assert row["yardstick_value"] == Decimal("3.333333")
    assert row["raw_score"] == Decimal("90.00")


def test_linear_path_after_target_year_is_target():
    # FY2019 is after the FY2017 target year: the path stays at the target 10; 5 / 10 x 100 = 50
    row = score_one(EvaluationMethod(yardstick="linear_path"), "up", "0", "5", "10", target_year=2017)
    assert row["yardstick_value"] == Decimal("10")
    assert row["raw_score"] == Decimal("50.00")


def test_expected_value_achievement():
    # expected value 50 for FY2019: 45 / 50 x 100 = 90
    method = EvaluationMethod(yardstick="expected_value", formula_up="achievement")
    row = score_one(method, "up", "10", "45", "60", expected="50")
    assert row["yardstick_value"] == Decimal("50")
    assert row["raw_score"] == Decimal("90.00")


def test_expected_value_missing_year():
    # no expected value for FY2019: no score, and invalid_reason gives the cause
    row = score_one(EvaluationMethod(yardstick="expected_value"), "up", "10", "45", "60")
    assert row["score"] is None
    assert row["invalid_reason"] == "expected_value_missing"


def test_bands_judged_on_score_as_shown():
    # 79.6 / 100 x 100 = 79.6, half up to 0 places: 80. On the score as shown that is B+ (80 <= s < 100);
    # on the exact raw score it is B (50 <= 79.6 < 80).
    on_score = EvaluationMethod(decimal_places=0, bands=ABC_BANDS, bands_judged_on="score", formula_up="achievement")
    on_raw = EvaluationMethod(decimal_places=0, bands=ABC_BANDS, formula_up="achievement")
    assert score_one(on_score, "up", "0", "79.6", "100")["band"] == "B+"
    assert score_one(on_raw, "up", "0", "79.6", "100")["band"] == "B"
    assert score_kpi("up", Decimal(0), Decimal("79.6"), Decimal(100), on_score).band == "B+"


def two_kpi_summary(method: EvaluationMethod) -> dict:
    """Summarize two KPIs scoring 33.33 (1 / 3) and 33.34 (100.02 / 300); return FY2019's computed line."""
    strategy = Strategy("m", "市", "戦略", 2015, 2019, Path("."), method=method)
    kpis = [kpi_row("m", "001-1", "up", "0", "3"), kpi_row("m", "002-1", "up", "0", "300")]
    values = [value_row("m", "001-1", 2019, "1"), value_row("m", "002-1", 2019, "100.02")]
    connection = refresh_tables(strategy, kpis, values)
    (row,) = fetch_rows(connection, "select * from project_summary where fiscal_year = 2019")
    connection.close()
    return row


def test_average_rounding_separate_from_score():
    # scores 33.33 and 33.34; mean 33.335: half up to 2 places 33.34, truncated to 1 place 33.3
    assert two_kpi_summary(EvaluationMethod())["average_score"] == Decimal("33.34")
    method = EvaluationMethod(average_rounding="truncate", average_decimal_places=1)
    assert two_kpi_summary(method)["average_score"] == Decimal("33.30")


def test_rollup_band_counts_has_no_average():
    row = two_kpi_summary(EvaluationMethod(rollup="band_counts"))
    assert row["average_score"] is None
    assert row["kpis_evaluated"] == 2
    # both scores lie in 0~50
    assert row["band_0_50_count"] == 2


def test_custom_bands_counted_per_band():
    # 33.33 and 33.34 are both C (< 50); Otaru's four band columns do not apply, so they are null
    strategy = Strategy("m", "市", "戦略", 2015, 2019, Path("."), method=EvaluationMethod(bands=ABC_BANDS))
    kpis = [kpi_row("m", "001-1", "up", "0", "3"), kpi_row("m", "002-1", "up", "0", "300")]
    values = [value_row("m", "001-1", 2019, "1"), value_row("m", "002-1", 2019, "100.02")]
    connection = refresh_tables(strategy, kpis, values)
    counts = dict(connection.execute(
        "select band, kpi_count from project_band_count where fiscal_year = 2019 and basis = 'computed'"
    ).fetchall())
    (summary,) = fetch_rows(connection, "select * from project_summary where fiscal_year = 2019")
    connection.close()
    assert counts == {"C": 2, "B": 0, "B+": 0, "A": 0}
    assert summary["band_0_50_count"] is None


def load_method_text(tmp_path: Path, method_toml: str) -> Strategy:
    path = tmp_path / "strategy.toml"
    path.write_text(
        '[strategy]\nstrategy_id = "m"\nmunicipality = "市"\nname = "戦略"\n'
        "first_fiscal_year = 2015\nlast_fiscal_year = 2019\n\n[method]\n" + method_toml,
        encoding="utf-8",
    )
    return load_strategy(path)


def rejected_problems(tmp_path: Path, method_toml: str) -> list:
    with pytest.raises(InputRejected) as raised:
        load_method_text(tmp_path, method_toml)
    return raised.value.problems


def test_overlapping_bands_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, """
[[method.bands]]
band = "C"
label_ja = "C"
upper = 60
[[method.bands]]
band = "B"
label_ja = "B"
lower = 50
""")
    assert problem.key == "method.bands[2].lower"
    assert "重なっています" in problem.rule_ja
    assert "overlap" in problem.rule_en


def test_gap_between_bands_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, """
[[method.bands]]
band = "C"
label_ja = "C"
upper = 50
[[method.bands]]
band = "B"
label_ja = "B"
lower = 60
""")
    assert problem.key == "method.bands[2].lower"
    assert "すき間" in problem.rule_ja
    assert "gap" in problem.rule_en


def test_clamp_min_not_below_max_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, "clamp_min = 100\nclamp_max = 0\n")
    assert problem.key == "method.clamp_min"
    assert problem.value == "100..0"


def test_tolerance_without_maintain_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, "maintain_tolerance = 3\n")
    assert problem.key == "method.maintain_tolerance"


def test_maintain_formula_for_up_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, 'formula_up = "maintain"\n')
    assert problem.key == "method.formula_up"


def test_unknown_yardstick_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, 'yardstick = "milestone"\n')
    assert problem.key == "method.yardstick"
    assert "final_target" in problem.rule_en


def test_average_keys_with_band_counts_rejected(tmp_path):
    (problem,) = rejected_problems(tmp_path, 'rollup = "band_counts"\naverage_decimal_places = 1\n')
    assert problem.key == "method.average_decimal_places"


def test_clamp_none_accepted(tmp_path):
    strategy = load_method_text(tmp_path, 'clamp_min = "none"\nclamp_max = "none"\n')
    assert strategy.method.clamp_min is None
    assert strategy.method.clamp_max is None


def test_expected_value_yardstick_without_master_rejected(tmp_path):
    strategy = load_method_text(tmp_path, 'yardstick = "expected_value"\n')
    (problem,) = check_expected_values(strategy, None)
    assert problem.key == "method.yardstick"
    assert "期待値" in problem.rule_ja
