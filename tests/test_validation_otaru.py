"""Validation and reconciliation of the real Otaru table (data/raw/otaru)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.validation.rules import RULES, Severity
from evaluation.validation.units import UnitKind, normalize_unit


@pytest.fixture(scope="module")
def otaru(otaru_warehouse):
    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        yield connection


def test_otaru_has_no_errors(otaru):
    assert otaru.execute("select count(*) from validation_result where severity = 'error'").fetchone()[0] == 0


def test_otaru_bare_percent_is_warning(otaru):
    # line 43: 025-1 乳幼児健診受診率, baseline "96.45" while the rest of the row has %
    rows = otaru.execute(
        "select record_key, source_line, source_column, value from validation_result where check_name = 'unit_missing'"
    ).fetchall()
    assert rows == [("otaru-2015 025-1 baseline FY2014", 43, "基準値", "96.45")]


def test_otaru_units_pass(otaru):
    # 055-1 普通救命講習会(I・II) (line 97) and every other KPI keep one known unit
    failing = otaru.execute(
        "select count(*) from validation_result where check_name in ('unit_known', 'unit_consistent')"
    ).fetchone()[0]
    assert failing == 0


def test_otaru_discrepancies(otaru):
    rows = otaru.execute(
        """
        select kpi_id, discrepancy, published_value, recomputed_value, difference, source_line
        from score_discrepancy order by kpi_id, discrepancy
        """
    ).fetchall()
    assert rows == [
        # line 10: business No.4, excluded in strategy.toml; 5件 -> 1件, target 6件: (1-5)/(6-5) = -400, clamped
        ("004-1", "score_not_published", None, Decimal("-100.00"), None, 10),
        # line 15: 0件 -> 3件, target 50件: 3/50 x 100 = 6.00; printed 30.00
        ("007-2", "raw_score", Decimal("30.00"), Decimal("6.00"), Decimal("-24.00"), 15),
        ("007-2", "score", Decimal("30.00"), Decimal("6.00"), Decimal("-24.00"), 15),
        # line 100: → 151町会 / 152町会 x 100 = 99.34; printed 86.67
        ("059-1", "raw_score", Decimal("86.67"), Decimal("99.34"), Decimal("12.67"), 100),
        ("059-1", "score", Decimal("86.67"), Decimal("99.34"), Decimal("12.67"), 100),
    ]


def test_otaru_exclusion_reason_kept(otaru):
    reason = otaru.execute(
        "select exclusion_reason from score_discrepancy where kpi_id = '004-1'"
    ).fetchone()[0]
    assert reason.startswith("公表された評価表で集計対象外")


def test_otaru_published_summaries_agree(otaru):
    # the four published lines (63.08, 28.60, 42.24, -20.39) follow from the printed scores
    assert otaru.execute("select count(*) from score_discrepancy where discrepancy = 'summary'").fetchone()[0] == 0


def test_otaru_published_figures_warned(otaru):
    count = otaru.execute(
        "select count(*) from validation_result where check_name = 'published_figures_agree'"
    ).fetchone()[0]
    assert count == 5  # one per score_discrepancy row above


def test_otaru_scaled_units_keep_factor(otaru):
    rows = otaru.execute(
        "select kpi_id, unit, base_unit, unit_factor from kpi_unit where unit_factor <> 1 order by kpi_id"
    ).fetchall()
    # line 56: 小樽がらす市における売上 in 万円; line 58: 取扱貨物量 in 千t
    assert rows == [
        ("031-2", "万円", "円", Decimal("10000")),
        ("033-1", "千t", "t", Decimal("1000")),
    ]


def test_data_docs_written(otaru_warehouse, tmp_path_factory):
    reports = sorted(tmp_path_factory.getbasetemp().glob("otaru-reports*/validation/index.html"))
    assert reports
    assert "kpi_cell" in reports[0].read_text(encoding="utf-8")


def test_unit_factor():
    unit = normalize_unit("万円")
    assert (unit.base, unit.factor, unit.kind) == ("円", Decimal(10000), UnitKind.MONEY)
    assert normalize_unit("杯") is None
    assert normalize_unit(None).kind is UnitKind.RATIO


def test_rules_documented():
    text = (Path(__file__).parent.parent / "docs" / "validation.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.name}`" in text, rule.name
        severity = "エラー" if rule.severity is Severity.ERROR else "警告"
        assert severity in text
