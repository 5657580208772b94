"""The known units as a DuckDB table, and ``kpi_unit``: each KPI's unit, its base unit and the factor between them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from evaluation.validation.units import KNOWN_UNITS, NO_UNIT

if TYPE_CHECKING:
    import duckdb


def stage_units(connection: duckdb.DuckDBPyConnection) -> None:
    """Create temp table validation_unit: every known unit with its kind, base unit and factor; '' is no unit."""
    connection.execute(
        "create or replace temp table validation_unit "
        "(unit varchar, kind varchar, base varchar, factor decimal(18, 6))"
    )
    units = [NO_UNIT, *KNOWN_UNITS.values()]
    connection.execute(
        "insert into validation_unit select unnest(?), unnest(?), unnest(?), unnest(?)::decimal(18, 6)",
        [[unit.text for unit in units], [unit.kind.value for unit in units], [unit.base for unit in units],
         [str(unit.factor) for unit in units]],
    )


def write_kpi_units(connection: duckdb.DuckDBPyConnection) -> int:
    """Fill the (new, empty) kpi_unit table with one row per KPI; return the count.

    An unknown unit gets no base unit, factor or kind (rule unit_known reports it).
    """
    stage_units(connection)
    connection.execute(
        """
        insert into kpi_unit
        select kpi.strategy_id, kpi.kpi_id, kpi.unit, nullif(known.base, ''), known.factor, known.kind
        from kpi
        left join validation_unit as known on known.unit = coalesce(kpi.unit, '')
        order by kpi.strategy_id, kpi.kpi_id
        """
    )
    return connection.execute("select count(*) from kpi_unit").fetchone()[0]
