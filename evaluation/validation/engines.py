"""The two engines that run a frame's rules: DuckDB SQL (the default) and Great Expectations.

Both run the same rules (``rules.py``: each rule has its GX expectations and
the same condition in SQL) on the same view, return the same failing rows, and
so give the same messages (tests/test_validation_engines.py breaks every rule
and compares). DuckDB runs all rules of a frame in one query, out of core: on
the Otaru table it takes under a second where GX takes several, and at
national scale no frame is loaded into Python (docs/performance.md).
``KPI_VALIDATION_ENGINE=great_expectations`` runs the suites in GX instead,
on a pandas copy of each frame, and writes the GX Data Docs. Because of that
copy it suits a city's tables, not a national collection.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.problems import SettingInvalid
from evaluation.validation import sql_rules
from evaluation.validation.frames import create_frame, frame_size
from evaluation.validation.rules import Rule

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

GREAT_EXPECTATIONS = "great_expectations"
DUCKDB = "duckdb"
ENGINES = (GREAT_EXPECTATIONS, DUCKDB)


@dataclass(frozen=True)
class EngineRun:
    """The failing rows of one frame per rule name, and how they were found."""

    engine: str
    rows: int
    failing: dict[str, list[dict]]


def chosen_engine() -> str:
    """Return the engine that KPI_VALIDATION_ENGINE names; DuckDB when it is not set."""
    setting = os.environ.get("KPI_VALIDATION_ENGINE", "").strip() or DUCKDB
    if setting not in ENGINES:
        raise SettingInvalid(
            f"環境変数 KPI_VALIDATION_ENGINE の値「{setting}」は使えません。{' か '.join(ENGINES)} にしてください"
            f" / KPI_VALIDATION_ENGINE={setting!r} is not an engine; use {' or '.join(ENGINES)}"
        )
    return setting


def find_failing_rows(
    connection: duckdb.DuckDBPyConnection, frame: str, rules: list[Rule], run_id: str, docs_dir: Path
) -> EngineRun:
    """Create ``frame``'s view and return its failing rows per rule, found by the chosen engine."""
    create_frame(connection, frame)
    engine = chosen_engine()
    if engine == GREAT_EXPECTATIONS:
        from evaluation.validation import suites

        rows = frame_size(connection, frame)
        failing = suites.failing_rows(connection, frame, rules, run_id, docs_dir)
    else:
        rows, failing = sql_rules.failing_rows(connection, frame, rules)
    counts = {name: len(items) for name, items in failing.items() if items}
    log.info("validated %s (%d rows) against %d rules with %s; failing rows: %s",
             frame, rows, len(rules), engine, counts or "none")
    return EngineRun(engine, rows, failing)
