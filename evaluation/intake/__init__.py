"""The annual intake: the KPI master, the departments' yearly submissions and their templates.

Modules, in the order data flows:

- ``sheets``: read an .xlsx sheet or a CSV file into a grid of cells, find its
  header (one or two rows, merged cells) and its data rows.
- ``columns``: the declared type of each column and the conversion of one cell.
- ``master``: the KPI master (projects, businesses, KPIs, departments).
- ``submission``: one department's actuals for a fiscal year.
- ``merge``: master + submissions + published tables -> one current value per
  KPI and year, the history behind it and who has not submitted.
- ``template``: the pre-filled workbook each department fills in.

No Dagster here; openpyxl is imported inside the functions that need it.
"""
