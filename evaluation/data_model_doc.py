"""Read the column tables of docs/data-model.md and write them as the Python module evaluation/columns.py.

docs/data-model.md is the one place where columns are documented. The Dagster
code location must read no file while it loads, so the columns reach the
asset definitions through a generated module:
    .venv/bin/python -m pipelines.cli column-docs > evaluation/columns.py
A test regenerates the module in memory and compares it with the checked-in one.
"""

from __future__ import annotations

import re
from pathlib import Path

from evaluation.warehouse import PROJECT_ROOT

DATA_MODEL_DOC = PROJECT_ROOT / "docs" / "data-model.md"
_TABLE_HEADING = re.compile(r"^## `(\w+)`$")
_COLUMN_NAME = re.compile(r"^\w+$")


def parse_data_model(text: str) -> dict[str, list[tuple[str, str, str, str]]]:
    """Map each '## `table`' section to its rows: (column, type, Japanese label, description)."""
    tables: dict[str, list[tuple[str, str, str, str]]] = {}
    current: list[tuple[str, str, str, str]] | None = None
    for line in text.splitlines():
        heading = _TABLE_HEADING.match(line)
        if heading:
            current = tables.setdefault(heading.group(1), [])
            continue
        if current is None or not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not _COLUMN_NAME.match(cells[0]) or cells[0] == "column":
            continue
        current.append((cells[0], cells[1], cells[2], "|".join(cells[3:]).strip()))
    return tables


def render_columns_module(tables: dict[str, list[tuple[str, str, str, str]]]) -> str:
    """Return the source of evaluation/columns.py for ``tables``."""
    lines = [
        '"""Columns of every warehouse table, generated from docs/data-model.md: do not edit.',
        "",
        "Regenerate after changing the page:",
        "    .venv/bin/python -m pipelines.cli column-docs > evaluation/columns.py",
        '"""',
        "",
        "# ruff: noqa: E501",
        "",
        "from __future__ import annotations",
        "",
        "from typing import NamedTuple",
        "",
        "",
        "class Column(NamedTuple):",
        '    """One documented column: name, DuckDB type, Japanese label, English description."""',
        "",
        "    name: str",
        "    type: str",
        "    label_ja: str",
        "    description: str",
        "",
        "",
        "TABLE_COLUMNS: dict[str, list[Column]] = {",
    ]
    for table, columns in tables.items():
        lines.append(f"    {table!r}: [")
        for column in columns:
            lines.append(f"        Column{column!r},")
        lines.append("    ],")
    lines.append("}")
    return "\n".join(lines) + "\n"


def columns_module_source(doc: Path = DATA_MODEL_DOC) -> str:
    """Return the source of evaluation/columns.py generated from ``doc``."""
    return render_columns_module(parse_data_model(doc.read_text(encoding="utf-8")))
