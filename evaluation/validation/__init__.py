"""Validation of the normalized tables: units, rules, Great Expectations suites, findings.

Pure logic with no Dagster import: the asset checks in ``assets/validated/``
call ``run_suite`` and write what it returns into ``validation_result``.
"""
