"""Read the KPI masters of bulk strategies with DuckDB, by the same rules as the Python master reader.

The Python reader (master.py) builds a grid of cells and a few objects per
cell. This module reads the same CSV files the way bulk.py reads submissions.
One regular expression splits each line into fields, and the Python
converters convert each distinct text of a typed column once. SQL checks the
rules that join the columns of a row and the rows of a master.

A master the SQL cannot decide with certainty is left to the Python reader,
which writes the message. These are: a header that is not the first row alone,
expected-value columns (期待値, 目安値), quoting the line split does not cover,
a cell its converter rejects, an empty required cell, or a broken rule
(unit, exclusion, years, direction, repeated KPI code, business that changes
project or name). So the rows written here are the rows the Python reader
would write (tests/test_bulk_intake.py compares the two).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from evaluation.intake import master
from evaluation.intake.bulk import (
    fields_query,
    head_lines,
    insert_rows,
    lines_beyond_split,
    one_row_header,
    raw_field_sql,
    files_beyond_split,
    stage_contents,
    stripped_field_sql,
)
from evaluation.intake.columns import QUANTITY, TEXT, Column, ColumnError, convert, locate_columns
from evaluation.intake.expected_values import expected_value_columns
from evaluation.intake.sheets import Cell
from evaluation.sources import KPI_MASTER, SourceFile
from evaluation.strategy import Strategy

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

# Columns converted by their Python converter, once per distinct text; text columns are stripped in SQL.
CONVERTED = tuple(c for c in master.COLUMNS if c.kind != TEXT)
REQUIRED = tuple(c.name for c in master.COLUMNS if c.name not in master.OPTIONAL_VALUES)
INTEGER_RANGE = (-(2**31), 2**31 - 1)  # DuckDB INTEGER, the type of the kpi table's whole-number columns
CONVERT_BATCH_ROWS = 100_000  # distinct texts Python fetches and converts at a time


def read_masters(connection: duckdb.DuckDBPyConnection, strategies: list[Strategy],
                 files: list[SourceFile]) -> set[str]:
    """Read the CSV masters of ``strategies``; leave their kpi rows in the temporary table bulk_kpi.

    Returns the ids of the strategies read. Any other strategy of ``strategies``
    has no rows in bulk_kpi, and its master must be read by the Python reader.
    """
    # A method that judges against expected values needs the expected-value columns this path leaves out.
    ids = {s.strategy_id for s in strategies if s.method.yardstick != "expected_value"}
    layouts, chosen = [], []
    headers: dict[tuple, dict[str, int] | None] = {}  # most masters share one header row
    for file in files:
        if file.strategy_id not in ids or file.file_format != KPI_MASTER or file.encoding is None:
            continue
        positions = _master_positions(file, headers)
        if positions is not None:
            layouts.append((str(file.path), file.relative_path, file.strategy_id,
                            *(positions.get(c.name) for c in master.COLUMNS)))
            chosen.append(file)

    names = ", ".join(f"{c.name}_position integer" for c in master.COLUMNS)
    connection.execute(f"create or replace temp table bulk_master_layout (path varchar, source_file varchar, "
                       f"strategy_id varchar, {names})")
    insert_rows(connection, "bulk_master_layout", layouts)
    stage_contents(connection, "bulk_master_content", chosen)
    beyond = files_beyond_split(connection, "bulk_master_content", "bulk_master_layout")
    _stage_fields(connection)
    connection.execute("drop table bulk_master_content")
    beyond |= lines_beyond_split(connection, "bulk_master_field")
    for column in CONVERTED:
        _convert_distinct(connection, column)
    _stage_rows(connection)
    read = _stage_kpi(connection) - beyond
    connection.execute("delete from bulk_kpi where strategy_id in (select unnest(?))", [sorted(beyond)])
    for table in ("bulk_master_layout", "bulk_master_field", "bulk_master_row",
                  *(f"bulk_master_{c.name}" for c in CONVERTED)):
        connection.execute(f"drop table {table}")
    log.info("read %d KPI masters in bulk; %d left to the Python reader", len(read), len(ids) - len(read))
    return read


def _master_positions(file: SourceFile, headers: dict[tuple, dict[str, int] | None]) -> dict[str, int] | None:
    """Return the master columns' positions when the header is the first row and has no expected values.

    ``headers`` caches the result by the header's folded labels.
    """
    found = one_row_header(file, head_lines(file.path.read_bytes(), file.encoding), master.COLUMNS, master.ANCHOR)
    if found is None:
        return None
    grid, header = found
    key = tuple(sorted(header.labels.items()))
    if key not in headers:
        positions, problems = locate_columns(grid, header, master.COLUMNS)
        expected, expected_problems = expected_value_columns(grid, header)
        headers[key] = None if problems or expected or expected_problems else positions
    return headers[key]


def _stage_fields(connection: duckdb.DuckDBPyConnection) -> None:
    """Create bulk_master_field: per data line, the stripped text columns and the raw converted ones."""
    selected = ",\n".join(
        f"{raw_field_sql(c.name)} as {c.name}_raw" if c in CONVERTED
        else f"{stripped_field_sql(c.name)} as {c.name}_text"
        for c in master.COLUMNS
    )
    connection.execute("create or replace temp table bulk_master_field as "
                       + fields_query("bulk_master_layout", "bulk_master_content", selected))


def _convert_distinct(connection: duckdb.DuckDBPyConnection, column: Column) -> None:
    """Convert each distinct cell of a column with the Python converter into bulk_master_<name>.

    Its rows are (raw, value, unit, shown, ok): the value as text, and for a
    quantity its unit and the text people read (the cell stripped). ``ok`` is
    false when the converter rejects the cell or a whole number is out of
    DuckDB's INTEGER range.
    """
    table = f"bulk_master_{column.name}"
    connection.execute(f"create or replace temp table {table} "
                       "(raw varchar, value varchar, unit varchar, shown varchar, ok boolean)")
    # Numbered, so that Python fetches and converts CONVERT_BATCH_ROWS texts at a time.
    count = connection.execute(f"""
        create or replace temp table bulk_master_text as
        select {column.name}_raw as raw, row_number() over () as number
        from (select distinct {column.name}_raw from bulk_master_field where {column.name}_raw is not null)
    """).fetchone()[0]
    for start in range(1, count + 1, CONVERT_BATCH_ROWS):
        texts = connection.execute("select raw from bulk_master_text where number between ? and ?",
                                   [start, start + CONVERT_BATCH_ROWS - 1]).fetchall()
        insert_rows(connection, table, [_converted(text, column) for (text,) in texts])
    connection.execute("drop table bulk_master_text")


def _converted(text: str, column: Column) -> tuple:
    """Convert one cell text: (raw, value, unit, shown, ok), as _convert_distinct stores it."""
    try:
        value = convert(Cell(text), column)
    except ColumnError:
        return text, None, None, None, False
    if column.kind == QUANTITY:
        number = None if value.value is None else str(value.value)
        return text, number, value.unit, value.text.strip() or "—", True
    if isinstance(value, int) and not isinstance(value, bool):
        return text, str(value), None, None, INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]
    return text, str(value), None, None, True


def _stage_rows(connection: duckdb.DuckDBPyConnection) -> None:
    """Create bulk_master_row: each KPI row converted, with ``unsure`` when the Python reader would object."""
    joins = "\n".join(
        f"left join bulk_master_{c.name} as {c.name} on {c.name}.raw = bulk_master_field.{c.name}_raw"
        for c in CONVERTED
    )
    values = ",\n".join(
        f"{c.name}.value as {c.name}" if c.kind != QUANTITY
        else f"{c.name}.value::decimal(18, 6) as {c.name}_value, {c.name}.unit as {c.name}_unit, "
             f"{c.name}.shown as {c.name}_text"
        for c in CONVERTED
    )
    failed = " or ".join(f"({c.name}_raw is not null and not {c.name}.ok)" for c in CONVERTED)
    texts = ", ".join(f"{c.name}_text" for c in master.COLUMNS if c.kind == TEXT)
    connection.execute(f"""
        create or replace temp table bulk_master_row as
        with converted as (
            select
                strategy_id, source_file, line_no, {texts},
                {values},
                {failed} as failed,
                {' or '.join(f"{c.name}_raw is null" for c in CONVERTED if c.name in REQUIRED)} as converted_empty
            from bulk_master_field
            {joins}
            -- the Python reader skips blank rows and rows of one note (※, 注, (注, 備考, *)
            where filled_count > 0
                and not (filled_count = 1 and regexp_matches(trim(translate(first_filled, '＊（', '*(')),
                                                            '^(※|注|\\(注|備考|\\*)'))
        ),
        judged as (
            select
                *,
                coalesce(evaluated::boolean, true) as is_evaluated,
                -- a line with bad quoting is handed back by lines_beyond_split in read_masters
                failed or converted_empty
                    or {' or '.join(f"{name}_text is null" for name in REQUIRED
                                    if next(c for c in master.COLUMNS if c.name == name).kind == TEXT)}
                    or (baseline_unit is not null and baseline_unit is distinct from unit_text)
                    or (target_unit is not null and target_unit is distinct from unit_text)
                    or (not coalesce(evaluated::boolean, true) and exclusion_reason_text is null)
                    or (coalesce(evaluated::boolean, true) and exclusion_reason_text is not null)
                    or baseline_fiscal_year::integer > target_fiscal_year::integer
                    or (direction in ('up', 'down') and baseline_value is not null
                        and baseline_value = target_value)
                    or count(*) over (partition by strategy_id, kpi_id) > 1
                    as unsure
            from converted
        )
        select * from judged
    """)


def _stage_kpi(connection: duckdb.DuckDBPyConnection) -> set[str]:
    """Create bulk_kpi, the kpi rows of the masters read with certainty; return their strategy ids."""
    # A business number with two projects or names is the Python reader's error too.
    connection.execute("""
        create or replace temp table bulk_kpi as
        with sure as (
            select strategy_id
            from bulk_master_row
            group by strategy_id
            having not bool_or(unsure)
            except
            select strategy_id
            from bulk_master_row
            group by strategy_id, business_no
            having count(distinct (project_no, project_name_text, business_name_text)) > 1
        )
        select
            strategy_id,
            kpi_id,
            project_no::integer as project_no,
            project_name_text as project_name,
            business_no::integer as business_no,
            business_name_text as business_name,
            business_summary_text as business_summary,
            row_number() over (partition by strategy_id, business_no order by line_no)::integer as kpi_seq,
            kpi_name_text as kpi_name,
            unit_text as unit,
            direction,
            coalesce(cumulative::boolean, false) as cumulative,
            baseline_fiscal_year::integer as baseline_fiscal_year,
            baseline_value,
            baseline_text,
            target_fiscal_year::integer as target_fiscal_year,
            target_value,
            target_text,
            is_evaluated as evaluated,
            exclusion_reason_text as exclusion_reason,
            source_file,
            line_no::integer as source_line,
            null::varchar as notes,
            department_text as department
        from bulk_master_row
        where strategy_id in (select strategy_id from sure)
    """)
    return {row[0] for row in connection.execute("select distinct strategy_id from bulk_kpi").fetchall()}
