"""Run the rules of one frame as a Great Expectations suite on a pandas copy of the frame.

GX runs quietly and locally: analytics off (GX_ANALYTICS_ENABLED=False and the
context's ``analytics_enabled``), no progress bars, an in-memory (ephemeral)
context that writes nothing under the home folder, and Data Docs HTML written
only into ``<reports dir>/validation/``. GX is imported inside functions so
that loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.validation.frames import frame_rows, pandas_frame
from evaluation.validation.rules import Rule

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

ROW_ID = "row_id"
DATASOURCE = "kpi_evaluation"
DOCS_SITE = "validation"

# One context per run: every suite of a run adds its results to the same Data
# Docs index. Checks of a run execute in one process (in-process executor).
_contexts: dict[str, Any] = {}


def _context(run_id: str, docs_dir: Path) -> Any:
    """Return this run's ephemeral GX context, creating it (and dropping older ones) if needed."""
    if run_id in _contexts:
        return _contexts[run_id]
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    docs_dir.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites={
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas(DATASOURCE)
    _contexts.clear()
    _contexts[run_id] = context
    return context


def _expectations(rules: list[Rule]) -> list[tuple[Rule, Any]]:
    import great_expectations.expectations as ex

    pairs = []
    for rule in rules:
        for expectation in rule.expectations(ex):
            expectation.meta = {"rule": rule.name, "severity": rule.severity.value, "rule_ja": rule.title_ja}
            pairs.append((rule, expectation))
    return pairs


def failing_rows(
    connection: duckdb.DuckDBPyConnection, frame_name: str, rules: list[Rule], run_id: str, docs_dir: Path
) -> dict[str, list[dict]]:
    """Validate the frame's view against ``rules``; return the failing rows per rule name, in row order.

    Every rule gets an entry, empty when it passed. Data Docs for the run are
    rebuilt in ``docs_dir``. An expectation that raises is an error of this
    code, not of the input, so it raises ``RuntimeError``.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    frame = pandas_frame(connection, frame_name)
    context = _context(run_id, docs_dir)
    datasource = context.data_sources.get(DATASOURCE)
    asset = datasource.add_dataframe_asset(frame_name)
    batch = asset.add_batch_definition_whole_dataframe(f"{frame_name}_all_rows")
    suite = context.suites.add(gx.ExpectationSuite(name=frame_name))
    for _, expectation in _expectations(rules):
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=frame_name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=frame_name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
            # the failing rows' row_id come back only when asked for here
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
        )
    )

    result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_id))

    failing: dict[str, set[int]] = {rule.name: set() for rule in rules}
    by_name = {rule.name: rule for rule in rules}
    for validation in result.run_results.values():
        for outcome in validation.results:
            rule = by_name[outcome.expectation_config.meta["rule"]]
            if outcome.exception_info and outcome.exception_info.get("raised_exception"):
                raise RuntimeError(
                    f"expectation for rule {rule.name} failed to run: {outcome.exception_info.get('exception_message')}"
                )
            failing[rule.name].update(int(index[ROW_ID]) for index in outcome.result.get("unexpected_index_list") or [])

    rows = frame_rows(connection, frame_name, sorted(set().union(*failing.values())))
    return {name: [rows[row_id] for row_id in sorted(row_ids)] for name, row_ids in failing.items()}
