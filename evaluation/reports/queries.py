"""Read what the reports show from the DuckDB file, as plain Python values.

Scores stay ``Decimal`` as DuckDB returns them, so the reports show the
figures of the tables exactly. Every query binds its values as parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from evaluation.reports.discrepancies import Discrepancies, discrepancies_by_strategy
from evaluation.reports.schema import has_column, table_exists

if TYPE_CHECKING:
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
# Strategies read per query by strategy_reports. About 100 KPIs and 1,000 values each at the national
# benchmark size, so a batch is about 10^5 rows in Python.
REPORT_BATCH_STRATEGIES = 100
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


def strategies(connection: duckdb.DuckDBPyConnection) -> list[Strategy]:
    """Return every strategy in the file, ordered by id."""
    rows = connection.execute(
        "select strategy_id, municipality, strategy_name, first_fiscal_year, last_fiscal_year "
        "from strategy order by strategy_id"
    ).fetchall()
    return [Strategy(*row) for row in rows]


# Every query below reads a batch of strategies at once: the strategy ids are bound as one list.
IN_BATCH = "strategy_id in (select unnest(?::varchar[]))"
# The (strategy, fiscal year) pairs of a batch, bound as two lists of the same length.
YEARS_OF_BATCH = "select unnest(?::varchar[]) as strategy_id, unnest(?::integer[]) as fiscal_year"


def _grouped(rows: list[tuple]) -> dict[str, list[tuple]]:
    """Group rows whose first value is a strategy id by that id, keeping their order, without the id."""
    grouped: dict[str, list[tuple]] = {}
    for strategy_id, *values in rows:
        grouped.setdefault(strategy_id, []).append(tuple(values))
    return grouped


def latest_scored_years(connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]) -> dict[str, int]:
    """Return the last fiscal year in which any KPI has a score, by strategy; a strategy without one is absent."""
    rows = connection.execute(
        f"select strategy_id, max(fiscal_year) from kpi_score where {IN_BATCH} and score is not null"
        " group by strategy_id",
        [strategy_ids],
    ).fetchall()
    return dict(rows)


def bases_for_years(connection: duckdb.DuckDBPyConnection, years: dict[str, int]) -> dict[str, list[str]]:
    """Return the bases project_summary has for each strategy's year: computed, and published when printed."""
    rows = connection.execute(
        f"""
        with batch as ({YEARS_OF_BATCH})
        select distinct strategy_id, basis
        from project_summary
        inner join batch using (strategy_id, fiscal_year)
        """,
        [list(years), list(years.values())],
    ).fetchall()
    present = set(rows)
    return {strategy_id: [basis for basis in BASES if (strategy_id, basis) in present] for strategy_id in years}


def _bands(connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]) -> dict[str, list[Band]]:
    rows = connection.execute(
        f"select strategy_id, band, label_ja, mark from score_band where {IN_BATCH} order by strategy_id, band_order",
        [strategy_ids],
    ).fetchall()
    return {strategy_id: [Band(*row) for row in group] for strategy_id, group in _grouped(rows).items()}


def _target_achieved_marks(connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]) -> dict[str, str]:
    """Return the mark each strategy prints for 目標達成 (☆ for Otaru)."""
    rows = connection.execute(
        f"select strategy_id, target_achieved_mark from evaluation_method where {IN_BATCH}", [strategy_ids]
    ).fetchall()
    return dict(rows)


def _project_summaries(
    connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]
) -> dict[str, dict[str, list[ProjectSummary]]]:
    """Return the project_summary rows by strategy and basis, by project and fiscal year.

    Band counts come from project_band_count, which has every band of the
    strategy's method; outlook counts from project_summary's outlook columns.
    """
    count_columns = ", ".join(SUMMARY_COUNT_COLUMNS.values())
    outlook_columns = ", ".join(f"{status}_count" for status in OUTLOOK_LABELS_JA)
    has_outlook = has_column(connection, "project_summary", "on_track_count")
    rows = connection.execute(
        f"""
        select strategy_id, project_no, project_name, fiscal_year, basis, businesses_evaluated, kpis_evaluated,
            businesses_total, kpis_total, average_score, target_achieved_count, {count_columns}
            {", " + outlook_columns if has_outlook else ""}
        from project_summary
        where {IN_BATCH} and basis in (select unnest(?::varchar[]))
        order by strategy_id, basis, project_no, fiscal_year
        """,
        [strategy_ids, list(BASES)],
    ).fetchall()
    band_counts: dict[tuple[str, str, int, int], dict[str, int]] = {}
    if table_exists(connection, "project_band_count"):
        for strategy_id, basis, project_no, year, band, count in connection.execute(
            "select strategy_id, basis, project_no, fiscal_year, band, kpi_count from project_band_count"
            f" where {IN_BATCH} order by band_order",
            [strategy_ids],
        ).fetchall():
            band_counts.setdefault((strategy_id, basis, project_no, year), {})[band] = count

    summaries: dict[str, dict[str, list[ProjectSummary]]] = {}
    band_count = len(SUMMARY_COUNT_COLUMNS)
    for strategy_id, *row in rows:
        project_no, fiscal_year, basis = row[0], row[2], row[3]
        fallback = dict(zip(SUMMARY_COUNT_COLUMNS, row[10 : 10 + band_count], strict=True))
        outlook = dict(zip(OUTLOOK_LABELS_JA, row[10 + band_count :], strict=True)) if has_outlook else {}
        summaries.setdefault(strategy_id, {}).setdefault(basis, []).append(ProjectSummary(
            *row[:9],
            band_counts=band_counts.get((strategy_id, basis, project_no, fiscal_year), fallback),
            target_achieved_count=row[9],
            outlook_counts=outlook,
        ))
    return summaries


def _outlooks(
    connection: duckdb.DuckDBPyConnection, years: dict[str, int]
) -> dict[str, dict[str, Outlook]]:
    """Return each KPI's kpi_outlook row as of the strategy's year, by strategy and kpi_id."""
    if not table_exists(connection, "kpi_outlook"):
        return {}
    rows = connection.execute(
        f"""
        with batch as ({YEARS_OF_BATCH})
        select strategy_id, kpi_id, outlook_status, outlook_label_ja, evaluated, expected_value, projected_value,
            projected_progress
        from kpi_outlook
        inner join batch using (strategy_id)
        where kpi_outlook.as_of_fiscal_year = batch.fiscal_year
        """,
        [list(years), list(years.values())],
    ).fetchall()
    outlooks: dict[str, dict[str, Outlook]] = {}
    for strategy_id, kpi_id, *values in rows:
        outlooks.setdefault(strategy_id, {})[kpi_id] = Outlook(*values)
    return outlooks


def _value_cells(
    connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]
) -> dict[str, dict[str, dict[int, ValueCell]]]:
    rows = connection.execute(
        f"select strategy_id, kpi_id, fiscal_year, value, unit, value_text from kpi_value where {IN_BATCH}",
        [strategy_ids],
    ).fetchall()
    cells: dict[str, dict[str, dict[int, ValueCell]]] = {}
    for strategy_id, kpi_id, year, value, unit, text in rows:
        cells.setdefault(strategy_id, {}).setdefault(kpi_id, {})[year] = ValueCell(value, unit, text)
    return cells


def _scores(
    connection: duckdb.DuckDBPyConnection, years: dict[str, int], basis: str
) -> dict[str, dict[str, KpiScore]]:
    """Return the scores of each strategy's year by strategy and kpi_id; a KPI missing from it is not evaluated."""
    if basis == "computed":
        query = f"""
            with batch as ({YEARS_OF_BATCH})
            select strategy_id, kpi_id, raw_score, score, band, target_achieved
            from kpi_score
            inner join batch using (strategy_id, fiscal_year)
            where evaluated and score is not null
        """
    elif basis == "published":
        query = f"""
            with batch as ({YEARS_OF_BATCH})
            select strategy_id, kpi_id, published_raw_score, published_score, published_band,
                published_target_achieved
            from published_kpi_score
            inner join batch using (strategy_id, fiscal_year)
            where published_score is not null
        """
    else:
        raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
    scores: dict[str, dict[str, KpiScore]] = {}
    for strategy_id, kpi_id, raw_score, score, band, achieved in connection.execute(
        query, [list(years), list(years.values())]
    ).fetchall():
        scores.setdefault(strategy_id, {})[kpi_id] = KpiScore(True, raw_score, score, band, bool(achieved))
    return scores


def _unit_in(text: str, unit: str | None) -> str | None:
    """Return ``unit`` when the cell text carries it (a baseline may be a bare number)."""
    return unit if unit and unit in text else None


def _kpi_rows(connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]) -> dict[str, list[tuple]]:
    """Return the kpi rows of each strategy in source order: project, business, KPI number."""
    rows = connection.execute(
        f"""
        select strategy_id, kpi_id, project_no, project_name, business_no, business_name, business_summary,
            kpi_seq, kpi_name, direction, unit, baseline_fiscal_year, baseline_value, baseline_text,
            target_fiscal_year, target_value, target_text
        from kpi
        where {IN_BATCH}
        order by strategy_id, project_no, business_no, kpi_seq
        """,
        [strategy_ids],
    ).fetchall()
    return _grouped(rows)


def _project_tables(
    kpi_rows: list[tuple],
    values: dict[str, dict[int, ValueCell]],
    scores: dict[str, KpiScore],
    outlooks: dict[str, Outlook],
    summaries: list[ProjectSummary],
    fiscal_year: int,
) -> list[ProjectTable]:
    """Return each project's table of one strategy for ``fiscal_year`` on one basis, KPIs in source order."""
    summary_by_project = {summary.project_no: summary for summary in summaries if summary.fiscal_year == fiscal_year}
    tables: dict[int, ProjectTable] = {}
    for (
        kpi_id, project_no, project_name, business_no, business_name, business_summary,
        kpi_seq, kpi_name, direction, unit, baseline_year, baseline_value, baseline_text,
        target_year, target_value, target_text,
    ) in kpi_rows:
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
                outlook=outlooks.get(kpi_id),
            )
        )
    for project_no, table in tables.items():
        table.summary = summary_by_project.get(project_no)
    return list(tables.values())


@dataclass
class StrategyReport:
    """The data of one strategy's workbook and HTML report, read in one batch with other strategies."""

    strategy: Strategy
    fiscal_year: int | None  # the reported year: the latest scored one, None when no KPI has a score
    bases: list[str]  # the bases project_summary has for that year: computed, and published when printed
    bands: list[Band]
    target_achieved_mark: str
    summaries: dict[str, list[ProjectSummary]]  # by basis: every project and fiscal year
    tables: dict[str, list[ProjectTable]]  # by basis: each project's table for fiscal_year
    discrepancies: Discrepancies


def load_reports(
    connection: duckdb.DuckDBPyConnection, batch: list[Strategy], fiscal_years: dict[str, int] | None = None
) -> list[StrategyReport]:
    """Read what the reports show of every strategy in ``batch``, with one query per table.

    ``fiscal_years`` sets the reported year by strategy id; by default it is
    each strategy's latest scored year.
    """
    strategy_ids = [strategy.strategy_id for strategy in batch]
    years = latest_scored_years(connection, strategy_ids) if fiscal_years is None else dict(fiscal_years)
    summaries = _project_summaries(connection, strategy_ids)
    bands = _bands(connection, strategy_ids)
    marks = _target_achieved_marks(connection, strategy_ids)
    kpi_rows = _kpi_rows(connection, strategy_ids)
    values = _value_cells(connection, strategy_ids)
    outlooks = _outlooks(connection, years)
    scores = {basis: _scores(connection, years, basis) for basis in BASES}
    found = discrepancies_by_strategy(connection, strategy_ids)

    reports = []
    for strategy in batch:
        strategy_id = strategy.strategy_id
        year = years.get(strategy_id)
        strategy_summaries = summaries.get(strategy_id, {})
        bases = [
            basis for basis in BASES
            if any(summary.fiscal_year == year for summary in strategy_summaries.get(basis, []))
        ]
        tables = {}
        if year is not None:
            tables = {
                basis: _project_tables(
                    kpi_rows.get(strategy_id, []),
                    values.get(strategy_id, {}),
                    scores[basis].get(strategy_id, {}),
                    outlooks.get(strategy_id, {}),
                    strategy_summaries.get(basis, []),
                    year,
                )
                for basis in BASES
            }
        reports.append(StrategyReport(
            strategy=strategy,
            fiscal_year=year,
            bases=bases,
            bands=bands.get(strategy_id, []),
            target_achieved_mark=marks.get(strategy_id),
            summaries={basis: strategy_summaries.get(basis, []) for basis in BASES},
            tables=tables,
            discrepancies=found[strategy_id],
        ))
    return reports


def strategy_reports(
    connection: duckdb.DuckDBPyConnection, batch_size: int = REPORT_BATCH_STRATEGIES
) -> Iterator[StrategyReport]:
    """Yield the report data of every strategy in the file, ordered by id, reading ``batch_size`` at a time.

    Python keeps the rows of one batch at a time, so memory does not grow with the number of strategies.
    """
    everything = strategies(connection)
    for start in range(0, len(everything), batch_size):
        yield from load_reports(connection, everything[start : start + batch_size])


def strategy_report(
    connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int | None = None
) -> StrategyReport:
    """Return the report data of one strategy, for ``fiscal_year`` or its latest scored year."""
    strategy = next((s for s in strategies(connection) if s.strategy_id == strategy_id), None)
    if strategy is None:
        raise ValueError(f"strategy {strategy_id!r} is not in the file")
    years = None if fiscal_year is None else {strategy_id: fiscal_year}
    return load_reports(connection, [strategy], years)[0]
