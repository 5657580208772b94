"""Each file of tests/bad_inputs fails with its own message, or passes with its own warning.

Every case is a small variant of tests/bad_inputs/_good/table.txt (one project,
four businesses, five KPIs in the Otaru table format). Line numbers below count
lines of that file: 5 is KPI 001-1 (改修件数, 件), 6 is 002-1 (受診率, %), 7 is
003-1 (交通事故件数, ↘), 8 is 004-1 (補助金額, 万円), 9 is 004-2
(登録者数(累計), 人) and 10 is the summary line. Columns: 5 is the baseline,
6-10 the actuals H27-H31.

A failing case runs against a copy of a published good refresh and must leave
that file byte-for-byte unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from evaluation.problems import InputRejected
from tests.conftest import refresh

BAD_INPUTS = Path(__file__).parent / "bad_inputs"

# (case, rule that fails, line, text the message contains)
CHECK_ERRORS = [
    ("unit_changes_in_row", "unit_consistent", 5, "単位「人」がこのKPIの単位「件」と違います"),
    ("percent_over_100", "percent_in_range", 6, "値「105%」: 割合(%)は 0〜100 の範囲です"),
    ("percent_negative", "percent_in_range", 6, "値「-5%」"),
    ("negative_count", "count_not_negative", 5, "値「-3件」: 件数(件)は 0 以上です"),
    ("fullwidth_minus_number", "count_not_negative", 5, "値「－3件」"),
    ("fractional_count", "count_whole", 5, "値「18.5件」: 件数(件)は整数です"),
    ("negative_money", "money_not_negative", 8, "値「-110万円」: 金額(万円)は 0 以上です"),
    ("unknown_unit", "unit_known", 5, "単位「杯」は既知の単位ではありません"),
    ("up_target_below_baseline", "direction_agrees_with_target", 5, "目標値「5件」が基準値「10件」以下です"),
    ("up_target_equals_baseline", "direction_agrees_with_target", 5, "目標値「10件」が基準値「10件」以下です"),
    ("down_target_above_baseline", "direction_agrees_with_target", 7, "目標値「250件」が基準値「200件」以上です"),
    ("same_kpi_twice", "kpi_name_unique", 8, "事業No.4 に同じ名前のKPI「補助金額」が2つあります"),
    ("cumulative_decreases", "cumulative_not_decreasing", 9, "前の値「130人」(2017年度)より減っています"),
    ("year_outside_period_r5", "actual_year_in_period", 5, "実績値の年度 2023年度 が計画期間(2015〜2019年度)の外です"),
    ("target_year_outside_period", "target_year_in_period", 5, "目標値の年度 2023年度"),
    # → with target 0: achievement = actual / 0
    ("maintain_target_zero", "score_denominator_not_zero", 7, "スコアの分母が 0 です"),
    ("baseline_missing", "score_inputs_present", 5, "基準値がないため"),
]

# (case, line or None, text one problem message contains)
INPUT_ERRORS = [
    ("unknown_arrow", 5, "値「⇗」: 方向(↗ ↘ →)の列が見つかりません"),
    ("missing_column", 3, "見出し行に 目標値(年度) がありません"),
    ("empty_file", None, "ファイルが空です"),
    ("random_bytes", None, "文字のファイルではありません(バイナリ)"),
    ("truncated_row", 7, "方向(↗ ↘ →)の列が見つかりません"),
    ("bad_thousands_separator", 5, "値「1,2,3件」: 桁区切りのカンマの位置が正しくありません"),
    ("not_a_table", None, "どの入力形式でもありません"),
    # Heisei ended with H31; H32 and H33 appear in older plans, H35 is a typo
    ("year_outside_period_h35", 3, "値「H35年度」: 年度の表記「H35」: 平成は31年度(2019年度)までです"),
]

# (case, rule with a warning, line, text the message contains): the run publishes
WARNINGS = [
    ("dash_u2015_missing", "missing_marker_variant", 5, "U+2015"),
    ("dash_u2212_missing", "missing_marker_variant", 5, "U+2212"),
    ("dash_u30fc_missing", "missing_marker_variant", 5, "U+30FC"),
    ("bare_number_in_percent_row", "unit_missing", 6, "単位がありません。このKPIの単位「%」として読みました"),
    ("published_score_differs", "published_figures_agree", 5, "補正前スコア: 公表 55.00、再計算 50.00"),
    ("published_band_mark_wrong", "published_figures_agree", 5, "評価区分の記号"),
    ("published_average_differs", "published_figures_agree", 10, "集計行 average_score: 公表 70.00、再計算 60.00"),
]


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file published by a refresh of the good variant."""
    raw = tmp_path_factory.mktemp("good-raw")
    shutil.copytree(BAD_INPUTS / "_good", raw / "case")
    warehouse = tmp_path_factory.mktemp("good-warehouse") / "kpi.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPI_REPORTS_DIR", str(tmp_path_factory.mktemp("good-reports")))
        refresh(raw, warehouse)
    return warehouse


def _run_case(case: str, tmp_path: Path, good_warehouse: Path, raise_on_error: bool = True):
    """Refresh the case into a copy of the good file; return (result or error, path, bytes before)."""
    raw = tmp_path / "raw"
    shutil.copytree(BAD_INPUTS / case, raw / "case")
    warehouse = tmp_path / "warehouse" / "kpi.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(good_warehouse, warehouse)
    before = warehouse.read_bytes()
    try:
        outcome = refresh(raw, warehouse, raise_on_error=raise_on_error)
    except Exception as error:  # noqa: BLE001 - the test inspects what was raised
        outcome = error
    return outcome, warehouse, before


def test_corpus_has_25_faults():
    cases = {path.name for path in BAD_INPUTS.iterdir() if path.is_dir() and path.name != "_good"}
    listed = {case for case, *_ in CHECK_ERRORS + INPUT_ERRORS + WARNINGS}
    assert cases == listed
    assert len(cases) >= 25


def test_good_variant_has_no_findings(good_warehouse):
    with duckdb.connect(str(good_warehouse), read_only=True) as connection:
        assert connection.execute("select count(*) from validation_result").fetchone()[0] == 0
        assert connection.execute("select count(*) from score_discrepancy").fetchone()[0] == 0


@pytest.mark.parametrize(("case", "rule", "line", "text"), CHECK_ERRORS, ids=[c[0] for c in CHECK_ERRORS])
def test_check_error_blocks_publish(case, rule, line, text, tmp_path, good_warehouse):
    # raise_on_error=False lets every check of the run execute, as in the Dagster UI
    outcome, warehouse, before = _run_case(case, tmp_path, good_warehouse, raise_on_error=False)
    assert not outcome.success
    failed = {e.check_name for e in outcome.get_asset_check_evaluations() if not e.passed}
    assert rule in failed
    assert "warehouse_file" not in {e.asset_key.to_user_string() for e in outcome.get_asset_materialization_events()}
    assert warehouse.read_bytes() == before

    # The run's staging file is removed at run end, so the failing rows' messages are read from
    # the check evaluation's metadata, which the command line and the Dagster UI show.
    evaluations = [e for e in outcome.get_asset_check_evaluations() if e.check_name == rule and not e.passed]
    messages = [
        line_text
        for evaluation in evaluations
        for line_text in evaluation.metadata["messages"].text.splitlines()
    ]
    assert messages
    at_line = [message for message in messages if f"case/table.txt {line}行目" in message]
    assert at_line, messages
    assert any(text in message for message in at_line), at_line
    assert any(f"line {line}" in message for message in at_line)
    assert not list(warehouse.parent.glob(".kpi.duckdb.*.staging"))


@pytest.mark.parametrize(("case", "line", "text"), INPUT_ERRORS, ids=[c[0] for c in INPUT_ERRORS])
def test_input_error_rejects_run(case, line, text, tmp_path, good_warehouse):
    outcome, warehouse, before = _run_case(case, tmp_path, good_warehouse)
    cause = getattr(outcome, "user_exception", None) or outcome
    assert isinstance(cause, InputRejected)
    matching = [p for p in cause.problems if text in p.message]
    assert matching, [p.message for p in cause.problems]
    if line is not None:
        assert matching[0].line == line
    assert warehouse.read_bytes() == before


@pytest.mark.parametrize(("case", "rule", "line", "text"), WARNINGS, ids=[c[0] for c in WARNINGS])
def test_warning_is_published(case, rule, line, text, tmp_path, good_warehouse):
    outcome, warehouse, before = _run_case(case, tmp_path, good_warehouse)
    assert outcome.success
    assert warehouse.read_bytes() != before
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select severity, source_line, message from validation_result where check_name = ?", [rule]
        ).fetchall()
        errors = connection.execute(
            "select count(*) from validation_result where severity = 'error'"
        ).fetchone()[0]
    assert errors == 0
    assert {severity for severity, _, _ in rows} == {"warning"}
    assert any(row_line == line and text in message for _, row_line, message in rows), rows
