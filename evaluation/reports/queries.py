"""Read what the reports show from the DuckDB file, as plain Python values.

Scores stay ``Decimal`` as DuckDB returns them, so the reports show the
figures of the tables exactly. Every query binds its values as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

BASES = ("computed", "published")
BASIS_LABELS_JA = {
    "computed": "再計算したスコア",
    "published": "公表された評価表のスコア",
}
# project_summary stores one count column per band of the Otaru method; a
# file without project_band_count (written before it existed) falls back to them.
SUMMARY_COUNT_COLUMNS = {
    "below_baseline": "below_baseline_count",
    "0-50": "band_0_50_count",
    "50-100": "band_50_100_count",
    "100+": "band_100_plus_count",
}
# The early-warning statuses of kpi_outlook, in display order, with their labels.
OUTLOOK_LABELS_JA = {
    "on_track": "順調",
    "behind": "遅れ",
    "unlikely": "達成困難",
    "not_enough_data": "データ不足",
}


@dataclass(frozen=True)
class Strategy:
    """One row of the strategy table."""

    strategy_id: str
    municipality: str
    strategy_name: str
    first_fiscal_year: int
    last_fiscal_year: int


@dataclass(frozen=True)
class Band:
    """One score band of a strategy (score_band), lowest first."""

    band: str
    label_ja: str
    mark: str


@dataclass(frozen=True)
class ValueCell:
    """A baseline, actual or target cell: the number (None when not reported) and the text as written."""

    value: Decimal | None
    unit: str | None
    text: str


@dataclass(frozen=True)
class KpiScore:
    """The score of one KPI in one fiscal year on one basis; ``evaluated`` is False for a — row."""

    evaluated: bool
    raw_score: Decimal | None = None
    score: Decimal | None = None
    band: str | None = None
    target_achieved: bool = False


@dataclass(frozen=True)
class KpiRow:
    """One KPI line of the evaluation table."""

    kpi_id: str
    business_no: int
    business_name: str
    business_summary: str | None
    kpi_seq: int
    kpi_name: str
    direction: str
    baseline: ValueCell
    target: ValueCell
    actuals: dict[int, ValueCell]
    result: KpiScore
    outlook: Outlook | None = None


@dataclass(frozen=True)
class ProjectSummary:
    """One project_summary row: the summary line under a project's table."""

    project_no: int
    project_name: str
    fiscal_year: int
    basis: str
    businesses_evaluated: int
    kpis_evaluated: int
    businesses_total: int
    kpis_total: int
    average_score: Decimal | None
    band_counts: dict[str, int]
    target_achieved_count: int
    # evaluated KPIs per kpi_outlook status as of this fiscal year; empty in a file without those columns
    outlook_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Outlook:
    """One KPI's early warning as of a fiscal year (kpi_outlook)."""

    status: str
    label_ja: str
    evaluated: bool  # False for a KPI excluded on purpose
    expected_value: Decimal | None
    projected_value: Decimal | None
    projected_progress: Decimal | None


@dataclass
class ProjectTable:
    """A project's evaluation table for one fiscal year and basis."""

    project_no: int
    project_name: str
    baseline_fiscal_years: set[int] = field(default_factory=set)
    target_fiscal_years: set[int] = field(default_factory=set)
    rows: list[KpiRow] = field(default_factory=list)
    summary: ProjectSummary | None = None


def table_exists(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Return whether the main schema has a table or view named ``table``."""
    found = connection.execute(
        "select count(*) from duckdb_tables() where table_name = ? "
        "union all select count(*) from duckdb_views() where view_name = ? and not internal",
        [table, table],
    ).fetchall()
    return any(count for (count,) in found)


def strategies(connection: duckdb.DuckDBPyConnection) -> list[Strategy]:
    """Return every strategy in the file, ordered by id."""
    rows = connection.execute(
        "select strategy_id, municipality, strategy_name, first_fiscal_year, last_fiscal_year "
        "from strategy order by strategy_id"
    ).fetchall()
    return [Strategy(*row) for row in rows]


def latest_scored_year(connection: duckdb.DuckDBPyConnection, strategy_id: str) -> int | None:
    """Return the last fiscal year in which any KPI of the strategy has a score, or None."""
    return connection.execute(
        "select max(fiscal_year) from kpi_score where strategy_id = ? and score is not null",
        [strategy_id],
    ).fetchone()[0]


def bases_for_year(connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int) -> list[str]:
    """Return the bases project_summary has for that year: computed, and published when printed."""
    rows = connection.execute(
        "select distinct basis from project_summary where strategy_id = ? and fiscal_year = ?",
        [strategy_id, fiscal_year],
    ).fetchall()
    present = {basis for (basis,) in rows}
    return [basis for basis in BASES if basis in present]


def bands(connection: duckdb.DuckDBPyConnection, strategy_id: str) -> list[Band]:
    """Return the strategy's score bands, lowest first."""
    rows = connection.execute(
        "select band, label_ja, mark from score_band where strategy_id = ? order by band_order",
        [strategy_id],
    ).fetchall()
    return [Band(*row) for row in rows]


def target_achieved_mark(connection: duckdb.DuckDBPyConnection, strategy_id: str) -> str:
    """Return the mark the strategy prints for 目標達成 (☆ for Otaru)."""
    return connection.execute(
        "select target_achieved_mark from evaluation_method where strategy_id = ?", [strategy_id]
    ).fetchone()[0]


def project_summaries(
    connection: duckdb.DuckDBPyConnection, strategy_id: str, basis: str
) -> list[ProjectSummary]:
    """Return the strategy's project_summary rows on one basis, by project and fiscal year.

    Band counts come from project_band_count, which has every band of the
    strategy's method; outlook counts from project_summary's outlook columns.
    """
    count_columns = ", ".join(SUMMARY_COUNT_COLUMNS.values())
    outlook_columns = ", ".join(f"{status}_count" for status in OUTLOOK_LABELS_JA)
    has_outlook = _has_column(connection, "project_summary", "on_track_count")
    rows = connection.execute(
        f"""
        select project_no, project_name, fiscal_year, basis, businesses_evaluated, kpis_evaluated,
            businesses_total, kpis_total, average_score, target_achieved_count, {count_columns}
            {", " + outlook_columns if has_outlook else ""}
        from project_summary
        where strategy_id = ? and basis = ?
        order by project_no, fiscal_year
        """,
        [strategy_id, basis],
    ).fetchall()
    band_counts: dict[tuple[int, int], dict[str, int]] = {}
    if table_exists(connection, "project_band_count"):
        for project_no, year, band, count in connection.execute(
            "select project_no, fiscal_year, band, kpi_count from project_band_count"
            " where strategy_id = ? and basis = ? order by band_order",
            [strategy_id, basis],
        ).fetchall():
            band_counts.setdefault((project_no, year), {})[band] = count

    summaries = []
    band_count = len(SUMMARY_COUNT_COLUMNS)
    for row in rows:
        fallback = dict(zip(SUMMARY_COUNT_COLUMNS, row[10 : 10 + band_count], strict=True))
        outlook = dict(zip(OUTLOOK_LABELS_JA, row[10 + band_count :], strict=True)) if has_outlook else {}
        summaries.append(ProjectSummary(
            *row[:9],
            band_counts=band_counts.get((row[0], row[2]), fallback),
            target_achieved_count=row[9],
            outlook_counts=outlook,
        ))
    return summaries


def _has_column(connection: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return connection.execute(
        "select count(*) from duckdb_columns() where table_name = ? and column_name = ?", [table, column]
    ).fetchone()[0] > 0


def outlooks(connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int) -> dict[str, Outlook]:
    """Return each KPI's kpi_outlook row as of ``fiscal_year``, by kpi_id; empty without the table."""
    if not table_exists(connection, "kpi_outlook"):
        return {}
    rows = connection.execute(
        "select kpi_id, outlook_status, outlook_label_ja, evaluated, expected_value, projected_value,"
        " projected_progress"
        " from kpi_outlook where strategy_id = ? and as_of_fiscal_year = ?",
        [strategy_id, fiscal_year],
    ).fetchall()
    return {kpi_id: Outlook(*values) for kpi_id, *values in rows}


def _value_cells(connection: duckdb.DuckDBPyConnection, strategy_id: str) -> dict[str, dict[int, ValueCell]]:
    rows = connection.execute(
        "select kpi_id, fiscal_year, value, unit, value_text from kpi_value where strategy_id = ?",
        [strategy_id],
    ).fetchall()
    cells: dict[str, dict[int, ValueCell]] = {}
    for kpi_id, year, value, unit, text in rows:
        cells.setdefault(kpi_id, {})[year] = ValueCell(value, unit, text)
    return cells


def _scores(
    connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int, basis: str
) -> dict[str, KpiScore]:
    """Return the scores of the year by kpi_id; a KPI missing from the result is not evaluated."""
    if basis == "computed":
        query = """
            select kpi_id, raw_score, score, band, target_achieved
            from kpi_score
            where strategy_id = ? and fiscal_year = ? and evaluated and score is not null
        """
    elif basis == "published":
        query = """
            select kpi_id, published_raw_score, published_score, published_band, published_target_achieved
            from published_kpi_score
            where strategy_id = ? and fiscal_year = ? and published_score is not null
        """
    else:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    rows = connection.execute(query, [strategy_id, fiscal_year]).fetchall()
    return {
        kpi_id: KpiScore(True, raw_score, score, band, bool(achieved))
        for kpi_id, raw_score, score, band, achieved in rows
    }


def _unit_in(text: str, unit: str | None) -> str | None:
    """Return ``unit`` when the cell text carries it (a baseline may be a bare number)."""
    return unit if unit and unit in text else None


def project_tables(
    connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int, basis: str
) -> list[ProjectTable]:
    """Return each project's table for ``fiscal_year`` on ``basis``, KPIs in source order."""
    values = _value_cells(connection, strategy_id)
    scores = _scores(connection, strategy_id, fiscal_year, basis)
    outlook_by_kpi = outlooks(connection, strategy_id, fiscal_year)
    summaries = {
        summary.project_no: summary
        for summary in project_summaries(connection, strategy_id, basis)
        if summary.fiscal_year == fiscal_year
    }
    rows = connection.execute(
        """
        select kpi_id, project_no, project_name, business_no, business_name, business_summary,
            kpi_seq, kpi_name, direction, unit, baseline_fiscal_year, baseline_value, baseline_text,
            target_fiscal_year, target_value, target_text
        from kpi
        where strategy_id = ?
        order by project_no, business_no, kpi_seq
        """,
        [strategy_id],
    ).fetchall()

    tables: dict[int, ProjectTable] = {}
    for (
        kpi_id, project_no, project_name, business_no, business_name, business_summary,
        kpi_seq, kpi_name, direction, unit, baseline_year, baseline_value, baseline_text,
        target_year, target_value, target_text,
    ) in rows:
        table = tables.setdefault(project_no, ProjectTable(project_no, project_name))
        table.baseline_fiscal_years.add(baseline_year)
        table.target_fiscal_years.add(target_year)
        table.rows.append(
            KpiRow(
                kpi_id=kpi_id,
                business_no=business_no,
                business_name=business_name,
                business_summary=business_summary,
                kpi_seq=kpi_seq,
                kpi_name=kpi_name,
                direction=direction,
                baseline=ValueCell(baseline_value, _unit_in(baseline_text, unit), baseline_text),
                target=ValueCell(target_value, _unit_in(target_text, unit), target_text),
                actuals=values.get(kpi_id, {}),
                result=scores.get(kpi_id, KpiScore(evaluated=False)),
                outlook=outlook_by_kpi.get(kpi_id),
            )
        )
    for project_no, table in tables.items():
        table.summary = summaries.get(project_no)
    return list(tables.values())
