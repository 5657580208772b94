"""Pure logic of the KPI evaluation: cell parsing, eras, importers, scoring rule. No Dagster here."""
