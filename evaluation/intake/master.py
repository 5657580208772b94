"""The KPI master (KPIマスター): every project, business and KPI of a strategy, one row per KPI.

The planning office keeps it as an .xlsx workbook (sheet 「KPI」, and a sheet
「戦略」 naming the strategy) or as a CSV file of the KPI sheet alone. Each row
gives the KPI code (text, zeros kept), its unit, direction, baseline and target,
whether it is cumulative, whether it is evaluated or excluded with the reason,
and the department (担当課) that reports its actuals.

strategy.toml stays the one source of the strategy's identity, period and
evaluation method. The 「戦略」 sheet repeats the identity and period so that a
workbook sent around names its strategy; a value there that differs from
strategy.toml is an error. When a folder has a master, the master is the one
source of KPI definitions and exclusions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from evaluation.cells import ValueStatus
from evaluation.intake.columns import (
    CHOICE,
    CODE,
    FISCAL_YEAR,
    INTEGER,
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
    quantity_text,
)
from evaluation.intake.expected_values import ExpectedValue, expected_value_columns, read_expected_values
from evaluation.intake.sheets import Grid, column_letter, data_rows, find_header, label_key
from evaluation.problems import InputProblem, InputRejected
from evaluation.published_table import DIRECTIONS, PublishedTable
from evaluation.strategy import Strategy

log = logging.getLogger(__name__)

MASTER_SHEET = "KPI"
STRATEGY_SHEET = "戦略"
ANCHOR = "KPIコード"

DIRECTION_WORDS = (
    *((arrow, direction) for arrow, direction in DIRECTIONS.items()),
    ("増加", "up"),
    ("減少", "down"),
    ("維持", "maintain"),
)
DIRECTION_ARROWS = {"up": "↗", "down": "↘", "maintain": "→"}
YES_WORDS = ("○", "◯", "はい", "TRUE", "1")
NO_WORDS = ("×", "いいえ", "FALSE", "0", "-", "—")

COLUMNS = (
    Column("project_no", "プロジェクトNo.", INTEGER, aliases=("プロジェクト番号",), fill_merged=True),
    Column("project_name", "プロジェクト名", TEXT, fill_merged=True),
    Column("business_no", "事業No.", INTEGER, aliases=("事業番号",), fill_merged=True),
    Column("business_name", "事業名", TEXT, fill_merged=True),
    Column("business_summary", "事業概要", TEXT, required=False, fill_merged=True),
    Column("kpi_id", ANCHOR, CODE),
    Column("kpi_name", "KPI名", TEXT, aliases=("施策KPI",)),
    Column("unit", "単位", TEXT),
    Column("direction", "方向", CHOICE, choices=DIRECTION_WORDS),
    Column("baseline_fiscal_year", "基準年度", FISCAL_YEAR),
    Column("baseline", "基準値", QUANTITY),
    Column("target_fiscal_year", "目標年度", FISCAL_YEAR),
    Column("target", "目標値", QUANTITY),
    Column("cumulative", "累計", CHOICE, choices=(*((w, True) for w in (*YES_WORDS, "累計")),
                                                  *((w, False) for w in NO_WORDS))),
    Column("evaluated", "集計対象", CHOICE, choices=(*((w, True) for w in (*YES_WORDS, "対象")),
                                                    *((w, False) for w in (*NO_WORDS, "除外", "対象外")))),
    Column("exclusion_reason", "除外理由", TEXT, required=False),
    Column("department", "担当課", TEXT),
)
# Columns whose cell may be blank; every other column needs a value on each KPI row.
OPTIONAL_VALUES = {"business_summary", "unit", "cumulative", "evaluated", "exclusion_reason", "department"}
# The 「戦略」 sheet: label in column A, value in column B.
STRATEGY_FIELDS = (
    ("strategy_id", "戦略ID"),
    ("municipality", "自治体名"),
    ("name", "戦略名"),
    ("first_fiscal_year", "計画期間(開始年度)"),
    ("last_fiscal_year", "計画期間(終了年度)"),
)


@dataclass(frozen=True)
class MasterKpi:
    """One KPI row of the master, converted and checked."""

    kpi_id: str
    project_no: int
    project_name: str
    business_no: int
    business_name: str
    business_summary: str | None
    kpi_seq: int
    kpi_name: str
    unit: str | None
    direction: str
    cumulative: bool
    baseline_fiscal_year: int
    baseline: Quantity
    target_fiscal_year: int
    target: Quantity
    evaluated: bool
    exclusion_reason: str | None
    department: str | None
    source_file: str
    source_line: int
    expected_values: tuple[ExpectedValue, ...] = ()  # 期待値・目安値 columns, by fiscal year

    @property
    def baseline_text(self) -> str:
        return quantity_text(self.baseline, self.unit)

    @property
    def target_text(self) -> str:
        return quantity_text(self.target, self.unit)


@dataclass(frozen=True)
class KpiMaster:
    """Every KPI of one master file, in file order."""

    source_file: str
    kpis: tuple[MasterKpi, ...]

    def by_id(self) -> dict[str, MasterKpi]:
        return {kpi.kpi_id: kpi for kpi in self.kpis}


def is_master_grid(grid: Grid) -> bool:
    """Return True when the grid has the master's header: KPIコード with 方向 and 目標値."""
    header = find_header(grid, ANCHOR, {label for c in COLUMNS for label in c.labels})
    if header is None:
        return False
    keys = set(header.labels.values())
    return "方向" in keys and any(k.startswith("目標値") for k in keys)


def read_master(grids: list[Grid], strategy: Strategy) -> KpiMaster:
    """Read a master from its sheets (or its one CSV grid); raise ``InputRejected`` listing every problem."""
    problems: list[InputProblem] = []
    kpi_grids = [g for g in grids if is_master_grid(g)]
    if len(kpi_grids) != 1:
        names = ", ".join(g.source for g in kpi_grids) or grids[0].file
        raise InputRejected([InputProblem(grids[0].file, None, None, names,
                                          "KPIの表(見出しに KPIコード・方向・目標値)のシートがちょうど1つ必要です",
                                          "a master needs exactly one sheet with the KPI table")])
    strategy_grid = next((g for g in grids if g.sheet == STRATEGY_SHEET), None)
    if strategy_grid is not None:
        problems.extend(_check_strategy_sheet(strategy_grid, strategy))

    grid = kpi_grids[0]
    header = find_header(grid, ANCHOR, {label for c in COLUMNS for label in c.labels})
    positions, header_problems = locate_columns(grid, header, COLUMNS)
    expected_columns, expected_problems = expected_value_columns(grid, header)
    header_problems += expected_problems
    problems.extend(header_problems)
    if header_problems:
        raise InputRejected(problems)

    kpis: list[MasterKpi] = []
    seen: dict[str, int] = {}
    businesses: dict[int, tuple[int, str, str, int]] = {}
    sequence: dict[int, int] = {}
    for row, _ in data_rows(grid, header):
        fields, row_problems = _convert_row(grid, row, positions)
        problems.extend(row_problems)
        if row_problems:
            continue
        code = fields["kpi_id"]
        if code in seen:
            problems.append(grid.problem(row, column_name(COLUMNS[5], positions["kpi_id"]), code,
                                         f"KPIコードが {seen[code]}行目と重複しています",
                                         f"the KPI code repeats the one in row {seen[code]}"))
            continue
        seen[code] = row
        business = (fields["project_no"], fields["project_name"], fields["business_name"], row)
        earlier = businesses.setdefault(fields["business_no"], business)
        if earlier[:3] != business[:3]:
            problems.append(grid.problem(row, "事業No.", fields["business_no"],
                                         f"同じ事業No.の {earlier[3]}行目とプロジェクトか事業名が違います",
                                         f"the business differs in project or name from row {earlier[3]}"))
            continue
        sequence[fields["business_no"]] = sequence.get(fields["business_no"], 0) + 1
        kpi, kpi_problems = _build_kpi(grid, row, positions, fields, sequence[fields["business_no"]])
        problems.extend(kpi_problems)
        if kpi is not None:
            expected, expected_problems = read_expected_values(grid, row, expected_columns, kpi.unit)
            problems.extend(expected_problems)
            kpis.append(replace(kpi, expected_values=expected))

    if not kpis and not problems:
        problems.append(grid.problem(None, None, "", "KPIの行が1行もありません", "the master has no KPI rows"))
    if problems:
        raise InputRejected(problems)
    log.info("read KPI master %s: %d KPIs, %d businesses, %d departments", grid.source, len(kpis),
             len(businesses), len({k.department for k in kpis}))
    return KpiMaster(grid.file, tuple(kpis))


def _convert_row(grid: Grid, row: int, positions: dict[str, int]) -> tuple[dict, list[InputProblem]]:
    fields: dict[str, object] = {}
    problems: list[InputProblem] = []
    for column in COLUMNS:
        if column.name not in positions:
            fields[column.name] = None
            continue
        position = positions[column.name]
        try:
            cell = cell_value(grid, row, position, column)
            fields[column.name] = convert(cell, column)
        except ColumnError as error:
            problems.append(grid.problem(row, column_name(column, position), cell_text(grid, row, position),
                                         error.rule_ja, error.rule_en))
            continue
        if fields[column.name] is None and column.name not in OPTIONAL_VALUES:
            problems.append(grid.problem(row, column_name(column, position), "",
                                         f"「{column.label}」が空欄です", f"{column.label} is empty"))
    return fields, problems


def cell_text(grid: Grid, row: int, position: int) -> str:
    value = grid.cell(row, position).value
    return "" if value is None else str(value)


def _build_kpi(grid: Grid, row: int, positions: dict[str, int], fields: dict,
               kpi_seq: int) -> tuple[MasterKpi | None, list[InputProblem]]:
    """Check one converted row against the rules that join its columns; return the KPI."""
    problems: list[InputProblem] = []
    unit = fields["unit"] or None
    quantities = {}
    for name, label in (("baseline", "基準値"), ("target", "目標値")):
        try:
            quantities[name] = in_kpi_unit(fields[name], unit)
        except ColumnError as error:
            problems.append(grid.problem(row, f"{column_letter(positions[name])} {label}",
                                         cell_text(grid, row, positions[name]), error.rule_ja, error.rule_en))
    evaluated = True if fields["evaluated"] is None else fields["evaluated"]
    reason = fields["exclusion_reason"]
    if not evaluated and not reason:
        problems.append(grid.problem(row, "除外理由", "", "集計対象外(除外)には除外理由が必要です",
                                     "an excluded KPI needs a reason"))
    if evaluated and reason:
        problems.append(grid.problem(row, "除外理由", reason, "集計対象のKPIに除外理由が書かれています。「除外」にするか理由を消してください",
                                     "an evaluated KPI has an exclusion reason; mark it excluded or clear the reason"))
    if fields["baseline_fiscal_year"] > fields["target_fiscal_year"]:
        problems.append(grid.problem(row, "目標年度", fields["target_fiscal_year"], "目標年度が基準年度より前です",
                                     "the target year is before the baseline year"))
    if (not problems and fields["direction"] in ("up", "down")
            and quantities["baseline"].value is not None
            and quantities["baseline"].value == quantities["target"].value):
        problems.append(grid.problem(row, "目標値", quantities["target"].text,
                                     "方向が↗か↘なのに目標値が基準値と同じで、スコアを計算できません",
                                     "the direction is up or down but the target equals the baseline: no score"))
    if problems:
        return None, problems
    return MasterKpi(
        kpi_id=fields["kpi_id"],
        project_no=fields["project_no"],
        project_name=fields["project_name"],
        business_no=fields["business_no"],
        business_name=fields["business_name"],
        business_summary=fields["business_summary"],
        kpi_seq=kpi_seq,
        kpi_name=fields["kpi_name"],
        unit=unit,
        direction=fields["direction"],
        cumulative=bool(fields["cumulative"]),
        baseline_fiscal_year=fields["baseline_fiscal_year"],
        baseline=quantities["baseline"],
        target_fiscal_year=fields["target_fiscal_year"],
        target=quantities["target"],
        evaluated=evaluated,
        exclusion_reason=reason,
        department=fields["department"],
        source_file=grid.file,
        source_line=row,
    ), []


def _check_strategy_sheet(grid: Grid, strategy: Strategy) -> list[InputProblem]:
    """Compare the 「戦略」 sheet with strategy.toml, the one source of these facts."""
    problems = []
    expected = {
        "strategy_id": strategy.strategy_id,
        "municipality": strategy.municipality,
        "name": strategy.name,
        "first_fiscal_year": strategy.first_fiscal_year,
        "last_fiscal_year": strategy.last_fiscal_year,
    }
    labels = {label_key(label): (name, label) for name, label in STRATEGY_FIELDS}
    for row, cells in sorted(grid.rows.items()):
        key = label_key(cells.get(1).value if cells.get(1) else None)
        if key not in labels:
            continue
        name, label = labels[key]
        written = cells.get(2).value if cells.get(2) else None
        value: object = "" if written is None else str(written).strip()
        if name.endswith("fiscal_year") and written is not None:
            try:
                value = convert(cells[2], Column(name, label, FISCAL_YEAR))
            except ColumnError as error:
                problems.append(grid.problem(row, 2, written, error.rule_ja, error.rule_en))
                continue
        if value != expected[name]:
            problems.append(grid.problem(
                row, 2, written,
                f"「{label}」が strategy.toml の「{expected[name]}」と違います。strategy.toml が正です。"
                "両方をそろえてください",
                f"{label} differs from strategy.toml ({expected[name]!r}), which is the source of this fact; "
                "make them agree"))
    return problems


def master_from_published(table: PublishedTable, strategy: Strategy) -> KpiMaster:
    """Build the master of a strategy from its imported published table, exclusions included.

    Departments are left blank: the published table does not name them.
    """
    kpis = []
    for kpi in table.kpis:
        reason = strategy.exclusion_reason(kpi.business_no, kpi.kpi_seq)
        kpis.append(MasterKpi(
            kpi_id=kpi.kpi_id,
            project_no=kpi.project_no,
            project_name=kpi.project_name,
            business_no=kpi.business_no,
            business_name=kpi.business_name,
            business_summary=kpi.business_summary or None,
            kpi_seq=kpi.kpi_seq,
            kpi_name=kpi.kpi_name,
            unit=kpi.unit,
            direction=kpi.direction,
            cumulative="累計" in kpi.kpi_name,
            baseline_fiscal_year=kpi.baseline_fiscal_year,
            baseline=Quantity(kpi.baseline),
            target_fiscal_year=kpi.target_fiscal_year,
            target=Quantity(kpi.target),
            evaluated=reason is None,
            exclusion_reason=reason,
            department=None,
            source_file=table.source_file,
            source_line=kpi.line,
        ))
    return KpiMaster(table.source_file, tuple(kpis))


def _cell_for(quantity: Quantity) -> object:
    """Return what to write in a value cell: the number, or the marker text when there is none."""
    if quantity.status is ValueStatus.REPORTED:
        return quantity.value
    return quantity.text.strip() or "—"


def write_master(master: KpiMaster, strategy: Strategy, path: Path) -> Path:
    """Write the master as an .xlsx workbook with the 「戦略」 and 「KPI」 sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    info = workbook.active
    info.title = STRATEGY_SHEET
    info.append(["項目", "値"])
    values = {
        "strategy_id": strategy.strategy_id,
        "municipality": strategy.municipality,
        "name": strategy.name,
        "first_fiscal_year": strategy.first_fiscal_year,
        "last_fiscal_year": strategy.last_fiscal_year,
    }
    for name, label in STRATEGY_FIELDS:
        info.append([label, values[name]])
    info.append([])
    info.append(["※ この表は strategy.toml と同じ内容にしてください(strategy.toml が正です)。"])
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 44

    sheet = workbook.create_sheet(MASTER_SHEET)
    sheet.append([c.label for c in COLUMNS])
    for kpi in master.kpis:
        sheet.append([
            kpi.project_no, kpi.project_name, kpi.business_no, kpi.business_name, kpi.business_summary,
            kpi.kpi_id, kpi.kpi_name, kpi.unit, DIRECTION_ARROWS[kpi.direction],
            kpi.baseline_fiscal_year, _cell_for(kpi.baseline), kpi.target_fiscal_year, _cell_for(kpi.target),
            "○" if kpi.cumulative else "", "対象" if kpi.evaluated else "除外", kpi.exclusion_reason,
            kpi.department,
        ])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    code_column = [c.name for c in COLUMNS].index("kpi_id") + 1
    for (cell,) in sheet.iter_rows(min_row=2, min_col=code_column, max_col=code_column):
        cell.number_format = "@"  # text, so that a code such as 0123 keeps its zero
    for letter, width in (("B", 28), ("D", 30), ("E", 30), ("G", 40), ("P", 30), ("Q", 16)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    log.info("wrote KPI master %s: %d KPIs", path, len(master.kpis))
    return path


def kpi_rows(master: KpiMaster, strategy_id: str) -> list[dict]:
    """Rows of the kpi table from a master."""
    return [
        {
            "strategy_id": strategy_id,
            "kpi_id": kpi.kpi_id,
            "project_no": kpi.project_no,
            "project_name": kpi.project_name,
            "business_no": kpi.business_no,
            "business_name": kpi.business_name,
            "business_summary": kpi.business_summary,
            "kpi_seq": kpi.kpi_seq,
            "kpi_name": kpi.kpi_name,
            "unit": kpi.unit,
            "direction": kpi.direction,
            "cumulative": kpi.cumulative,
            "baseline_fiscal_year": kpi.baseline_fiscal_year,
            "baseline_value": _decimal_text(kpi.baseline.value),
            "baseline_text": kpi.baseline_text,
            "target_fiscal_year": kpi.target_fiscal_year,
            "target_value": _decimal_text(kpi.target.value),
            "target_text": kpi.target_text,
            "evaluated": kpi.evaluated,
            "exclusion_reason": kpi.exclusion_reason,
            "department": kpi.department,
            "source_file": kpi.source_file,
            "source_line": kpi.source_line,
            "notes": None,
        }
        for kpi in master.kpis
    ]


def expected_value_rows(master: KpiMaster, strategy_id: str) -> list[dict]:
    """Rows of kpi_expected_value from a master's 期待値・目安値 columns."""
    return [
        {
            "strategy_id": strategy_id,
            "kpi_id": kpi.kpi_id,
            "fiscal_year": expected.fiscal_year,
            "expected_value": _decimal_text(expected.value),
            "expected_text": expected.text,
            "source_file": kpi.source_file,
            "source_line": kpi.source_line,
            "source_column": expected.source_column,
        }
        for kpi in master.kpis
        for expected in kpi.expected_values
    ]


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
