"""The frames the validation rules run on: DuckDB views over the tables of the staging file.

Each frame (``sql/validated/frames/<frame>.sql``) has one row per checked
record, a ``row_id`` by which both engines report failing rows, the columns the
rules read, and the columns the messages name: ``table``, ``record_key``,
``source_file``, ``source_line``, ``source_column`` and ``value_text``. Frames
read only table columns, so any input format that fills these tables is
checked the same way. A view is computed by DuckDB when it is read, so a frame
of millions of rows is never held in Python.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from evaluation.cells import CellError, parse_cell
from evaluation.validation.kpi_units import stage_units
from evaluation.warehouse import read_sql

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

FRAMES = ("kpi", "kpi_cell", "published_kpi_score", "published_summary", "kpi_score", "score_discrepancy")

# A baseline or target text that parse_cell reads as a number and unit with no
# note. It has ASCII digits (thousands separators in threes, at most 12 integer
# digits and 6 decimals), then a unit of characters that NFKC does not change:
# ASCII letters, %, kanji, hiragana and katakana. Any other text is parsed by
# parse_cell itself.
_PLAIN_CELL = (
    r"^(?:\d{1,3}(?:,\d{3}){1,3}|\d{1,12})(?:\.\d{1,6})?"
    r" ?([A-Za-z%\x{4E00}-\x{9FFF}\x{3041}-\x{3096}\x{30A1}-\x{30FA}\x{30FC}]"
    r"[A-Za-z%\x{4E00}-\x{9FFF}\x{3041}-\x{3096}\x{30A1}-\x{30FA}\x{30FC}]*)?$"
)


def view_name(frame: str) -> str:
    return f"validation_frame_{frame}"


def _parsed(text: str) -> tuple[str | None, str | None]:
    """Return (unit, note) of a baseline or target cell as parse_cell reads it; (None, None) if unreadable."""
    try:
        parsed = parse_cell(text)
    except CellError:
        return None, None
    return parsed.unit, parsed.note


def _stage_cell_texts(connection: duckdb.DuckDBPyConnection) -> int:
    """Create temp table validation_cell_text: unit and note of each distinct baseline and target text.

    Plain texts are read in SQL; the others by ``parse_cell``. Returns how many
    texts were parsed in Python.
    """
    connection.execute(
        """
        create or replace temp table validation_cell_text as
        with texts as (
            select baseline_text as text from kpi union select target_text from kpi
        )
        select text, nullif(regexp_extract(text, ?, 1), '') as unit, null::varchar as note, true as plain
        from texts
        where regexp_full_match(text, ?)
        """,
        [_PLAIN_CELL, _PLAIN_CELL],
    )
    others = [
        text for (text,) in connection.execute(
            "select distinct text from (select baseline_text as text from kpi union select target_text from kpi) "
            "anti join validation_cell_text using (text)"
        ).fetchall()
    ]
    if others:
        parsed = [_parsed(text) for text in others]
        connection.execute(
            "insert into validation_cell_text select unnest(?), unnest(?), unnest(?), false",
            [others, [unit for unit, _ in parsed], [note for _, note in parsed]],
        )
    return len(others)


def create_frame(connection: duckdb.DuckDBPyConnection, frame: str) -> str:
    """Create the temp view of ``frame`` (and the tables it reads) on ``connection``; return its name."""
    if frame not in FRAMES:
        raise ValueError(f"unknown validation frame {frame!r}")
    if frame in ("kpi", "kpi_cell"):
        stage_units(connection)
    if frame == "kpi_cell":
        _stage_cell_texts(connection)
    connection.execute(read_sql(f"validated/frames/{frame}.sql"))
    return view_name(frame)


def frame_size(connection: duckdb.DuckDBPyConnection, frame: str) -> int:
    """Count the rows of ``frame``; its view must exist on ``connection``."""
    return connection.execute(f"select count(*) from {view_name(frame)}").fetchone()[0]


def frame_rows(connection: duckdb.DuckDBPyConnection, frame: str, row_ids: list[int]) -> dict[int, dict]:
    """Fetch the rows of ``frame`` with the given row ids, as dicts by row id, with Python values."""
    if not row_ids:
        return {}
    cursor = connection.execute(
        f"select * from {view_name(frame)} where row_id in (select unnest(?)) order by row_id", [row_ids]
    )
    names = [column[0] for column in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def pandas_frame(connection: duckdb.DuckDBPyConnection, frame: str) -> pd.DataFrame:
    """Load the whole of ``frame`` into a pandas frame, decimals as floats.

    For the Great Expectations engine, which compares typed columns: numbers as
    floats with NaN for null, booleans as bool. The frame is built from Python
    values and typed by ``infer_objects``, not by DuckDB's conversion, whose
    nullable integer columns (pd.NA) make GX skip comparisons.
    """
    import pandas as pd

    cursor = connection.execute(f"select * from {view_name(frame)} order by row_id")
    names = [column[0] for column in cursor.description]
    rows = [
        [float(value) if isinstance(value, Decimal) else value for value in row] for row in cursor.fetchall()
    ]
    return pd.DataFrame(rows, columns=names, dtype=object).infer_objects()
