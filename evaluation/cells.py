"""Parse one value cell of a KPI table, such as ``1,199件``, ``75.85%`` or ``(後日報告)人``.

A cell contains a number and its unit, or a marker giving the reason there is no number.
Parsing is strict: a cell that is neither is rejected with ``CellError`` naming
the rule it broke, so that the caller can report file, line and column.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# Values are stored as DECIMAL(18, 6) in DuckDB; more places would be rounded
# silently there, so the parser rejects them.
MAX_DECIMAL_PLACES = 6
MAX_INTEGER_DIGITS = 12


class ValueStatus(StrEnum):
    """The status of a cell's figure, stored in ``kpi_value.value_status``."""

    REPORTED = "reported"  # 実績値あり
    MISSING = "missing"  # — (no figure)
    UNDETERMINED = "undetermined"  # 未確定
    TO_BE_REPORTED = "to_be_reported"  # (後日報告)


class CellError(ValueError):
    """A cell that is neither a number with a unit nor a known missing marker."""

    def __init__(self, text: str, rule_ja: str, rule_en: str) -> None:
        self.text = text
        self.rule_ja = rule_ja
        self.rule_en = rule_en
        super().__init__(f"値「{text}」を読めません: {rule_ja} / cannot read value {text!r}: {rule_en}")


@dataclass(frozen=True)
class ParsedCell:
    """One parsed value cell: the number (or None), its unit and its status."""

    text: str
    status: ValueStatus
    value: Decimal | None = None
    unit: str | None = None
    # The marker as written when it was not the em dash, e.g. U+2015 or U+30FC.
    note: str | None = None


# Dash-like characters that offices type as "no figure". U+2014 (em dash) is the
# one the published table uses; the others come from IMEs and Excel habits.
MISSING_MARKERS = {
    "\u2014": "EM DASH",
    "\u2015": "HORIZONTAL BAR",
    "\u2013": "EN DASH",
    "\u2012": "FIGURE DASH",
    "\u2212": "MINUS SIGN",
    "\u30fc": "KATAKANA-HIRAGANA PROLONGED SOUND MARK",
    "\uff0d": "FULLWIDTH HYPHEN-MINUS",
    "-": "HYPHEN-MINUS",
}
UNDETERMINED_WORDS = ("未確定",)
TO_BE_REPORTED_WORDS = ("後日報告",)

# Minus signs that mean "negative" in front of a number. NFKC turns U+FF0D into
# "-" but leaves U+2212 alone, so both are mapped explicitly. Japanese accounts
# also write a negative figure with a leading triangle: ▲120 or △120.
MINUS_SIGNS = ("\u2212", "\uff0d", "\u2012", "\u2013", "\u25b2", "\u25b3")

# Excel stores numbers as IEEE doubles and shows at most 15 significant digits,
# so a float read from a workbook is taken at that precision.
EXCEL_SIGNIFICANT_DIGITS = 15

_NUMBER = re.compile(
    r"""^
    (?P<sign>[+-]?)
    (?P<integer>\d{1,3}(?:,\d{3})+|\d+)
    (?:\.(?P<fraction>\d+))?
    \s*
    (?P<unit>[^\d\s.,+\-][^\d]*)?
    $""",
    re.VERBOSE,
)
# A number whose thousands separators are misplaced, e.g. "1,2,3件" or "12,34".
_BAD_GROUPING = re.compile(r"^[+-]?\d[\d,]*,[\d,]*")


def normalize_text(text: str) -> str:
    """Fold full-width digits, letters and signs (NFKC) and trim spaces."""
    folded = unicodedata.normalize("NFKC", text).strip()
    # NFKC keeps U+2212 MINUS SIGN; a leading one is a negative sign.
    for minus in MINUS_SIGNS:
        if folded.startswith(minus) and len(folded) > 1:
            folded = "-" + folded[len(minus) :]
    return folded


def excel_number(value: int | float) -> Decimal:
    """Return the decimal an Excel number cell shows, e.g. 0.7585 -> Decimal("0.7585").

    openpyxl returns a float; taking it at Excel's 15 significant digits drops
    the binary noise (0.30000000000000004 -> 0.3) without inventing digits.
    Raises ``CellError`` for a number of more than MAX_INTEGER_DIGITS integer
    digits (1e30), as ``parse_cell`` does for text, because DuckDB stores
    values as DECIMAL(18, 6).
    """
    if isinstance(value, bool):
        raise TypeError("a boolean cell is not a number")
    if not math.isfinite(value) or abs(value) >= 10**MAX_INTEGER_DIGITS:
        raise CellError(str(value), f"整数部は{MAX_INTEGER_DIGITS}桁までです",
                        f"at most {MAX_INTEGER_DIGITS} integer digits are supported")
    if isinstance(value, int):
        return Decimal(value)
    number = Decimal(format(value, f".{EXCEL_SIGNIFICANT_DIGITS}g"))
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def _strip_marker(text: str, words: tuple[str, ...]) -> str | None:
    """Return the unit left over when ``text`` is a marker word, e.g. "(後日報告)人" -> "人"."""
    for word in words:
        for wrapped in (f"({word})", f"（{word}）", word):
            if text.startswith(wrapped):
                return text[len(wrapped) :].strip()
    return None


def parse_cell(text: str) -> ParsedCell:
    """Parse a value cell; raise ``CellError`` when it is neither a value nor a marker."""
    raw = text
    folded = normalize_text(text)
    if folded == "":
        raise CellError(raw, "空欄です(値か「—」を入れてください)", "the cell is empty")

    first = folded[0]
    if first in MISSING_MARKERS and not folded[1:2].isdigit():
        unit = folded[1:].strip() or None
        written = raw.strip()[0]
        note = None
        if written != "\u2014":
            name = MISSING_MARKERS.get(written, unicodedata.name(written, "?"))
            note = f"欠測の記号に U+{ord(written):04X} を使用 / missing marker U+{ord(written):04X} {name}"
        return ParsedCell(raw, ValueStatus.MISSING, None, unit, note)

    unit = _strip_marker(folded, UNDETERMINED_WORDS)
    if unit is not None:
        return ParsedCell(raw, ValueStatus.UNDETERMINED, None, unit or None)
    unit = _strip_marker(folded, TO_BE_REPORTED_WORDS)
    if unit is not None:
        return ParsedCell(raw, ValueStatus.TO_BE_REPORTED, None, unit or None)

    match = _NUMBER.match(folded)
    if match is None:
        if _BAD_GROUPING.match(folded):
            raise CellError(
                raw,
                "桁区切りのカンマの位置が正しくありません(3桁ごと)",
                "thousands separators must group three digits",
            )
        raise CellError(raw, "数値と単位の形ではありません", "expected a number followed by a unit")

    integer = match["integer"].replace(",", "")
    fraction = match["fraction"] or ""
    if len(fraction) > MAX_DECIMAL_PLACES:
        raise CellError(
            raw,
            f"小数点以下は{MAX_DECIMAL_PLACES}桁までです",
            f"at most {MAX_DECIMAL_PLACES} decimal places are supported",
        )
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise CellError(
            raw,
            f"整数部は{MAX_INTEGER_DIGITS}桁までです",
            f"at most {MAX_INTEGER_DIGITS} integer digits are supported",
        )
    number = Decimal(f"{match['sign']}{integer}.{fraction or '0'}")
    unit_text = (match["unit"] or "").strip() or None
    return ParsedCell(raw, ValueStatus.REPORTED, number, unit_text)


def parse_score(text: str) -> Decimal | None:
    """Parse a published score cell such as ``-91.30``; a missing marker gives None."""
    parsed = parse_cell(text)
    if parsed.status is not ValueStatus.REPORTED:
        return None
    if parsed.unit is not None:
        raise CellError(text, "スコアに単位は付きません", "a score has no unit")
    return parsed.value
