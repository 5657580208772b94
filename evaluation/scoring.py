"""The scoring rule in plain Python Decimal arithmetic, as a reference for tests and docs.

The pipeline computes scores in DuckDB SQL (sql/scores/kpi_score.sql); this
module states the same rule in a few lines so that tests can check the SQL
against it on every row and on hand-made edge cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from evaluation.methods import EvaluationMethod


class ScoreUndefined(ValueError):
    """The formula's denominator is zero (target = baseline for progress, target = 0 for achievement)."""


@dataclass(frozen=True)
class Score:
    """One KPI's score in one fiscal year, rounded as the method sets."""

    raw_score: Decimal
    score: Decimal
    band: str
    target_achieved: bool


def exact_raw_score(direction: str, baseline: Decimal, actual: Decimal, target: Decimal,
                    method: EvaluationMethod) -> Decimal:
    """Return the unrounded raw score (補正前スコア); raise ScoreUndefined on a zero denominator.

    ``target`` is the yardstick: the final target, or the year's expected value
    or linear-path value when the method judges against one.
    """
    formula = method.formula_for(direction)
    if formula == "maintain" and abs(actual - target) <= method.maintain_tolerance:
        return Decimal(100)
    if formula == "progress":
        numerator, denominator = actual - baseline, target - baseline
    elif formula == "inverse_achievement":
        numerator, denominator = target, actual
    else:
        numerator, denominator = actual, target
    if denominator == 0:
        raise ScoreUndefined(f"denominator is zero for {formula} (baseline {baseline}, target {target})")
    # 40 significant digits: far more than DECIMAL(18, 6) inputs can need.
    with localcontext() as context:
        context.prec = 40
        return numerator * 100 / denominator


def round_score(value: Decimal, method: EvaluationMethod) -> Decimal:
    """Round half up (四捨五入, half away from zero) or truncate, to the method's places."""
    return round_to(value, method.rounding, method.decimal_places)


def round_to(value: Decimal, rounding: str, places: int) -> Decimal:
    mode = ROUND_HALF_UP if rounding == "half_up" else ROUND_DOWN
    return value.quantize(Decimal(1).scaleb(-places), rounding=mode)


def score_kpi(direction: str, baseline: Decimal, actual: Decimal, target: Decimal,
              method: EvaluationMethod | None = None) -> Score:
    """Score one KPI-year: raw score, clamped score, band and target achieved, as the SQL does."""
    method = method or EvaluationMethod()
    raw = exact_raw_score(direction, baseline, actual, target, method)
    clamped = raw
    if method.clamp_min is not None:
        clamped = max(clamped, method.clamp_min)
    if method.clamp_max is not None:
        clamped = min(clamped, method.clamp_max)
    score = round_score(clamped, method)
    judged = raw if method.bands_judged_on == "raw_score" else score
    band = next(
        b.band for b in method.bands
        if (b.lower is None or judged >= b.lower) and (b.upper is None or judged < b.upper)
    )
    return Score(round_score(raw, method), score, band, raw >= method.target_achieved_threshold)
