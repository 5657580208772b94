"""Keep names from being read as spreadsheet formulas (CSV and formula injection).

Excel, LibreOffice and Google Sheets start a formula at a cell that begins with
= + - @, and some treat a leading tab or carriage return the same way. OWASP's
"CSV Injection" page recommends prefixing such a text cell with an apostrophe.
Excel on Japanese Windows also converts the full-width forms typed by an IME
(＝ ＋ － ＠) when a cell is edited, so they are treated alike.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CSV_TEXT_PREFIX = "'"


def starts_like_formula(text: str) -> bool:
    """Return whether a spreadsheet could read ``text`` as the start of a formula."""
    return text.startswith(FORMULA_PREFIXES)


def csv_safe(value: object) -> object:
    """Prefix a formula-like string with an apostrophe; numbers and other values pass unchanged."""
    if isinstance(value, str) and starts_like_formula(value):
        return CSV_TEXT_PREFIX + value
    return value


def csv_safe_sql(column: str) -> tuple[str, list[str]]:
    """Return a SQL expression that applies ``csv_safe`` to the VARCHAR ``column``, and its parameters.

    ``column`` is an identifier already quoted by the caller; the prefixes are bound as parameters.
    """
    tests = " or ".join(f"starts_with({column}, ?)" for _ in FORMULA_PREFIXES)
    return f"case when {tests} then ? || {column} else {column} end", [*FORMULA_PREFIXES, CSV_TEXT_PREFIX]
