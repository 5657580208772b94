"""Merge one strategy's sources into the normalized tables: master, submissions, published tables.

Every reported value is a candidate for its KPI and fiscal year, in order:
published tables first, then submissions, each by file path and row. For one
KPI and year, candidates that agree give one current value. Candidates that
differ are resolved by these rules, else the run stops naming both cells:

1. A value marked as a correction (修正, with a reason) replaces the others.
   Two corrections with different values are an error.
2. Without a correction, a final value (確定, or a published table's) replaces
   provisional ones (速報, 未確定, 後日報告) of the same year.

kpi_value keeps the one current value; kpi_value_history keeps every candidate,
numbered in order, with the rule that decided it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from evaluation.eras import era_label
from evaluation.intake.columns import ColumnError, Quantity, in_kpi_unit, plain, quantity_text
from evaluation.intake.master import KpiMaster, kpi_rows
from evaluation.intake.submission import Submission, SubmittedValue
from evaluation.normalize import published_table_rows
from evaluation.problems import InputProblem
from evaluation.published_table import PublishedTable
from evaluation.strategy import Strategy

log = logging.getLogger(__name__)

# Reasons a candidate is or is not the current value, stored in kpi_value_history.resolution.
ONLY = "only"
SAME_VALUE = "same_value"
CORRECTED = "corrected"
CORRECTION = "correction"
FINAL_OVER_PROVISIONAL = "final_over_provisional"
PROVISIONAL_REPLACED = "provisional_replaced"

PROVISIONAL_STATUSES = ("provisional", "undetermined", "to_be_reported")
MISSING_STATE = "missing"
PUBLISHED_STATE = "published"
NO_DEPARTMENT = "(担当課未設定)"

KPI_VALUE_COLUMNS = (
    "strategy_id", "kpi_id", "fiscal_year", "value", "unit", "value_status", "value_text",
    "source_file", "source_line", "source_column", "note", "source_sheet", "report_status",
    "comment", "submitted_by", "is_correction", "correction_reason",
)


@dataclass
class Candidate:
    """One reported value for a KPI and fiscal year, from a published table or a submission."""

    row: dict  # the kpi_value columns
    source_cell: str
    order: int

    @property
    def key(self) -> tuple:
        value = self.row["value"]
        return (self.row["value_status"], None if value is None else Decimal(value))

    @property
    def is_final(self) -> bool:
        return self.row["report_status"] not in PROVISIONAL_STATUSES

    @property
    def shown(self) -> str:
        return self.row["value_text"]


@dataclass
class IntakeResult:
    """The rows of every table the intake writes for one strategy, and what went wrong."""

    tables: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    problems: list[InputProblem] = field(default_factory=list)
    master: KpiMaster | None = None

    @property
    def errors(self) -> list[InputProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[InputProblem]:
        return [p for p in self.problems if p.severity != "error"]


def merge_sources(strategy: Strategy, master: KpiMaster | None, tables: list[PublishedTable],
                  submissions: list[Submission]) -> IntakeResult:
    """Build kpi, kpi_value, kpi_value_history, submission_status and the published tables' rows."""
    result = IntakeResult(master=master)
    candidates: dict[tuple[str, int], list[Candidate]] = defaultdict(list)
    order = 0

    for table in tables:
        rows = published_table_rows(table, strategy, table.source_file)
        result.tables["published_kpi_score"].extend(rows["published_kpi_score"])
        result.tables["published_summary"].extend(rows["published_summary"])
        if master is None:
            result.tables["kpi"].extend({**row, "department": None} for row in rows["kpi"])
        else:
            result.problems.extend(_compare_with_master(table, master))
        for value in rows["kpi_value"]:
            order += 1
            row = {**dict.fromkeys(KPI_VALUE_COLUMNS), **value, "is_correction": False}
            cell = f"{value['source_file']} {value['source_line']}行目 {value['source_column']}列目"
            candidates[(value["kpi_id"], value["fiscal_year"])].append(Candidate(row, cell, order))

    if master is not None:
        if strategy.exclusions:
            result.problems.append(InputProblem(
                "strategy.toml", None, "[[exclusions]]", master.source_file,
                "KPIマスターがあるときは、除外(集計対象外)はマスターの「集計対象」「除外理由」欄に書きます。"
                "strategy.toml の [[exclusions]] を消してください",
                "with a KPI master, exclusions belong in its 集計対象 and 除外理由 columns; "
                "remove [[exclusions]] from strategy.toml"))
        result.tables["kpi"].extend(kpi_rows(master, strategy.strategy_id))
        known = master.by_id()
        for submission in submissions:
            for value in submission.values:
                candidate = _submitted_candidate(value, strategy, known, result.problems)
                if candidate is not None:
                    order += 1
                    candidate.order = order
                    candidates[(value.kpi_id, value.fiscal_year)].append(candidate)
    elif submissions:
        result.problems.append(InputProblem(
            submissions[0].source_file, None, None, "",
            "KPIマスターがないため実績報告を読めません。先に KPIマスターをフォルダに置いてください",
            "a submission needs a KPI master in the same strategy folder"))

    for (kpi_id, fiscal_year), group in sorted(candidates.items()):
        _resolve(strategy.strategy_id, kpi_id, fiscal_year, group, result)

    if master is not None:
        years = sorted({year for s in submissions for year in s.fiscal_years})
        result.tables["submission_status"] = submission_status_rows(strategy, master, years, result)
    return result


def _submitted_candidate(value: SubmittedValue, strategy: Strategy, known: dict, problems: list) -> Candidate | None:
    """Check one submitted value against the master and the period; return it as a candidate."""

    def reject(rule_ja: str, rule_en: str, shown: str, column: str, severity: str = "error") -> None:
        problems.append(InputProblem(value.source_file, value.source_line, column, shown, rule_ja, rule_en, severity))

    kpi = known.get(value.kpi_id)
    if kpi is None:
        reject(f"KPIコード「{value.kpi_id}」は KPIマスターにありません",
               f"the KPI code {value.kpi_id!r} is not in the KPI master", value.kpi_id, "KPIコード")
        return None
    if not strategy.first_fiscal_year <= value.fiscal_year <= strategy.last_fiscal_year:
        reject(f"{value.fiscal_year}年度は計画期間({strategy.first_fiscal_year}〜{strategy.last_fiscal_year}年度)の外です。"
               "期間を延ばすなら strategy.toml の last_fiscal_year を直してください",
               f"FY{value.fiscal_year} is outside the strategy period "
               f"{strategy.first_fiscal_year}-{strategy.last_fiscal_year} (strategy.toml)", str(value.fiscal_year), "年度")
        return None
    if value.department and kpi.department and value.department != kpi.department:
        reject(f"担当課「{value.department}」が KPIマスターの「{kpi.department}」と違います(マスターを正とします)",
               f"the department {value.department!r} differs from the master's {kpi.department!r}; "
               "the master's is used", value.department, "担当課", severity="warning")

    quantity = value.actual
    if quantity is not None:
        try:
            quantity = in_kpi_unit(quantity, kpi.unit)
        except ColumnError as error:
            reject(error.rule_ja, error.rule_en, quantity.text, "実績値")
            return None
    has_value = quantity is not None and quantity.value is not None
    row = {
        **dict.fromkeys(KPI_VALUE_COLUMNS),
        "strategy_id": strategy.strategy_id,
        "kpi_id": value.kpi_id,
        "fiscal_year": value.fiscal_year,
        "value": plain(quantity.value) if has_value else None,
        "unit": quantity.unit if quantity is not None else None,
        "value_status": value.value_status.value,
        "value_text": _value_text(quantity, kpi.unit, value.report_status),
        "source_file": value.source_file,
        "source_sheet": value.source_sheet,
        "source_line": value.source_line,
        "source_column": value.source_column,
        "note": quantity.parsed.note if quantity is not None else None,
        "report_status": value.report_status,
        "comment": value.comment,
        "submitted_by": value.submitted_by,
        "is_correction": value.correction,
        "correction_reason": value.correction_reason,
    }
    return Candidate(row, value.source_cell, 0)


def _value_text(quantity: Quantity | None, unit: str | None, report_status: str) -> str:
    if quantity is not None:
        return quantity_text(quantity, unit)
    return {"undetermined": "未確定", "to_be_reported": "(後日報告)"}.get(report_status, "—")


def _resolve(strategy_id: str, kpi_id: str, fiscal_year: int, group: list[Candidate], result: IntakeResult) -> None:
    """Pick the current value of one KPI and year; record every candidate in the history."""
    current, resolutions = _choose(group)
    if current is None:
        first, second = resolutions
        result.problems.append(InputProblem(
            second.row["source_file"], second.row["source_line"], second.row["source_column"],
            f"{first.shown} / {second.shown}",
            f"KPI {kpi_id} の{era_label(fiscal_year)}年度(FY{fiscal_year})の実績値が2か所で違います"
            f"({first.source_cell} は「{first.shown}」、{second.source_cell} は「{second.shown}」)。"
            "後の値を正とするなら、その行の「修正」欄に「修正」と修正理由を書いてください",
            f"KPI {kpi_id} FY{fiscal_year} has two different actuals ({first.source_cell}: {first.shown!r}, "
            f"{second.source_cell}: {second.shown!r}); mark the one that replaces the other as a "
            "correction (修正) with a reason"))
        return

    result.tables["kpi_value"].append({k: current.row[k] for k in KPI_VALUE_COLUMNS})
    for revision, candidate in enumerate(sorted(group, key=lambda c: c.order), start=1):
        result.tables["kpi_value_history"].append({
            **{k: candidate.row[k] for k in KPI_VALUE_COLUMNS},
            "revision": revision,
            "is_current": candidate is current,
            "resolution": resolutions[id(candidate)],
            "source_cell": candidate.source_cell,
        })
    if len(group) > 1:
        log.info("KPI %s FY%d: %d values on record, current from %s (%s)", kpi_id, fiscal_year, len(group),
                 current.source_cell, resolutions[id(current)])


def _choose(group: list[Candidate]) -> tuple[Candidate | None, dict | tuple[Candidate, Candidate]]:
    """Return the current candidate and each candidate's resolution, or (None, the two in conflict)."""
    ordered = sorted(group, key=lambda c: c.order)
    if len({c.key for c in ordered}) == 1:
        current = ordered[-1]
        return current, {id(c): ONLY if len(ordered) == 1 else SAME_VALUE for c in ordered}

    corrections = [c for c in ordered if c.row["is_correction"]]
    if corrections:
        conflict = _first_difference(corrections)
        if conflict:
            return None, conflict
        current = corrections[-1]
        return current, {id(c): CORRECTION if c.row["is_correction"] else CORRECTED for c in ordered}

    finals = [c for c in ordered if c.is_final]
    conflict = _first_difference(finals) if finals else _first_difference(ordered)
    if conflict:
        return None, conflict
    current = finals[-1]
    return current, {id(c): FINAL_OVER_PROVISIONAL if c.is_final else PROVISIONAL_REPLACED for c in ordered}


def _first_difference(candidates: list[Candidate]) -> tuple[Candidate, Candidate] | None:
    for later in candidates[1:]:
        if later.key != candidates[0].key:
            return candidates[0], later
    return None


def _compare_with_master(table: PublishedTable, master: KpiMaster) -> list[InputProblem]:
    """Check a published table's KPIs against the master, the one source of KPI definitions.

    A KPI missing from the master is an error. A baseline, target or direction
    that differs is a warning, because the master may carry a revised target.
    """
    problems = []
    known = master.by_id()
    for kpi in table.kpis:
        entry = known.get(kpi.kpi_id)
        if entry is None:
            problems.append(InputProblem(table.source_file, kpi.line, 4, kpi.kpi_name,
                                         f"公表評価表のKPI {kpi.kpi_id} が KPIマスター({master.source_file})にありません",
                                         f"the published KPI {kpi.kpi_id} is not in the KPI master {master.source_file}"))
            continue
        for label, published, kept in (
            ("基準値", kpi.baseline.value, entry.baseline.value),
            ("目標値", kpi.target.value, entry.target.value),
            ("方向", kpi.direction, entry.direction),
        ):
            if published != kept:
                problems.append(InputProblem(
                    table.source_file, kpi.line, label, str(published),
                    f"KPI {kpi.kpi_id} の{label}が KPIマスター({master.source_file} {entry.source_line}行目)の"
                    f"「{kept}」と違います。マスターの値で計算します",
                    f"KPI {kpi.kpi_id}: the {label} differs from the master's {kept!r} "
                    f"({master.source_file} row {entry.source_line}); the master's is used", severity="warning"))
    return problems


def submission_status_rows(strategy: Strategy, master: KpiMaster, years: list[int],
                           result: IntakeResult) -> list[dict]:
    """Build one row per master KPI and submitted fiscal year with its state, and log the gaps per department."""
    current = {(row["kpi_id"], row["fiscal_year"]): row for row in result.tables["kpi_value"]}
    rows = []
    for year in years:
        by_department: dict[str, list[str]] = defaultdict(list)
        missing: dict[str, list[str]] = defaultdict(list)
        for kpi in master.kpis:
            department = kpi.department or NO_DEPARTMENT
            value = current.get((kpi.kpi_id, year))
            if value is None:
                state = MISSING_STATE
                missing[department].append(kpi.kpi_id)
            else:
                state = value["report_status"] or PUBLISHED_STATE
            by_department[department].append(kpi.kpi_id)
            rows.append({
                "strategy_id": strategy.strategy_id,
                "fiscal_year": year,
                "department": department,
                "kpi_id": kpi.kpi_id,
                "kpi_name": kpi.kpi_name,
                "submission_state": state,
                "source_file": value["source_file"] if value else None,
                "source_line": value["source_line"] if value else None,
            })
        for department, kpis in sorted(by_department.items()):
            gaps = missing.get(department, [])
            if gaps:
                log.warning("%s %d年度 %s: 未提出 %d/%d KPI / %s FY%d %s: %d of %d KPIs not submitted: %s",
                            strategy.strategy_id, year, department, len(gaps), len(kpis),
                            strategy.strategy_id, year, department, len(gaps), len(kpis), ", ".join(gaps))
            else:
                log.info("%s %d年度 %s: %d KPI すべて提出済み / %s FY%d %s: all %d KPIs submitted",
                         strategy.strategy_id, year, department, len(kpis),
                         strategy.strategy_id, year, department, len(kpis))
    return rows
