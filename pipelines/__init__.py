"""Dagster wiring: definitions, jobs, resources and the command line."""
