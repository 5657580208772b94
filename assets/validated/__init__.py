"""Validation of the normalized tables (asset checks) and reconciliation with published figures."""
