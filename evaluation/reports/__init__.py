"""Reports people read, built from the published DuckDB file: workbook, HTML report, CSV exports.

Pure builders with no Dagster import. openpyxl and matplotlib are imported
inside the functions that use them, so importing this package stays cheap for
the Dagster code location.
"""
