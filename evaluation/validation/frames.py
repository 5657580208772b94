"""Build the data frames that the validation rules run on, from the tables in the DuckDB file.

Each frame has one row per checked record, a ``row_id`` that Great Expectations
returns for failing rows, the columns the rules' expectations read, and the
columns their messages name: ``table``, ``record_key``, ``source_file``,
``source_line``, ``source_column`` and ``value_text``. Frames read only table
columns, so any input format that fills these tables is checked the same way.
"""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb
import pandas as pd

from evaluation.cells import CellError, ValueStatus, parse_cell
from evaluation.validation.units import UnitKind, normalize_unit

DIRECTION_SYMBOLS = {"up": "↗", "down": "↘", "maintain": "→"}
CELL_ROLES_JA = {"baseline": "基準値", "target": "目標値"}
INVALID_REASONS_JA = {
    "target_equals_baseline": "目標値が基準値と同じ",
    "target_is_zero": "→ の目標値が 0",
    "baseline_missing": "基準値がない",
    "target_missing": "目標値がない",
}


def _records(connection: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    cursor = connection.execute(query)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame.insert(0, "row_id", range(len(frame)))
    return frame


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


_KPI_COLUMNS = [
    "strategy_id", "kpi_id", "business_no", "kpi_name", "direction", "direction_symbol",
    "direction_conflict_ja", "direction_conflict_en", "baseline_value", "target_value",
    "baseline_text", "target_text", "baseline_fiscal_year", "target_fiscal_year",
    "first_fiscal_year", "last_fiscal_year", "notes", "table", "record_key", "source_file",
    "source_line", "source_column", "value_text",
]


def kpi_frame(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Build one row per KPI with its direction, baseline, target and the strategy period."""
    rows = []
    for kpi in _records(
        connection,
        "select kpi.*, strategy.first_fiscal_year, strategy.last_fiscal_year from kpi "
        "left join strategy on kpi.strategy_id = strategy.strategy_id order by kpi.strategy_id, kpi.kpi_id",
    ):
        symbol = DIRECTION_SYMBOLS.get(kpi["direction"], kpi["direction"])
        conflict_ja, conflict_en = {
            "up": ("以下です(↗ は目標値 > 基準値)", "is not above"),
            "down": ("以上です(↘ は目標値 < 基準値)", "is not below"),
        }.get(kpi["direction"], ("と合いません", "does not fit"))
        rows.append({
            **{key: kpi.get(key) for key in _KPI_COLUMNS},
            "direction_symbol": symbol,
            "direction_conflict_ja": conflict_ja,
            "direction_conflict_en": conflict_en,
            "baseline_value": _float(kpi["baseline_value"]),
            "target_value": _float(kpi["target_value"]),
            "table": "kpi",
            "record_key": f"{kpi['strategy_id']} {kpi['kpi_id']}",
            "source_column": None,
            "value_text": kpi["kpi_name"],
        })
    return _frame(rows, _KPI_COLUMNS)


_CELL_COLUMNS = [
    "strategy_id", "kpi_id", "kpi_name", "cell_role", "fiscal_year", "unit", "kpi_unit", "unit_kind",
    "has_value", "unit_expected", "normalized_value", "fraction", "previous_value", "previous_text",
    "previous_fiscal_year", "first_fiscal_year", "last_fiscal_year", "note", "table", "record_key",
    "source_file", "source_sheet", "source_line", "source_column", "value_text",
]


def _parsed_kpi_cell(text: str) -> tuple[str | None, str | None]:
    """Return (unit, note) of a baseline or target cell as written; (None, None) if unreadable."""
    try:
        parsed = parse_cell(text)
    except CellError:
        return None, None
    return parsed.unit, parsed.note


def _cells_of(kpi: dict, actuals: list[dict]) -> list[dict]:
    """Baseline, actuals in fiscal-year order, and target of one KPI, as frame rows."""
    cells = []
    for role in ("baseline", "target"):
        unit, note = _parsed_kpi_cell(kpi[f"{role}_text"])
        cells.append({
            "cell_role": role,
            "fiscal_year": kpi[f"{role}_fiscal_year"],
            "value": kpi[f"{role}_value"],
            "unit": unit,
            "note": note,
            "table": "kpi",
            "source_file": kpi["source_file"],
            "source_sheet": None,
            "source_line": kpi["source_line"],
            "source_column": CELL_ROLES_JA[role],
            "value_text": kpi[f"{role}_text"],
        })
    for actual in actuals:
        cells.append({
            "cell_role": "actual",
            "fiscal_year": actual["fiscal_year"],
            "value": actual["value"] if actual["value_status"] == ValueStatus.REPORTED else None,
            "unit": actual["unit"],
            "note": actual["note"],
            "table": "kpi_value",
            # an actual comes from its own file (a submission or a published table), not the master's
            "source_file": actual["source_file"],
            "source_sheet": actual["source_sheet"],
            "source_line": actual["source_line"],
            "source_column": actual["source_column"],
            "value_text": actual["value_text"],
        })
    # baseline first, then the actuals by year, then the target: the order a cumulative
    # figure must not decrease in (the target is left out of that comparison)
    order = {"baseline": 0, "actual": 1, "target": 2}
    return sorted(cells, key=lambda cell: (order[cell["cell_role"]], cell["fiscal_year"]))


def kpi_cell_frame(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Build one row per baseline, actual or target cell, with its unit normalized to the base unit."""
    actuals_by_kpi: dict[tuple[str, str], list[dict]] = {}
    for actual in _records(connection, "select * from kpi_value order by strategy_id, kpi_id, fiscal_year"):
        actuals_by_kpi.setdefault((actual["strategy_id"], actual["kpi_id"]), []).append(actual)

    rows = []
    kpis = _records(
        connection,
        "select kpi.*, strategy.first_fiscal_year, strategy.last_fiscal_year from kpi "
        "left join strategy on kpi.strategy_id = strategy.strategy_id order by kpi.strategy_id, kpi.kpi_id",
    )
    for kpi in kpis:
        kpi_unit = normalize_unit(kpi["unit"])
        previous: dict | None = None
        for cell in _cells_of(kpi, actuals_by_kpi.get((kpi["strategy_id"], kpi["kpi_id"]), [])):
            # a bare number is read in the KPI's unit; an unknown unit has no normalized value
            own_unit = normalize_unit(cell["unit"]) if cell["unit"] else kpi_unit
            value = cell["value"]
            normalized = value * own_unit.factor if value is not None and own_unit else None
            is_count = kpi_unit is not None and kpi_unit.kind is UnitKind.COUNT
            row = {
                "strategy_id": kpi["strategy_id"],
                "kpi_id": kpi["kpi_id"],
                "kpi_name": kpi["kpi_name"],
                **cell,
                "kpi_unit": kpi["unit"],
                "unit_kind": kpi_unit.kind.value if kpi_unit else None,
                "has_value": value is not None,
                "unit_expected": value is not None and kpi["unit"] is not None,
                "normalized_value": _float(normalized),
                "fraction": _float(normalized % 1) if normalized is not None and is_count else None,
                "first_fiscal_year": kpi["first_fiscal_year"],
                "last_fiscal_year": kpi["last_fiscal_year"],
                "record_key": f"{kpi['strategy_id']} {kpi['kpi_id']} {cell['cell_role']} FY{cell['fiscal_year']}",
            }
            if kpi["cumulative"] and previous is not None and cell["cell_role"] != "target":
                row["previous_value"] = previous["normalized_value"]
                row["previous_text"] = previous["value_text"]
                row["previous_fiscal_year"] = previous["fiscal_year"]
            if normalized is not None and cell["cell_role"] != "target":
                previous = row
            rows.append(row)
    return _frame(rows, _CELL_COLUMNS)


def published_kpi_score_frame(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Build one row per published KPI score, with the strategy period."""
    rows = [
        {
            **score,
            "table": "published_kpi_score",
            "record_key": f"{score['strategy_id']} {score['kpi_id']} FY{score['fiscal_year']}",
            "source_column": None,
            "value_text": str(score["fiscal_year"]),
        }
        for score in _records(
            connection,
            "select published_kpi_score.*, strategy.first_fiscal_year, strategy.last_fiscal_year "
            "from published_kpi_score left join strategy "
            "on published_kpi_score.strategy_id = strategy.strategy_id",
        )
    ]
    return _frame(rows, ["strategy_id", "kpi_id", "fiscal_year", "first_fiscal_year", "last_fiscal_year",
                         "table", "record_key", "source_file", "source_line", "source_column", "value_text"])


def published_summary_frame(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Build one row per published project summary line, with the strategy period."""
    rows = [
        {
            **summary,
            "table": "published_summary",
            "record_key": f"{summary['strategy_id']} ({summary['project_no']}) FY{summary['fiscal_year']}",
            "source_column": None,
            "value_text": str(summary["fiscal_year"]),
        }
        for summary in _records(
            connection,
            "select published_summary.*, strategy.first_fiscal_year, strategy.last_fiscal_year "
            "from published_summary left join strategy "
            "on published_summary.strategy_id = strategy.strategy_id",
        )
    ]
    return _frame(rows, ["strategy_id", "project_no", "fiscal_year", "first_fiscal_year", "last_fiscal_year",
                         "table", "record_key", "source_file", "source_line", "source_column", "value_text"])


def _finite(*values: Decimal | float | None) -> bool | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    return all(math.isfinite(float(value)) for value in present)


def kpi_score_frame(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Build one row per recomputed score, with the actual value's cell for the message."""
    rows = []
    for score in _records(
        connection,
        "select kpi_score.*, kpi_value.source_file, kpi_value.source_line, kpi_value.source_column, "
        "kpi_value.value_text from kpi_score left join kpi_value "
        "on kpi_score.strategy_id = kpi_value.strategy_id and kpi_score.kpi_id = kpi_value.kpi_id "
        "and kpi_score.fiscal_year = kpi_value.fiscal_year",
    ):
        reason = score["invalid_reason"]
        rows.append({
            **score,
            "scores_finite": _finite(score["raw_score"], score["score"]),
            "invalid_reason_ja": INVALID_REASONS_JA.get(reason, reason),
            "table": "kpi_score",
            "record_key": f"{score['strategy_id']} {score['kpi_id']} FY{score['fiscal_year']}",
        })
    return _frame(rows, ["strategy_id", "kpi_id", "fiscal_year", "raw_score", "score", "evaluated",
                         "invalid_reason", "invalid_reason_ja", "scores_finite", "table", "record_key",
                         "source_file", "source_line", "source_column", "value_text"])


_DISCREPANCIES_JA = {
    "raw_score": ("補正前スコア", "raw score"),
    "score": ("スコア", "score"),
    "band_mark": ("評価区分の記号(公表された補正前スコアから)", "band mark (from the published raw score)"),
    "target_achieved_mark": ("目標達成の記号 ☆(公表された補正前スコアから)",
                             "target-achieved mark ☆ (from the published raw score)"),
    "score_not_published": ("スコア(実績値があるのに公表されていない)", "score (an actual, but no published score)"),
    "published_without_actual": ("スコア(実績値がないのに公表されている)", "score (published without an actual)"),
    "summary": ("集計行", "summary line"),
}


def score_discrepancy_frame(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Build one row per published figure that the recomputation does not support."""
    rows = []
    for item in _records(connection, "select * from score_discrepancy"):
        what_ja, what_en = _DISCREPANCIES_JA.get(item["discrepancy"], (item["discrepancy"], item["discrepancy"]))
        subject_ja = f"KPI {item['kpi_id']}" if item["kpi_id"] else f"プロジェクト({item['project_no']})"
        subject_en = f"KPI {item['kpi_id']}" if item["kpi_id"] else f"project ({item['project_no']})"
        field = f" {item['field']}" if item["discrepancy"] == "summary" else ""
        note = f"。集計対象外: {item['exclusion_reason']}" if item["exclusion_reason"] else ""
        rows.append({
            **item,
            "description_ja": f"{subject_ja} {item['fiscal_year']}年度 の{what_ja}{field}: 公表 "
                              f"{item['published_text'] or '—'}、再計算 {item['recomputed_text'] or '—'}"
                              f"{note}",
            "description_en": f"{subject_en} FY{item['fiscal_year']} {what_en}{field}: published "
                              f"{item['published_text'] or '—'}, recomputed {item['recomputed_text'] or '—'}",
            "table": "score_discrepancy",
            "record_key": f"{item['strategy_id']} {item['kpi_id'] or item['project_no']} FY{item['fiscal_year']}"
                          f" {item['discrepancy']}{field}",
            "source_column": None,
            "value_text": item["published_text"],
        })
    return _frame(rows, ["strategy_id", "fiscal_year", "discrepancy", "kpi_id", "project_no", "field",
                         "published_text", "recomputed_text", "description_ja", "description_en", "table",
                         "record_key", "source_file", "source_line", "source_column", "value_text"])


FRAME_BUILDERS = {
    "kpi": kpi_frame,
    "kpi_cell": kpi_cell_frame,
    "published_kpi_score": published_kpi_score_frame,
    "published_summary": published_summary_frame,
    "kpi_score": kpi_score_frame,
    "score_discrepancy": score_discrepancy_frame,
}
