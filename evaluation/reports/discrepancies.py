"""Rows where a published score differs from the score recomputed from the same table row.

The ``score_discrepancy`` table, when the file has it, is the source of record.
Files built before that table existed get the same comparison from kpi_score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evaluation.reports.schema import table_exists

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

DISCREPANCY_TABLE = "score_discrepancy"
# Scores are printed with 2 decimals, so any real difference is at least 0.01.
SCORE_TOLERANCE = "0.005"

# Both queries read a batch of strategies: the strategy id comes first and is bound as one list.
_FROM_KPI_SCORE = f"""
    select
        kpi_score.strategy_id,
        kpi.business_no,
        kpi.business_name,
        kpi.kpi_name,
        kpi_score.kpi_id,
        kpi_score.fiscal_year,
        kpi_score.published_raw_score,
        kpi_score.raw_score,
        kpi_score.raw_score - kpi_score.published_raw_score as raw_score_difference,
        kpi_score.published_score,
        kpi_score.score,
        kpi_score.score - kpi_score.published_score as score_difference,
        published_kpi_score.source_file,
        published_kpi_score.source_line
    from kpi_score
    inner join kpi
        on kpi_score.strategy_id = kpi.strategy_id
        and kpi_score.kpi_id = kpi.kpi_id
    inner join published_kpi_score
        on kpi_score.strategy_id = published_kpi_score.strategy_id
        and kpi_score.kpi_id = published_kpi_score.kpi_id
        and kpi_score.fiscal_year = published_kpi_score.fiscal_year
    where kpi_score.strategy_id in (select unnest(?::varchar[]))
        and kpi_score.raw_score is not null
        and kpi_score.published_raw_score is not null
        and (
            abs(kpi_score.raw_score - kpi_score.published_raw_score) > {SCORE_TOLERANCE}
            or abs(kpi_score.score - kpi_score.published_score) > {SCORE_TOLERANCE}
        )
    order by kpi_score.strategy_id, kpi.business_no, kpi.kpi_seq, kpi_score.fiscal_year
"""

_FROM_DISCREPANCY_TABLE = f"""
    select
        {DISCREPANCY_TABLE}.strategy_id,
        kpi.business_no,
        kpi.business_name,
        kpi.kpi_name,
        {DISCREPANCY_TABLE}.* exclude (strategy_id)
    from {DISCREPANCY_TABLE}
    left join kpi
        on {DISCREPANCY_TABLE}.strategy_id = kpi.strategy_id
        and {DISCREPANCY_TABLE}.kpi_id = kpi.kpi_id
    where {DISCREPANCY_TABLE}.strategy_id in (select unnest(?::varchar[]))
    order by {DISCREPANCY_TABLE}.strategy_id, kpi.business_no, kpi.kpi_seq, {DISCREPANCY_TABLE}.kpi_id{{ties}}
"""
# Rows of one KPI (or of the summary lines, which have no KPI) follow in the order the table is written
# (sql/validated/score_discrepancy.sql), for those of these columns the table has.
_TIE_COLUMNS = ("fiscal_year", "project_no", "discrepancy", "field")


@dataclass(frozen=True)
class Discrepancies:
    """The discrepancy rows of one strategy, with their column names and the table they came from."""

    source_table: str
    columns: list[str]
    rows: list[tuple]


def discrepancies_by_strategy(
    connection: duckdb.DuckDBPyConnection, strategy_ids: list[str]
) -> dict[str, Discrepancies]:
    """Return the discrepancies of each strategy from score_discrepancy, or computed from kpi_score."""
    query, source = _FROM_KPI_SCORE, "kpi_score"
    if table_exists(connection, DISCREPANCY_TABLE):
        columns = [row[0] for row in connection.execute(f"describe {DISCREPANCY_TABLE}").fetchall()]
        if {"strategy_id", "kpi_id"} <= set(columns):
            ties = "".join(f", {DISCREPANCY_TABLE}.{column}" for column in _TIE_COLUMNS if column in columns)
            query, source = _FROM_DISCREPANCY_TABLE.format(ties=ties), DISCREPANCY_TABLE
        else:
            log.warning(
                "%s has no strategy_id and kpi_id columns (has %s); comparing kpi_score instead",
                DISCREPANCY_TABLE, sorted(columns),
            )
    result = connection.execute(query, [strategy_ids])
    columns = [description[0] for description in result.description][1:]
    rows_by_strategy: dict[str, list[tuple]] = {strategy_id: [] for strategy_id in strategy_ids}
    for strategy_id, *values in result.fetchall():
        rows_by_strategy[strategy_id].append(tuple(values))
    log.info(
        "read %d discrepancies of %d strategies from %s",
        sum(len(rows) for rows in rows_by_strategy.values()), len(strategy_ids), source,
    )
    return {strategy_id: Discrepancies(source, columns, rows) for strategy_id, rows in rows_by_strategy.items()}


def discrepancies(connection: duckdb.DuckDBPyConnection, strategy_id: str) -> Discrepancies:
    """Return the strategy's discrepancies from score_discrepancy, or computed from kpi_score."""
    return discrepancies_by_strategy(connection, [strategy_id])[strategy_id]
