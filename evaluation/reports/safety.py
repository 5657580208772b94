"""Keep input text from acting as anything but text where it is output.

Excel, LibreOffice and Google Sheets start a formula at a cell that begins with
= + - @, and some treat a leading tab or carriage return the same way. OWASP's
"CSV Injection" page recommends prefixing such a text cell with an apostrophe.
Excel on Japanese Windows also converts the full-width forms typed by an IME
(＝ ＋ － ＠) when a cell is edited, so they are treated alike.

A terminal acts on control characters instead of showing them: ESC (U+001B) and
CSI (U+009B) start escape sequences that move the cursor, clear the screen or set
the window title, and CR returns to the start of the line. Text printed on the
command line gets U+FFFD in their place, as the evaluation workbook does.
"""

from __future__ import annotations

import re

# Every character of Unicode category Cc except the tab, which are the C0 controls, DEL and the C1 controls.
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
REPLACEMENT_CHARACTER = "\ufffd"

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


def terminal_safe(text: str) -> str:
    """Replace each control character but the tab with U+FFFD, so that printed text cannot drive a terminal.

    Line feeds are replaced too, because the caller prints one line per call and
    a line feed inside a name would start a line that looks like output of its own.
    """
    return TERMINAL_CONTROLS.sub(REPLACEMENT_CHARACTER, text)
