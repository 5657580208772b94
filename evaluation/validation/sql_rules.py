"""Run the rules of one frame in DuckDB: one query marks every failing row of every rule.

Each rule's ``failing`` condition is the SQL form of its Great Expectations
expectations (tests/test_validation_engines.py runs both engines on the same
rows and compares). DuckDB reads the frame's view out of core, so the cost
is one scan of the tables, and only failing rows reach Python.
"""

from __future__ import annotations

import logging

import duckdb

from evaluation.validation.frames import frame_rows, view_name
from evaluation.validation.rules import Rule

log = logging.getLogger(__name__)


def _flag(index: int) -> str:
    return f"failing_{index}"


def failing_rows(connection: duckdb.DuckDBPyConnection, frame: str, rules: list[Rule]) -> dict[str, list[dict]]:
    """Return, per rule name, the failing rows of ``frame`` as dicts in row order; empty when it passed.

    The first query reads only the columns the rules need (DuckDB prunes the
    others from the view); the failing rows are then fetched whole.
    """
    flags = ", ".join(f"coalesce(({rule.failing}), false) as {_flag(i)}" for i, rule in enumerate(rules))
    any_flag = " or ".join(_flag(i) for i in range(len(rules)))
    flagged = connection.execute(
        f"select * from (select row_id, {flags} from {view_name(frame)}) where {any_flag} order by row_id"
    ).fetchall()
    rows = frame_rows(connection, frame, [row[0] for row in flagged])
    failing: dict[str, list[dict]] = {rule.name: [] for rule in rules}
    for row_id, *flags_of_row in flagged:
        for rule, flag in zip(rules, flags_of_row, strict=True):
            if flag:
                failing[rule.name].append(rows[row_id])
    return failing
