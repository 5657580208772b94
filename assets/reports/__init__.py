"""Reports people read, built from the published DuckDB file after warehouse_file.

They read the published file, not the run's staging file: a report then always
matches the DuckDB file staff can query, and a run that fails before publishing
leaves the previous reports in place, consistent with the previous file.
"""
