"""Declared column types of the intake formats, and the conversion of one cell to its type.

Each column of the master and submission formats declares its type: text,
code, integer, fiscal year, quantity or choice. A cell is converted by that
type alone, never by what the other cells of the column happen to look like.
A cell that does not fit raises ``ColumnError`` with the rule it broke.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from evaluation.cells import (
    MAX_DECIMAL_PLACES,
    CellError,
    ParsedCell,
    ValueStatus,
    excel_number,
    normalize_text,
    parse_cell,
)
from evaluation.eras import EraError, fiscal_year
from evaluation.intake.sheets import Cell, Grid, Header, column_letter, is_blank, matches_label
from evaluation.problems import InputProblem

TEXT = "text"
CODE = "code"
INTEGER = "integer"
FISCAL_YEAR = "fiscal_year"
QUANTITY = "quantity"
CHOICE = "choice"

PERCENT_UNIT = "%"
_ZERO_PADDED_FORMAT = re.compile(r"^0+$")


class ColumnError(ValueError):
    """A cell that does not fit its column's declared type."""

    def __init__(self, rule_ja: str, rule_en: str) -> None:
        self.rule_ja = rule_ja
        self.rule_en = rule_en
        super().__init__(f"{rule_ja} / {rule_en}")


@dataclass(frozen=True)
class Column:
    """One column of an intake format: its Japanese header label and declared type."""

    name: str
    label: str
    kind: str
    required: bool = True  # the header must be present
    aliases: tuple[str, ...] = ()
    choices: tuple[tuple[str, object], ...] = ()  # (folded word, value) pairs for CHOICE
    # Read a cell merged down from the row above (a business name over its KPIs) as that cell's value.
    fill_merged: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class Quantity:
    """A value cell converted: the parsed number or marker, and whether Excel showed it as a percent."""

    parsed: ParsedCell
    percent_format: bool = False
    number_cell: bool = False  # an Excel number cell, not text: parsed.text was made from the number

    @property
    def value(self) -> Decimal | None:
        return self.parsed.value

    @property
    def status(self) -> ValueStatus:
        return self.parsed.status

    @property
    def unit(self) -> str | None:
        return self.parsed.unit

    @property
    def text(self) -> str:
        return self.parsed.text


def locate_columns(grid: Grid, header: Header, columns: tuple[Column, ...]) -> tuple[dict[str, int], list[InputProblem]]:
    """Map each declared column to its position in the header; list missing and repeated labels."""
    positions: dict[str, int] = {}
    problems: list[InputProblem] = []
    for column in columns:
        found = [c for c, key in header.labels.items() if any(matches_label(key, label) for label in column.labels)]
        if len(found) > 1:
            letters = ", ".join(column_letter(c) for c in found)
            problems.append(grid.problem(header.first_row, column.label, letters,
                                         f"見出し「{column.label}」が複数の列({letters})にあります",
                                         f"the header {column.label!r} appears in several columns ({letters})"))
        elif found:
            positions[column.name] = found[0]
        elif column.required:
            problems.append(grid.problem(header.first_row, column.label, "",
                                         f"見出し「{column.label}」の列がありません",
                                         f"the column {column.label!r} is missing from the header"))
    return positions, problems


def column_name(column: Column, position: int) -> str:
    """Name the column for a message: "K 実績値"."""
    return f"{column_letter(position)} {column.label}"


def cell_value(grid: Grid, row: int, position: int, column: Column) -> Cell:
    """Return the cell at (row, position); a cell merged from above reads as that cell if the column allows it."""
    cell = grid.cell(row, position)
    if cell.merged_into is None:
        return cell
    if not column.fill_merged:
        raise ColumnError(f"結合されたセルです({cell.merged_into} と結合)。結合を解除して各行に値を入れてください",
                          f"the cell is merged into {cell.merged_into}; unmerge it and fill every row")
    for above in range(row - 1, 0, -1):
        candidate = grid.cell(above, position)
        if candidate.merged_into is None:
            return candidate
    return Cell(None)


def convert(cell: Cell, column: Column) -> object:
    """Convert one cell by the column's declared type; None for a blank cell."""
    if is_blank(cell):
        return None
    value = cell.value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        raise ColumnError("日付・時刻のセルです。数値か文字で入れてください",
                          "the cell holds a date or time; enter a number or text")
    if column.kind == TEXT:
        return _to_text(value)
    if column.kind == CODE:
        return to_code(cell)
    if column.kind == INTEGER:
        return to_integer(value)
    if column.kind == FISCAL_YEAR:
        return to_fiscal_year(value)
    if column.kind == QUANTITY:
        return to_quantity(cell)
    if column.kind == CHOICE:
        return to_choice(value, column)
    raise ValueError(f"unknown column kind {column.kind!r}")


def _excel_number(value: int | float) -> Decimal:
    try:
        return excel_number(value)
    except CellError as error:
        raise ColumnError(error.rule_ja, error.rule_en) from error


def _to_text(value: object) -> str:
    """Keep free text as written: NFKC would turn ① into 1 and ㈱ into (株)."""
    if isinstance(value, float):
        value = _excel_number(value)
    return str(value).strip()


def to_code(cell: Cell) -> str:
    """Read a code as text: "005-2" and "0123" keep their zeros.

    A code typed into a number cell loses its leading zeros in Excel. They are
    restored only when the cell's number format shows them ("0000" shows 123 as
    0123). Any other number is taken as written.
    """
    value = cell.value
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, bool):
        raise ColumnError("コードに TRUE/FALSE は使えません", "a code cannot be TRUE or FALSE")
    number = _excel_number(value)
    if number != number.to_integral_value():
        raise ColumnError("コードは整数か文字で入れてください(小数は使えません)",
                          "a code must be text or a whole number")
    digits = str(int(number))
    if _ZERO_PADDED_FORMAT.match(cell.number_format or ""):
        digits = digits.zfill(len(cell.number_format))
    return digits


def to_integer(value: object) -> int:
    if isinstance(value, bool):
        raise ColumnError("整数を入れてください", "expected a whole number")
    if isinstance(value, int | float):
        number = _excel_number(value)
    else:
        text = normalize_text(str(value)).replace(",", "")
        if not re.fullmatch(r"-?\d+", text):
            raise ColumnError("整数を入れてください", "expected a whole number")
        number = Decimal(text)
    if number != number.to_integral_value():
        raise ColumnError("整数を入れてください(小数は使えません)", "expected a whole number, not a fraction")
    return int(number)


def to_fiscal_year(value: object) -> int:
    """Read 2019, "2019年度", "H31", "令和2年度" as a fiscal year."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        year = to_integer(value)
    else:
        try:
            year = fiscal_year(str(value))
        except EraError as error:
            raise ColumnError(error.rule_ja, error.rule_en) from error
    if not 1989 <= year <= 2100:
        raise ColumnError("年度は西暦で1989〜2100の範囲にしてください",
                          "the fiscal year must be between 1989 and 2100")
    return year


def to_quantity(cell: Cell) -> Quantity:
    """Read a value cell: a number cell, a text such as "1,199件" or "75.85%", or a missing marker."""
    value = cell.value
    if isinstance(value, str):
        try:
            return Quantity(parse_cell(value))
        except CellError as error:
            raise ColumnError(error.rule_ja, error.rule_en) from error
    if isinstance(value, bool):
        raise ColumnError("数値を入れてください(TRUE/FALSE は使えません)", "expected a number, not TRUE/FALSE")
    number = _excel_number(value)
    percent = "%" in (cell.number_format or "")
    shown = f"{plain(number * 100)}%" if percent else plain(number)
    parsed = ParsedCell(shown, ValueStatus.REPORTED, number, None)
    return Quantity(parsed, percent_format=percent, number_cell=True)


def plain(value: Decimal) -> str:
    """Write a decimal without trailing zeros or exponent: 12.50 -> "12.5", 1.2E+3 -> "1200"."""
    return format(value.normalize(), "f")


def to_choice(value: object, column: Column) -> object:
    key = normalize_text(str(value)).replace(" ", "").upper()
    for word, result in column.choices:
        if key == normalize_text(word).upper():
            return result
    words = "、".join(dict.fromkeys(word for word, _ in column.choices if word))
    raise ColumnError(f"「{column.label}」は次のどれかにしてください: {words}",
                      f"{column.label} must be one of: {words}")


def in_kpi_unit(quantity: Quantity, kpi_unit: str | None) -> Quantity:
    """Return the quantity in the KPI's unit; raise ``ColumnError`` when its unit differs.

    A percent-formatted Excel cell stores 0.7585 for 75.85%: it becomes 75.85
    when the KPI's unit is %, and is rejected otherwise. A bare number is taken
    in the KPI's unit; a number with another unit (人 for a 件 KPI) is rejected.
    """
    parsed = quantity.parsed
    if quantity.percent_format:
        if kpi_unit != PERCENT_UNIT:
            raise ColumnError(f"パーセント表示のセルですが、このKPIの単位は「{kpi_unit or 'なし'}」です",
                              f"the cell is formatted as a percentage but the KPI's unit is {kpi_unit!r}")
        parsed = replace(parsed, value=Decimal(plain(parsed.value * 100)), unit=PERCENT_UNIT)
    elif parsed.unit is not None and parsed.unit != kpi_unit:
        raise ColumnError(f"単位「{parsed.unit}」がこのKPIの単位「{kpi_unit or 'なし'}」と違います",
                          f"the unit {parsed.unit!r} differs from the KPI's unit {kpi_unit!r}")
    if parsed.value is not None and -parsed.value.as_tuple().exponent > MAX_DECIMAL_PLACES:
        raise ColumnError(f"小数点以下は{MAX_DECIMAL_PLACES}桁までです",
                          f"at most {MAX_DECIMAL_PLACES} decimal places are supported")
    return Quantity(parsed, quantity.percent_format, quantity.number_cell)


def quantity_text(quantity: Quantity, unit: str | None) -> str:
    """Write a value for people: a text cell as written ("１，１９９件"), a number cell with its unit ("82.25%")."""
    if not quantity.number_cell:
        return quantity.text.strip() or "—"
    if quantity.percent_format:
        return quantity.text
    return f"{quantity.text}{unit or ''}"
