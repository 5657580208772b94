"""Turn parsed input (strategies, published tables) into rows of the normalized tables.

Decimals travel as strings and are cast to DECIMAL by DuckDB on insert, so no
value passes through a binary float on its way into the warehouse.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.problems import InputProblem
from evaluation.published_table import PublishedTable
from evaluation.sources import SourceFile
from evaluation.strategy import Strategy
from evaluation.warehouse import NORMALIZED_TABLES

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def source_file_rows(files: list[SourceFile]) -> list[dict]:
    return [
        {
            "strategy_id": f.strategy_id,
            "source_file": f.relative_path,
            "file_format": f.file_format,
            "encoding": f.encoding,
            "size_bytes": f.size_bytes,
            "sha256": f.sha256,
        }
        for f in files
    ]


def recorded_source_files(connection: duckdb.DuckDBPyConnection, raw_dir: Path) -> dict[str, SourceFile]:
    """Return the files the source_file table records, by path relative to ``raw_dir``: what discover recognized."""
    rows = connection.execute(
        "select source_file, file_format, encoding, size_bytes, sha256, strategy_id from source_file").fetchall()
    return {relative: SourceFile(raw_dir / relative, relative, *rest) for relative, *rest in rows}


def strategy_rows(strategy: Strategy) -> dict[str, list[dict]]:
    """Rows of strategy, evaluation_method and score_band for one strategy."""
    method = strategy.method
    return {
        "strategy": [
            {
                "strategy_id": strategy.strategy_id,
                "municipality": strategy.municipality,
                "strategy_name": strategy.name,
                "first_fiscal_year": strategy.first_fiscal_year,
                "last_fiscal_year": strategy.last_fiscal_year,
            }
        ],
        "evaluation_method": [
            {
                "strategy_id": strategy.strategy_id,
                "formula_up": method.formula_up,
                "formula_down": method.formula_down,
                "formula_maintain": method.formula_maintain,
                "clamp_min": _text(method.clamp_min),
                "clamp_max": _text(method.clamp_max),
                "rounding": method.rounding,
                "decimal_places": method.decimal_places,
                "average_of": method.average_of,
                "target_achieved_threshold": _text(method.target_achieved_threshold),
                "target_achieved_mark": method.target_achieved_mark,
                "maintain_tolerance": _text(method.maintain_tolerance),
                "yardstick": method.yardstick,
                "average_rounding": method.average_rounding,
                "average_decimal_places": method.average_decimal_places,
                "rollup": method.rollup,
                "bands_judged_on": method.bands_judged_on,
            }
        ],
        "score_band": [
            {
                "strategy_id": strategy.strategy_id,
                "band": band.band,
                "band_order": order,
                "label_ja": band.label_ja,
                "mark": band.mark,
                "lower_bound": _text(band.lower),
                "upper_bound": _text(band.upper),
            }
            for order, band in enumerate(method.bands, start=1)
        ],
    }


def published_table_rows(table: PublishedTable, strategy: Strategy, source_file: str) -> dict[str, list[dict]]:
    """Rows of kpi, kpi_value, published_kpi_score and published_summary from one table."""
    kpis, values, scores = [], [], []
    for kpi in table.kpis:
        reason = strategy.exclusion_reason(kpi.business_no, kpi.kpi_seq)
        kpis.append(
            {
                "strategy_id": strategy.strategy_id,
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
                "cumulative": "累計" in kpi.kpi_name,
                "baseline_fiscal_year": kpi.baseline_fiscal_year,
                "baseline_value": _text(kpi.baseline.value),
                "baseline_text": kpi.baseline.text,
                "target_fiscal_year": kpi.target_fiscal_year,
                "target_value": _text(kpi.target.value),
                "target_text": kpi.target.text,
                "evaluated": reason is None,
                "exclusion_reason": reason,
                "source_file": source_file,
                "source_line": kpi.line,
                "notes": "; ".join(kpi.notes) or None,
            }
        )
        for fiscal_year, (cell, column) in kpi.actuals.items():
            values.append(
                {
                    "strategy_id": strategy.strategy_id,
                    "kpi_id": kpi.kpi_id,
                    "fiscal_year": fiscal_year,
                    "value": _text(cell.value),
                    "unit": cell.unit,
                    "value_status": cell.status.value,
                    "value_text": cell.text,
                    "source_file": source_file,
                    "source_line": kpi.line,
                    "source_column": column,
                    "note": cell.note,
                }
            )
        scores.append(
            {
                "strategy_id": strategy.strategy_id,
                "kpi_id": kpi.kpi_id,
                "fiscal_year": kpi.evaluated_fiscal_year,
                "published_raw_score": _text(kpi.published_raw_score),
                "published_score": _text(kpi.published_score),
                "published_band": kpi.published_band,
                "published_target_achieved": kpi.published_target_achieved,
                "source_file": source_file,
                "source_line": kpi.line,
            }
        )
    summaries = [
        {
            "strategy_id": strategy.strategy_id,
            "project_no": s.project_no,
            "fiscal_year": s.fiscal_year,
            "businesses_evaluated": s.businesses_evaluated,
            "kpis_evaluated": s.kpis_evaluated,
            "businesses_total": s.businesses_total,
            "kpis_total": s.kpis_total,
            "average_score": _text(s.average_score),
            "below_baseline_count": s.below_baseline_count,
            "band_0_50_count": s.band_0_50_count,
            "band_50_100_count": s.band_50_100_count,
            "band_100_plus_count": s.band_100_plus_count,
            "target_achieved_count": s.target_achieved_count,
            "source_file": source_file,
            "source_line": s.line,
        }
        for s in table.summaries
    ]
    return {
        "kpi": kpis,
        "kpi_value": values,
        "published_kpi_score": scores,
        "published_summary": summaries,
    }


def replace_rows(
    connection: duckdb.DuckDBPyConnection, table: str, strategy_ids: list[str], rows: list[dict]
) -> int:
    """Delete the strategies' rows from ``table`` and insert ``rows``; return the count inserted.

    Deleting first makes a rerun replace, never double, what an earlier run wrote.
    """
    if table not in NORMALIZED_TABLES:
        raise ValueError(f"{table} is not a normalized table")
    connection.execute("begin transaction")
    try:
        connection.execute(f"delete from {table} where strategy_id in (select unnest(?))", [strategy_ids])
        if rows:
            # One list parameter per column, unnested: no pandas frame of Python objects in between.
            names = list(dict.fromkeys(name for row in rows for name in row))
            selects = ", ".join(f'unnest(${number}) as "{name}"' for number, name in enumerate(names, start=1))
            connection.execute(f"insert into {table} by name select {selects}",
                               [[row.get(name) for row in rows] for name in names])
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    log.info("wrote %d rows to %s for %s", len(rows), table, ", ".join(strategy_ids))
    return len(rows)


# The keys of the normalized tables that declare no primary key (see their files in sql/normalized/).
UNIQUE_KEYS = {
    "kpi_value": ("strategy_id", "kpi_id", "fiscal_year"),
    "kpi_value_history": ("strategy_id", "kpi_id", "fiscal_year", "revision"),
    "submission_status": ("strategy_id", "fiscal_year", "kpi_id"),
}
REPEATED_KEYS_LISTED = 20


def repeated_keys(connection: duckdb.DuckDBPyConnection, table: str) -> list[InputProblem]:
    """Return one problem per key that more than one row of ``table`` contains (at most REPEATED_KEYS_LISTED).

    The readers merge every KPI-year into one row, so a repeated key means that
    a reader let two rows through. Each problem names the file and line of the
    row with the highest line number among them.
    """
    key = ", ".join(UNIQUE_KEYS[table])
    rows = connection.execute(f"""
        with repeated as (
            select {key}, count(*) as copies from {table} group by all having count(*) > 1
            order by all limit {REPEATED_KEYS_LISTED}
        )
        select repeated.*, arg_max(source_file, source_line), max(source_line)
        from repeated join {table} using ({key})
        group by all
        order by all
    """).fetchall()
    problems = []
    for row in rows:
        values = ", ".join(f"{name}={value}" for name, value in zip(UNIQUE_KEYS[table], row, strict=False))
        copies, source_file, source_line = row[-3:]
        # a missing submission (submission_status) comes from no file, so its strategy is named instead
        problems.append(InputProblem(
            source_file if source_file is not None else row[0], source_line, None, values,
            f"表 {table} に同じキー({key})の行が {copies} 行あります。"
            "1行だけのはずなので、読み込みの誤りです",
            f"table {table} has {copies} rows with the same key ({key}); "
            "each key has one row, so a reader let a second one through",
        ))
    return problems
