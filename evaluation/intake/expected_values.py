"""Expected values per fiscal year (期待値, 目安値) in the KPI master, one column per year.

Prefectures that judge each year against an interim value publish it beside
the final target. The master gives one column per fiscal year, its header
naming the year: 「期待値(R2)」, 「目安値(2021年度)」, 「R3期待値」. A blank cell
means no expected value for that year. Values are read like the baseline: in
the KPI's unit, percent cells as percentages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from evaluation.eras import EraError, fiscal_year
from evaluation.intake.columns import ColumnError, in_kpi_unit, quantity_text, to_quantity
from evaluation.intake.sheets import Grid, Header, column_letter, is_blank
from evaluation.problems import InputProblem
from evaluation.strategy import Strategy

if TYPE_CHECKING:
    from evaluation.intake.master import KpiMaster

EXPECTED_WORDS = ("期待値", "目安値")
# A folded header: the word then the year (in brackets or not), or the year then the word.
_WORD_FIRST = re.compile(r"^(?:期待値|目安値)[(\[]?(?P<year>[^)\]]+)[)\]]?$")
_YEAR_FIRST = re.compile(r"^(?P<year>.+?)(?:の)?(?:期待値|目安値)$")


@dataclass(frozen=True)
class ExpectedValue:
    """One KPI's expected value for one fiscal year, as read from its master cell."""

    fiscal_year: int
    value: Decimal
    text: str
    source_column: str  # "N 期待値(R2)"


def expected_value_columns(grid: Grid, header: Header) -> tuple[dict[int, tuple[int, str]], list[InputProblem]]:
    """Map each 期待値/目安値 column's position to (fiscal year, header label); list unreadable headers."""
    columns: dict[int, tuple[int, str]] = {}
    problems: list[InputProblem] = []
    years: dict[int, int] = {}
    for position, label in sorted(header.labels.items()):
        if not any(word in label for word in EXPECTED_WORDS):
            continue
        match = _WORD_FIRST.match(label) or _YEAR_FIRST.match(label)
        try:
            if match is None:
                raise EraError(label)
            year = fiscal_year(match["year"])
        except EraError:
            problems.append(grid.problem(header.first_row, f"{column_letter(position)} {label}", label,
                                         "期待値・目安値の見出しに年度が読めません(例: 期待値(R2)、目安値(2021年度))",
                                         "the expected-value header names no fiscal year "
                                         "(e.g. 期待値(R2), 目安値(2021年度))"))
            continue
        if year in years:
            problems.append(grid.problem(header.first_row, f"{column_letter(position)} {label}", label,
                                         f"{year}年度の期待値の列が2つあります({column_letter(years[year])}列と重複)",
                                         f"a second expected-value column for FY{year} "
                                         f"(column {column_letter(years[year])} has one)"))
            continue
        years[year] = position
        columns[position] = (year, label)
    return columns, problems


def read_expected_values(grid: Grid, row: int, columns: dict[int, tuple[int, str]],
                         unit: str | None) -> tuple[tuple[ExpectedValue, ...], list[InputProblem]]:
    """Read one KPI row's expected values; a blank cell or a missing marker gives no value."""
    values: list[ExpectedValue] = []
    problems: list[InputProblem] = []
    for position, (year, label) in sorted(columns.items()):
        cell = grid.cell(row, position)
        if is_blank(cell):
            continue
        column = f"{column_letter(position)} {label}"
        try:
            quantity = in_kpi_unit(to_quantity(cell), unit)
        except ColumnError as error:
            problems.append(grid.problem(row, column, cell.value, error.rule_ja, error.rule_en))
            continue
        if quantity.value is not None:
            values.append(ExpectedValue(year, quantity.value, quantity_text(quantity, unit), column))
    return tuple(values), problems


def check_expected_values(strategy: Strategy, master: KpiMaster | None) -> list[InputProblem]:
    """Check that a method judging against expected values has one for every evaluated KPI and year.

    A year needs a value from the first fiscal year of the strategy to the KPI's
    target year (or the last fiscal year, if earlier). Expected values that the
    method does not use give a warning, since the master may be meant for
    another method.
    """
    key = "method.yardstick"
    uses_them = strategy.method.yardstick == "expected_value"
    has_any = master is not None and any(kpi.expected_values for kpi in master.kpis)
    if not uses_them:
        if has_any:
            return [InputProblem(master.source_file, None, "期待値", "", "KPIマスターに期待値・目安値の列がありますが、"
                                 "strategy.toml の yardstick が expected_value ではないので使いません",
                                 "the KPI master has expected-value columns, but strategy.toml's yardstick is not "
                                 "expected_value, so they are not used", severity="warning")]
        return []
    if not has_any:
        where = master.source_file if master is not None else "strategy.toml"
        return [InputProblem("strategy.toml", None, None, "expected_value",
                             f"yardstick = \"expected_value\" ですが、{where} に期待値・目安値の列"
                             "(例: 「期待値(R2)」)がありません。列を足すか yardstick を変えてください",
                             f'yardstick = "expected_value" but {where} has no expected-value columns '
                             "(e.g. 期待値(R2)); add them or choose another yardstick", key=key)]
    problems = []
    for kpi in master.kpis:
        if not kpi.evaluated:
            continue
        present = {expected.fiscal_year for expected in kpi.expected_values}
        last = min(strategy.last_fiscal_year, kpi.target_fiscal_year)
        missing = [year for year in range(strategy.first_fiscal_year, last + 1) if year not in present]
        if missing:
            years = ", ".join(str(year) for year in missing)
            problems.append(InputProblem(kpi.source_file, kpi.source_line, "期待値", kpi.kpi_id,
                                         f"yardstick = \"expected_value\" ですが、KPI {kpi.kpi_id} に"
                                         f" {years}年度の期待値がありません",
                                         f'yardstick = "expected_value" but KPI {kpi.kpi_id} has no expected value '
                                         f"for FY {years}", key=key))
    return problems
