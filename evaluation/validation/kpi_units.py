"""Rows of ``kpi_unit``: each KPI's unit as written, its base unit and the factor between them."""

from __future__ import annotations

import duckdb

from evaluation.validation.units import normalize_unit


def kpi_unit_rows(connection: duckdb.DuckDBPyConnection) -> list[dict]:
    """One row per KPI; an unknown unit gets no base unit, factor or kind (rule unit_known reports it)."""
    rows = []
    for strategy_id, kpi_id, unit in connection.execute(
        "select strategy_id, kpi_id, unit from kpi order by strategy_id, kpi_id"
    ).fetchall():
        known = normalize_unit(unit)
        rows.append({
            "strategy_id": strategy_id,
            "kpi_id": kpi_id,
            "unit": unit,
            "base_unit": (known.base or None) if known else None,
            "unit_factor": str(known.factor) if known else None,
            "unit_kind": known.kind.value if known else None,
        })
    return rows
