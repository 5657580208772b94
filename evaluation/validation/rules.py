"""The validation rules: what each one checks, its severity, its message and its expectations.

A rule is data. It names the frame it runs on (see ``frames.py``) and its
severity: an error stops the run, a warning is recorded and shown. It also
carries the message for each failing row and the Great Expectations
expectations that decide which rows fail. Messages are ``str.format`` templates over the frame's columns, Japanese
first with the English beside. The expectation factories receive the module
``great_expectations.expectations`` so that this module imports no GX.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from evaluation.validation.units import COUNT_UNITS, KNOWN_UNITS


class Severity(StrEnum):
    """ERROR stops the run before scores are published; WARNING is recorded and shown."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """One validation rule, run as one Dagster asset check named ``name``."""

    name: str
    frame: str  # kpi | kpi_cell | published_kpi_score | published_summary | kpi_score | score_discrepancy
    severity: Severity
    title_ja: str  # what the rule requires, for docs and the check description
    message_ja: str  # template over the frame's columns
    message_en: str
    expectations: Callable[[Any], list]
    column: str = "{source_column}"  # template naming the column shown in the message
    value: str = "{value_text}"  # template giving the value shown in the message
    # The same rule as a DuckDB SQL condition over the frame's columns, true for a
    # failing row. A null counts as passing, because the expectations skip a
    # missing value. tests/test_validation_engines.py checks that both agree.
    failing: str = ""


PANDAS = "pandas"


def _when(condition: str) -> dict:
    """Keyword arguments that restrict an expectation to the rows matching a pandas query."""
    # TODO: GX Core 1.9+ deprecates string row conditions (removed in 2.0); move to
    # great_expectations Condition objects before upgrading GX past 1.x.
    return {"row_condition": condition, "condition_parser": PANDAS}


def _in_period(column: str, condition: str) -> Callable[[Any], list]:
    """Expectations that ``column`` lies in [first_fiscal_year, last_fiscal_year] of its strategy."""
    return lambda ex: [
        ex.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=column, column_B="first_fiscal_year", or_equal=True, **_when(condition)
        ),
        ex.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_fiscal_year", column_B=column, or_equal=True, **_when(condition)
        ),
    ]


def _pair_fails_sql(condition: str, column_a: str, column_b: str) -> str:
    """SQL for a failing row of a column-pair expectation that skips rows where both values are missing."""
    return f"(not ({column_a} is null and {column_b} is null) and not coalesce({condition}, false))"


def _outside_period_sql(column: str, condition: str = "true") -> str:
    """SQL for a row of ``_in_period``'s expectations that fails: ``column`` outside the period."""
    return (
        f"({condition}) and ({_pair_fails_sql(f'{column} >= first_fiscal_year', column, 'first_fiscal_year')}"
        f" or {_pair_fails_sql(f'last_fiscal_year >= {column}', 'last_fiscal_year', column)})"
    )


_UNIT_LIST = " ".join(COUNT_UNITS[:11]) + " % 円 万円 千t …"
# a unit cell that names no known unit ('' in validation_unit stands for no unit)
UNKNOWN_UNIT_SQL = "unit is not null and unit not in (select unit from validation_unit where unit <> '')"
_ALWAYS = "row_id >= 0"

RULES: tuple[Rule, ...] = (
    # -- kpi: one row per KPI ------------------------------------------------------
    Rule(
        "kpi_key_unique", "kpi", Severity.ERROR,
        "KPIのキー(戦略・KPI番号)は1つにつき1行",
        "KPI「{kpi_id}」が2回あります(同じ事業番号の行が重複しています)",
        "KPI {kpi_id} appears twice (a business number is repeated)",
        lambda ex: [ex.ExpectCompoundColumnsToBeUnique(column_list=["strategy_id", "kpi_id"])],
        column="No.", value="{business_no}",
        failing="count(*) over (partition by strategy_id, kpi_id) > 1",
    ),
    Rule(
        "kpi_name_unique", "kpi", Severity.ERROR,
        "1つの事業の中で同じ名前のKPIは1つだけ",
        "事業No.{business_no} に同じ名前のKPI「{kpi_name}」が2つあります",
        "business No.{business_no} has two KPIs named {kpi_name!r}",
        lambda ex: [ex.ExpectCompoundColumnsToBeUnique(column_list=["strategy_id", "business_no", "kpi_name"])],
        column="施策KPI", value="{kpi_name}",
        failing="count(*) over (partition by strategy_id, business_no, kpi_name) > 1",
    ),
    Rule(
        "direction_known", "kpi", Severity.ERROR,
        "方向は ↗(増加) ↘(減少) →(維持) のどれか",
        "方向「{direction}」は ↗ ↘ → のどれでもありません",
        "direction {direction!r} is none of ↗ ↘ →",
        lambda ex: [ex.ExpectColumnValuesToBeInSet(column="direction", value_set=["up", "down", "maintain"])],
        column="方向", value="{direction}",
        failing="direction is not null and direction not in ('up', 'down', 'maintain')",
    ),
    Rule(
        "direction_agrees_with_target", "kpi", Severity.ERROR,
        "↗ は目標値 > 基準値、↘ は目標値 < 基準値(目標値 = 基準値 は → だけ)",
        "方向「{direction_symbol}」なのに目標値「{target_text}」が基準値「{baseline_text}」{direction_conflict_ja}",
        "direction {direction_symbol} but the target {target_text!r} {direction_conflict_en} "
        "the baseline {baseline_text!r}",
        lambda ex: [
            ex.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="target_value", column_B="baseline_value", ignore_row_if="either_value_is_missing",
                **_when('direction == "up"'),
            ),
            ex.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="baseline_value", column_B="target_value", ignore_row_if="either_value_is_missing",
                **_when('direction == "down"'),
            ),
        ],
        column="方向", value="{direction_symbol} {baseline_text} → {target_text}",
        failing="(direction = 'up' and not target_value > baseline_value)"
        " or (direction = 'down' and not baseline_value > target_value)",
    ),
    Rule(
        "maintain_target_equals_baseline", "kpi", Severity.WARNING,
        "→(維持)のKPIは目標値 = 基準値 が普通",
        "方向「→」(維持)なのに目標値「{target_text}」が基準値「{baseline_text}」と違います。"
        "スコアは 実績値 ÷ 目標値 で計算します",
        "direction → (maintain) but the target {target_text!r} differs from the baseline "
        "{baseline_text!r}; the score is actual / target",
        lambda ex: [
            ex.ExpectColumnPairValuesToBeEqual(
                column_A="target_value", column_B="baseline_value", ignore_row_if="either_value_is_missing",
                **_when('direction == "maintain"'),
            )
        ],
        column="目標値", value="{target_text}",
        failing="direction = 'maintain' and target_value <> baseline_value",
    ),
    Rule(
        "target_year_in_period", "kpi", Severity.ERROR,
        "目標値の年度は計画期間の中",
        "目標値の年度 {target_fiscal_year}年度 が計画期間({first_fiscal_year}〜{last_fiscal_year}年度)の外です",
        "the target's fiscal year {target_fiscal_year} is outside the strategy period "
        "{first_fiscal_year}-{last_fiscal_year}",
        _in_period("target_fiscal_year", _ALWAYS),
        column="目標値", value="{target_fiscal_year}",
        failing=_outside_period_sql("target_fiscal_year"),
    ),
    Rule(
        "baseline_year_before_target", "kpi", Severity.ERROR,
        "基準値の年度は目標値の年度より前",
        "基準値の年度 {baseline_fiscal_year}年度 が目標値の年度 {target_fiscal_year}年度 より前ではありません",
        "the baseline's fiscal year {baseline_fiscal_year} is not before the target's {target_fiscal_year}",
        lambda ex: [
            ex.ExpectColumnPairValuesAToBeGreaterThanB(column_A="target_fiscal_year", column_B="baseline_fiscal_year")
        ],
        column="基準値", value="{baseline_fiscal_year}",
        failing=_pair_fails_sql("target_fiscal_year > baseline_fiscal_year", "target_fiscal_year", "baseline_fiscal_year"),
    ),
    Rule(
        "kpi_unit_known", "kpi", Severity.ERROR,
        f"KPIの単位は既知のもの({_UNIT_LIST})",
        "KPIの単位「{unit}」は既知の単位ではありません(" + _UNIT_LIST + ")。範囲の規則をかけられません",
        "the KPI's unit {unit!r} is not a known unit, so no range rule applies to its values",
        lambda ex: [ex.ExpectColumnValuesToBeInSet(column="unit", value_set=sorted(KNOWN_UNITS))],
        column="単位", value="{unit}",
        failing=UNKNOWN_UNIT_SQL,
    ),
    Rule(
        "row_read_with_correction", "kpi", Severity.WARNING,
        "読み込み時に補正や注記があったKPIは元の表と見比べる",
        "読み込み時に補正や注記がありました。元の表と見比べてください({notes})",
        "the row was read with a correction or note; compare it with the source table ({notes})",
        lambda ex: [ex.ExpectColumnValuesToBeNull(column="notes")],
        column="", value="{kpi_name}",
        failing="notes is not null",
    ),
    # -- kpi_cell: one row per baseline, actual or target cell ---------------------
    Rule(
        "unit_known", "kpi_cell", Severity.ERROR,
        f"単位は既知のもの({_UNIT_LIST})",
        "単位「{unit}」は既知の単位ではありません(" + _UNIT_LIST + ")",
        "unit {unit!r} is not a known unit",
        lambda ex: [ex.ExpectColumnValuesToBeInSet(column="unit", value_set=sorted(KNOWN_UNITS))],
        failing=UNKNOWN_UNIT_SQL,
    ),
    Rule(
        "unit_consistent", "kpi_cell", Severity.ERROR,
        "基準値・実績値・目標値は1つのKPIで同じ単位",
        "単位「{unit}」がこのKPIの単位「{kpi_unit}」と違います(基準値・実績値・目標値は同じ単位で書いてください)",
        "unit {unit!r} differs from the KPI's unit {kpi_unit!r} (baseline, actuals and target "
        "need one unit)",
        lambda ex: [
            ex.ExpectColumnPairValuesToBeEqual(
                column_A="unit", column_B="kpi_unit", ignore_row_if="either_value_is_missing"
            )
        ],
        failing="unit <> kpi_unit",
    ),
    Rule(
        "unit_missing", "kpi_cell", Severity.WARNING,
        "公表評価表のセルで単位のない数値は、KPIの単位で書かれたものとして読む",
        "単位がありません。このKPIの単位「{kpi_unit}」として読みました",
        "the value has no unit; read in the KPI's unit {kpi_unit!r}",
        lambda ex: [ex.ExpectColumnValuesToNotBeNull(column="unit", **_when("unit_expected"))],
        failing="unit_expected and unit is null",
    ),
    Rule(
        "percent_in_range", "kpi_cell", Severity.ERROR,
        "割合(%)は 0〜100",
        "割合(%)は 0〜100 の範囲です",
        "a percentage lies in 0-100",
        lambda ex: [
            ex.ExpectColumnValuesToBeBetween(
                column="normalized_value", min_value=0, max_value=100, **_when('unit_kind == "percent"')
            )
        ],
        failing="unit_kind = 'percent' and (normalized_value < 0 or normalized_value > 100)",
    ),
    Rule(
        "count_whole", "kpi_cell", Severity.ERROR,
        "件数(件・人・棟 など)は整数",
        "件数({kpi_unit})は整数です",
        "a count ({kpi_unit}) is a whole number",
        lambda ex: [
            ex.ExpectColumnValuesToBeInSet(column="fraction", value_set=[0.0], **_when('unit_kind == "count"'))
        ],
        failing="unit_kind = 'count' and fraction <> 0",
    ),
    Rule(
        "count_not_negative", "kpi_cell", Severity.ERROR,
        "件数は 0 以上",
        "件数({kpi_unit})は 0 以上です",
        "a count ({kpi_unit}) is not negative",
        lambda ex: [
            ex.ExpectColumnValuesToBeBetween(column="normalized_value", min_value=0, **_when('unit_kind == "count"'))
        ],
        failing="unit_kind = 'count' and normalized_value < 0",
    ),
    Rule(
        "money_not_negative", "kpi_cell", Severity.ERROR,
        "金額(円・万円 など)は 0 以上",
        "金額({kpi_unit})は 0 以上です",
        "an amount of money ({kpi_unit}) is not negative",
        lambda ex: [
            ex.ExpectColumnValuesToBeBetween(column="normalized_value", min_value=0, **_when('unit_kind == "money"'))
        ],
        failing="unit_kind = 'money' and normalized_value < 0",
    ),
    Rule(
        "cumulative_not_decreasing", "kpi_cell", Severity.ERROR,
        "累計のKPIは前の年度の値より減らない",
        "累計のKPIなのに、前の値「{previous_text}」({previous_fiscal_year}年度)より減っています",
        "a cumulative KPI decreased from {previous_text!r} (FY{previous_fiscal_year})",
        lambda ex: [
            ex.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="normalized_value", column_B="previous_value", or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        ],
        failing="normalized_value < previous_value",
    ),
    Rule(
        "actual_year_in_period", "kpi_cell", Severity.ERROR,
        "実績値の年度は計画期間の中",
        "実績値の年度 {fiscal_year}年度 が計画期間({first_fiscal_year}〜{last_fiscal_year}年度)の外です",
        "the actual's fiscal year {fiscal_year} is outside the strategy period "
        "{first_fiscal_year}-{last_fiscal_year}",
        _in_period("fiscal_year", 'cell_role == "actual"'),
        failing=_outside_period_sql("fiscal_year", "cell_role = 'actual'"),
    ),
    Rule(
        "cell_key_unique", "kpi_cell", Severity.ERROR,
        "実績値は1つのKPI・年度につき1つ",
        "KPI「{kpi_id}」の {fiscal_year}年度 の実績値が2つあります",
        "KPI {kpi_id} has two actual values for FY{fiscal_year}",
        lambda ex: [
            ex.ExpectCompoundColumnsToBeUnique(
                column_list=["strategy_id", "kpi_id", "cell_role", "fiscal_year"], **_when('cell_role == "actual"')
            )
        ],
        failing="cell_role = 'actual' and count(*) over (partition by cell_role, strategy_id, kpi_id, fiscal_year) > 1",
    ),
    Rule(
        "missing_marker_variant", "kpi_cell", Severity.WARNING,
        "欠測の印は「—」(U+2014)。ほかのダッシュや空欄は欠測として読み、記録する",
        "「—」(U+2014)以外の書き方を欠測として読みました({note})",
        "read as missing although not written as U+2014 EM DASH ({note})",
        lambda ex: [ex.ExpectColumnValuesToBeNull(column="note")],
        failing="note is not null",
    ),
    # -- published_kpi_score and published_summary ------------------------------------
    Rule(
        "published_score_year_in_period", "published_kpi_score", Severity.ERROR,
        "公表スコアの年度は計画期間の中",
        "公表スコアの年度 {fiscal_year}年度 が計画期間({first_fiscal_year}〜{last_fiscal_year}年度)の外です",
        "the published score's fiscal year {fiscal_year} is outside the strategy period "
        "{first_fiscal_year}-{last_fiscal_year}",
        _in_period("fiscal_year", _ALWAYS),
        value="{fiscal_year}",
        failing=_outside_period_sql("fiscal_year"),
    ),
    Rule(
        "published_score_key_unique", "published_kpi_score", Severity.ERROR,
        "公表スコアは1つのKPI・年度につき1つ",
        "KPI「{kpi_id}」の {fiscal_year}年度 の公表スコアが2つあります",
        "KPI {kpi_id} has two published scores for FY{fiscal_year}",
        lambda ex: [ex.ExpectCompoundColumnsToBeUnique(column_list=["strategy_id", "kpi_id", "fiscal_year"])],
        value="{kpi_id}",
        failing="count(*) over (partition by strategy_id, kpi_id, fiscal_year) > 1",
    ),
    Rule(
        "published_summary_year_in_period", "published_summary", Severity.ERROR,
        "公表された集計行の年度は計画期間の中",
        "集計行の年度 {fiscal_year}年度 が計画期間({first_fiscal_year}〜{last_fiscal_year}年度)の外です",
        "the summary line's fiscal year {fiscal_year} is outside the strategy period "
        "{first_fiscal_year}-{last_fiscal_year}",
        _in_period("fiscal_year", _ALWAYS),
        value="{fiscal_year}",
        failing=_outside_period_sql("fiscal_year"),
    ),
    Rule(
        "published_summary_key_unique", "published_summary", Severity.ERROR,
        "集計行は1つのプロジェクト・年度につき1行",
        "プロジェクト({project_no}) の {fiscal_year}年度 の集計行が2つあります",
        "project ({project_no}) has two summary lines for FY{fiscal_year}",
        lambda ex: [ex.ExpectCompoundColumnsToBeUnique(column_list=["strategy_id", "project_no", "fiscal_year"])],
        value="({project_no})",
        failing="count(*) over (partition by strategy_id, project_no, fiscal_year) > 1",
    ),
    # -- kpi_score: one row per KPI and fiscal year with an actual -------------------
    Rule(
        "score_finite", "kpi_score", Severity.ERROR,
        "スコアは有限の数(無限大・NaN でない)",
        "スコアが有限の数ではありません(補正前スコア {raw_score}, スコア {score})",
        "the score is not a finite number (raw score {raw_score}, score {score})",
        lambda ex: [ex.ExpectColumnValuesToBeInSet(column="scores_finite", value_set=[True])],
        failing="not scores_finite",
    ),
    Rule(
        "score_denominator_not_zero", "kpi_score", Severity.ERROR,
        "スコアの分母(目標値 − 基準値、→ は目標値)は 0 でない",
        "スコアの分母が 0 です({invalid_reason_ja})。{fiscal_year}年度 のスコアを計算できません",
        "the score's denominator is zero ({invalid_reason}); FY{fiscal_year} cannot be scored",
        lambda ex: [
            ex.ExpectColumnValuesToNotBeInSet(
                column="invalid_reason", value_set=["target_equals_baseline", "target_is_zero"],
                **_when("evaluated"),
            )
        ],
        failing="evaluated and invalid_reason in ('target_equals_baseline', 'target_is_zero')",
    ),
    Rule(
        "score_inputs_present", "kpi_score", Severity.ERROR,
        "実績値のある集計対象KPIは基準値と目標値を持つ",
        "実績値があるのに{invalid_reason_ja}ため、{fiscal_year}年度 のスコアを計算できません",
        "FY{fiscal_year} has an actual but cannot be scored: {invalid_reason}",
        lambda ex: [
            ex.ExpectColumnValuesToNotBeInSet(
                column="invalid_reason", value_set=["baseline_missing", "target_missing"], **_when("evaluated")
            )
        ],
        failing="evaluated and invalid_reason in ('baseline_missing', 'target_missing')",
    ),
    # -- score_discrepancy: published figures against recomputed ones -------------------
    Rule(
        "published_figures_agree", "score_discrepancy", Severity.WARNING,
        "公表された数値は再計算した数値と一致する(差が 0.005 以下)",
        "{description_ja}",
        "{description_en}",
        lambda ex: [
            ex.ExpectColumnPairValuesToBeEqual(
                column_A="published_text", column_B="recomputed_text", ignore_row_if="both_values_are_missing"
            )
        ],
        value="{published_text}",
        failing=_pair_fails_sql("published_text = recomputed_text", "published_text", "recomputed_text"),
    ),
)

RULES_BY_NAME = {rule.name: rule for rule in RULES}


def rules_for(frame: str) -> list[Rule]:
    """Return the rules that run on ``frame``, in catalogue order."""
    return [rule for rule in RULES if rule.frame == frame]
