"""docs/data-model.md documents exactly the tables and columns of a refreshed DuckDB file."""

import re

import duckdb

from tests.conftest import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "data-model.md"


def documented_tables() -> dict[str, list[tuple[str, str]]]:
    """Table name -> [(column, type)] from the '## `table`' sections of the page."""
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## `(\w+)`$", line)
        if heading:
            current = tables.setdefault(heading.group(1), [])
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is not None and line.startswith("|") and len(cells) >= 2 and re.match(r"^\w+$", cells[0]):
            if cells[0] != "column":
                current.append((cells[0], cells[1]))
    return tables


def test_every_table_and_column_is_documented(otaru_warehouse):
    with duckdb.connect(str(otaru_warehouse), read_only=True) as connection:
        real = {}
        for table, column, data_type in connection.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'main' and not internal order by table_name, column_index"
        ).fetchall():
            real.setdefault(table, []).append((column, data_type.replace(", ", ",")))
    documented = documented_tables()
    assert sorted(documented) == sorted(real)
    for table, columns in real.items():
        assert documented[table] == columns, table
