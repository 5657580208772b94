"""Dagster assets, one folder per stage: raw -> normalized -> scores -> summaries -> publish."""
