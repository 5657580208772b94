"""Revisions of KPI baselines and targets (基準値・目標値の改定), each with its effective year and reason.

A strategy may raise a target mid-plan or rebase a baseline after statistics
were revised. The revision sheet (「改定」 in the master workbook, or a CSV file
of its own) has one row per revision:

| KPIコード | 適用年度 | 基準年度 | 基準値 | 目標年度 | 目標値 | 改定理由 |

Only the changed values need a cell; the others carry over from the version in
force before. The KPI as first defined is version 0; revisions are numbered 1,
2, … in order of effective year, and each is in force from its effective year
until the next one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from evaluation.intake.columns import (
    CODE,
    FISCAL_YEAR,
    QUANTITY,
    TEXT,
    Column,
    ColumnError,
    Quantity,
    cell_value,
    column_name,
    convert,
    in_kpi_unit,
    locate_columns,
    plain,
)
from evaluation.intake.master import KpiMaster, MasterKpi
from evaluation.intake.sheets import Grid, data_rows, find_header
from evaluation.problems import InputProblem
from evaluation.strategy import Strategy

log = logging.getLogger(__name__)

REVISION_SHEET = "改定"
ANCHOR = "KPIコード"
COLUMNS = (
    Column("kpi_id", ANCHOR, CODE),
    Column("effective_fiscal_year", "適用年度", FISCAL_YEAR, aliases=("適用開始年度",)),
    Column("baseline_fiscal_year", "基準年度", FISCAL_YEAR, required=False),
    Column("baseline", "基準値", QUANTITY, required=False),
    Column("target_fiscal_year", "目標年度", FISCAL_YEAR, required=False),
    Column("target", "目標値", QUANTITY, required=False),
    Column("reason", "改定理由", TEXT),
)


@dataclass(frozen=True)
class Revision:
    """One row of the revision sheet: the values it changes (None keeps the earlier one)."""

    kpi_id: str
    effective_fiscal_year: int
    baseline_fiscal_year: int | None
    baseline: Decimal | None
    target_fiscal_year: int | None
    target: Decimal | None
    reason: str
    source_file: str
    source_line: int


def is_revision_grid(grid: Grid) -> bool:
    """Return True when the grid has the revision header: KPIコード with 適用年度 and 改定理由."""
    header = find_header(grid, ANCHOR, {label for c in COLUMNS for label in c.labels})
    if header is None:
        return False
    keys = set(header.labels.values())
    return "改定理由" in keys and bool(keys & {"適用年度", "適用開始年度"})


def read_revisions(grids: list[Grid], master: KpiMaster | None) -> tuple[list[Revision], list[InputProblem]]:
    """Read every revision sheet among ``grids``, checking each row against the master's KPI."""
    revisions: list[Revision] = []
    problems: list[InputProblem] = []
    for grid in (g for g in grids if is_revision_grid(g)):
        if master is None:
            problems.append(grid.problem(None, None, "",
                                         "改定の表には KPIマスターが必要です。同じフォルダにマスターを置いてください",
                                         "a revision sheet needs a KPI master in the same strategy folder"))
            continue
        header = find_header(grid, ANCHOR, {label for c in COLUMNS for label in c.labels})
        positions, header_problems = locate_columns(grid, header, COLUMNS)
        problems.extend(header_problems)
        if header_problems:
            continue
        known = master.by_id()
        for row, _ in data_rows(grid, header):
            revision, row_problems = _read_row(grid, row, positions, known)
            problems.extend(row_problems)
            if revision is not None:
                revisions.append(revision)
    return revisions, problems


def _read_row(grid: Grid, row: int, positions: dict[str, int],
              known: dict[str, MasterKpi]) -> tuple[Revision | None, list[InputProblem]]:
    fields: dict[str, object] = {}
    problems: list[InputProblem] = []

    def where(name: str) -> str:
        column = next(c for c in COLUMNS if c.name == name)
        return column_name(column, positions[name]) if name in positions else column.label

    for column in COLUMNS:
        fields[column.name] = None
        if column.name in positions:
            try:
                fields[column.name] = convert(cell_value(grid, row, positions[column.name], column), column)
            except ColumnError as error:
                problems.append(grid.problem(row, where(column.name), grid.cell(row, positions[column.name]).value,
                                             error.rule_ja, error.rule_en))
    if problems:
        return None, problems
    for name, label in (("kpi_id", "KPIコード"), ("effective_fiscal_year", "適用年度"), ("reason", "改定理由")):
        if fields[name] is None:
            problems.append(grid.problem(row, where(name), "", f"「{label}」が空欄です", f"{label} is empty"))
    kpi = known.get(fields["kpi_id"]) if fields["kpi_id"] else None
    if fields["kpi_id"] and kpi is None:
        problems.append(grid.problem(row, where("kpi_id"), fields["kpi_id"],
                                     f"KPIコード「{fields['kpi_id']}」は KPIマスターにありません",
                                     f"the KPI code {fields['kpi_id']!r} is not in the KPI master"))
    if all(fields[name] is None for name in ("baseline_fiscal_year", "baseline", "target_fiscal_year", "target")):
        problems.append(grid.problem(row, where("reason"), "",
                                     "基準年度・基準値・目標年度・目標値のどれも書かれていません",
                                     "the revision changes nothing: fill the baseline or the target"))
    values: dict[str, Decimal | None] = {}
    for name, label in (("baseline", "基準値"), ("target", "目標値")):
        quantity: Quantity | None = fields[name]
        values[name] = None
        if quantity is None or kpi is None:
            continue
        try:
            values[name] = in_kpi_unit(quantity, kpi.unit).value
        except ColumnError as error:
            problems.append(grid.problem(row, where(name), quantity.text, error.rule_ja, error.rule_en))
            continue
        if values[name] is None:
            problems.append(grid.problem(row, where(name), quantity.text, f"{label}に数値を書いてください",
                                         f"{label} needs a number"))
    if problems:
        return None, problems
    return Revision(fields["kpi_id"], fields["effective_fiscal_year"], fields["baseline_fiscal_year"],
                    values["baseline"], fields["target_fiscal_year"], values["target"], fields["reason"],
                    grid.source, row), []


def revision_rows(revisions: list[Revision], master: KpiMaster,
                  strategy: Strategy) -> tuple[list[dict], list[InputProblem]]:
    """Rows of kpi_revision: each revision's complete baseline and target, numbered by effective year."""
    rows: list[dict] = []
    problems: list[InputProblem] = []
    by_kpi: dict[str, list[Revision]] = {}
    for revision in revisions:
        by_kpi.setdefault(revision.kpi_id, []).append(revision)

    for kpi_id, kpi_revisions in sorted(by_kpi.items()):
        kpi = master.by_id()[kpi_id]
        current = (kpi.baseline_fiscal_year, kpi.baseline.value, kpi.target_fiscal_year, kpi.target.value)
        seen: dict[int, Revision] = {}
        for number, revision in enumerate(sorted(kpi_revisions, key=lambda r: r.effective_fiscal_year), start=1):

            def reject(value: object, rule_ja: str, rule_en: str, column: str = "適用年度",
                       revision: Revision = revision) -> None:
                problems.append(InputProblem(revision.source_file, revision.source_line, column, str(value),
                                             rule_ja, rule_en))

            year = revision.effective_fiscal_year
            if year in seen:
                reject(year, f"同じKPIの {seen[year].source_line}行目と適用年度が同じです。1つにまとめてください",
                       f"the same KPI has another revision effective that year (line {seen[year].source_line})")
                continue
            seen[year] = revision
            if not strategy.first_fiscal_year < year <= strategy.last_fiscal_year:
                reject(year, f"適用年度は計画期間の2年目から最終年度({strategy.first_fiscal_year + 1}〜"
                       f"{strategy.last_fiscal_year}年度)にしてください。初年度からの値はマスターを直します",
                       f"the effective year must be within FY{strategy.first_fiscal_year + 1}-"
                       f"{strategy.last_fiscal_year}; a change from the first year belongs in the master")
                continue
            current = (
                revision.baseline_fiscal_year or current[0],
                revision.baseline if revision.baseline is not None else current[1],
                revision.target_fiscal_year or current[2],
                revision.target if revision.target is not None else current[3],
            )
            if current[0] > current[2]:
                reject(current[2], "改定後の目標年度が基準年度より前です",
                       "the revised target year is before the baseline year", "目標年度")
                continue
            if kpi.direction in ("up", "down") and current[1] is not None and current[1] == current[3]:
                reject(plain(current[3]), "方向が↗か↘なのに改定後の目標値が基準値と同じで、スコアを計算できません",
                       "the direction is up or down but the revised target equals the baseline: no score", "目標値")
                continue
            rows.append({
                "strategy_id": strategy.strategy_id,
                "kpi_id": kpi_id,
                "revision_no": number,
                "effective_fiscal_year": year,
                "baseline_fiscal_year": current[0],
                "baseline_value": None if current[1] is None else plain(current[1]),
                "target_fiscal_year": current[2],
                "target_value": None if current[3] is None else plain(current[3]),
                "reason": revision.reason,
                "source_file": revision.source_file,
                "source_line": revision.source_line,
            })
    log.info("%s: %d revisions of %d KPIs", strategy.strategy_id, len(rows), len(by_kpi))
    return rows, problems
