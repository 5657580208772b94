"""Asset checks that run the validation rules with Great Expectations, beside the tables they check.

Every check is blocking: a failing rule of severity error stops the assets
downstream (scores, summaries, the published file), so the published DuckDB
file stays as it was. A failing warning rule does not block; its rows are
recorded in validation_result and shown. The rules, messages and expectations
live in evaluation/validation/rules.py.
"""

from functools import partial

import dagster as dg

from assets.metadata import log_some
from evaluation.validation.engines import find_failing_rows
from evaluation.validation.findings import Finding, finding_for, write_findings
from evaluation.validation.reports import validation_docs_dir
from evaluation.validation.rules import Rule, Severity, rules_for
from pipelines.resources import KpiWarehouse, staging_id

MAX_MESSAGES_IN_METADATA = 200
SEVERITIES = {Severity.ERROR: dg.AssetCheckSeverity.ERROR, Severity.WARNING: dg.AssetCheckSeverity.WARN}


def _more_rows(rule_name: str, count: int) -> str:
    return (f"[{rule_name}] ほか {count} 行(すべて validation_result にあります) / "
            f"{count} more rows (all in validation_result)")


def _result(rule: Rule, asset: str, findings: list[Finding]) -> dg.AssetCheckResult:
    messages = [finding.message for finding in findings[:MAX_MESSAGES_IN_METADATA]]
    return dg.AssetCheckResult(
        check_name=rule.name,
        asset_key=asset,
        passed=not findings,
        severity=SEVERITIES[rule.severity],
        metadata={
            "rule": rule.title_ja,
            "failing_rows": len(findings),
            "messages": dg.MetadataValue.text("\n".join(messages)),
        },
    )


def frame_checks(frame_name: str, asset: str, additional_deps: list[str]) -> dg.AssetChecksDefinition:
    """Build one multi-asset check that validates ``frame_name`` and reports each rule on ``asset``."""
    rules = rules_for(frame_name)
    specs = [
        dg.AssetCheckSpec(
            rule.name,
            asset=asset,
            additional_deps=additional_deps,
            blocking=True,
            description=f"{rule.title_ja}({'エラー' if rule.severity is Severity.ERROR else '警告'})",
        )
        for rule in rules
    ]

    @dg.multi_asset_check(specs=specs, name=f"validate_{frame_name}")
    def validate(context: dg.AssetCheckExecutionContext, kpi_warehouse: KpiWarehouse):
        run_id = context.run.run_id
        with kpi_warehouse.warehouse.open_staging(staging_id(context.run)) as connection:
            run = find_failing_rows(connection, frame_name, rules, run_id, validation_docs_dir())
            findings = {rule.name: [finding_for(rule, row) for row in run.failing[rule.name]] for rule in rules}
            all_findings = [finding for items in findings.values() for finding in items]
            written = write_findings(connection, run_id, [rule.name for rule in rules], all_findings)

        context.log.info(
            f"validated {run.rows} rows of {frame_name} with {run.engine}; wrote {written} rows to validation_result"
        )
        for rule in rules:
            log = context.log.error if rule.severity is Severity.ERROR else context.log.warning
            log_some(log, [f"[{rule.name}] {finding.message}" for finding in findings[rule.name]],
                     partial(_more_rows, rule.name))
            yield _result(rule, asset, findings[rule.name])

    return validate


validate_kpi = frame_checks("kpi", "kpi", ["strategy"])
validate_kpi_cell = frame_checks("kpi_cell", "kpi_value", ["kpi", "strategy"])
validate_published_kpi_score = frame_checks("published_kpi_score", "published_kpi_score", ["strategy"])
validate_published_summary = frame_checks("published_summary", "published_summary", ["strategy"])
validate_kpi_score = frame_checks("kpi_score", "kpi_score", ["kpi_value"])
validate_score_discrepancy = frame_checks("score_discrepancy", "score_discrepancy", [])
