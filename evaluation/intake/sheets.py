"""Read a worksheet or a CSV file into a grid of cells and locate its table.

A table starts at a header row found by its labels, not by position: offices
put titles above it, notes below it and blank rows inside it. The header may
take two rows, an upper row of group labels merged across columns and a lower
row of column labels, with labels such as "KPIコード" merged down across both.
Cells keep what the file stores (an Excel number stays a float with its number
format) so that each column converts them by its declared type.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from evaluation.problems import InputProblem, InputRejected
from evaluation.sources import EncodingError, decode_text

log = logging.getLogger(__name__)

# How far down a sheet the header row may start (titles and notes above it).
HEADER_SEARCH_ROWS = 30
_SPACES = re.compile(r"\s+")
# Rows below the table that start with one of these are notes, not data.
NOTE_PREFIXES = ("※", "注", "(注", "備考", "*")


@dataclass(frozen=True)
class Cell:
    """One cell as stored: a str, int, float, bool, datetime or None, with its Excel number format."""

    value: object
    number_format: str = "General"
    # The top-left cell of the merged range this cell lies in, when it is not that cell.
    merged_into: str | None = None


EMPTY_CELL = Cell(None)  # a position with nothing in it (Cell is frozen, so one instance serves all)
_NO_CELLS: dict[int, Cell] = {}


@dataclass
class Grid:
    """The cells of one sheet (or CSV file), addressed by 1-based row and column."""

    source: str  # the file, and the sheet for workbooks: "a.xlsx [実績報告]"
    file: str
    sheet: str | None
    rows: dict[int, dict[int, Cell]] = field(default_factory=dict)

    def cell(self, row: int, column: int) -> Cell:
        return self.rows.get(row, _NO_CELLS).get(column, EMPTY_CELL)

    @property
    def max_row(self) -> int:
        return max(self.rows, default=0)

    def problem(self, row: int | None, column: int | str | None, value: object, rule_ja: str,
                rule_en: str, severity: str = "error") -> InputProblem:
        return InputProblem(self.source, row, column, "" if value is None else str(value),
                            rule_ja, rule_en, severity)


def cell_reference(grid: Grid, row: int, column: int) -> str:
    """Name one cell for a message: "a.xlsx [実績報告] K7" or "b.csv 3行目 8列目"."""
    if grid.sheet is None:
        return f"{grid.file} {row}行目 {column}列目"
    return f"{grid.source} {column_letter(column)}{row}"


def column_letter(column: int) -> str:
    letters = ""
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def label_key(text: object) -> str:
    """Fold a header label for matching: NFKC, no spaces, no line breaks, "Ｎｏ．" -> "No."."""
    if text is None:
        return ""
    return _folded_label(str(text))


@lru_cache(maxsize=2**16)
def _folded_label(text: str) -> str:
    # Recognizing 20,000 files folds 1.4 million cells, most of them the same few header labels.
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def is_blank(cell: Cell) -> bool:
    return cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())


# Bounds on the work one sheet may cost, so that a sheet past them is rejected with a
# message instead of being read for minutes. NOTE: the bounds are estimates, far above
# a KPI table of a few dozen columns and a few thousand rows.
MAX_SHEET_CELLS = 2_000_000  # cell positions read, blank ones in a row included
MAX_MERGED_CELLS = 1_000_000  # cells covered by merged ranges, after clipping to the filled area


def read_workbook(path: Path, display_name: str) -> list[Grid]:
    """Read every sheet of an .xlsx file; merged ranges are marked on the cells they cover.

    The workbook is streamed (read-only mode) twice: once for the values Excel
    stored and once for the formulas, so that a formula cell without a stored
    result is rejected rather than read as blank. A cell far away from the
    table (XFD1048576) costs one cell, and merged ranges are clipped to the
    area that contains values.
    """
    from openpyxl import load_workbook

    # A file object, unlike a path, is opened whatever the file's extension is.
    with path.open("rb") as values_handle, path.open("rb") as formulas_handle:
        values_book = load_workbook(values_handle, read_only=True, data_only=True)
        formulas_book = load_workbook(formulas_handle, read_only=True, data_only=False)
        try:
            grids = []
            problems: list[InputProblem] = []
            for values_sheet, formulas_sheet in zip(values_book.worksheets, formulas_book.worksheets, strict=True):
                grid = Grid(f"{display_name} [{values_sheet.title}]", display_name, values_sheet.title)
                problems.extend(_read_sheet_cells(grid, values_sheet, formulas_sheet))
                problems.extend(_mark_merged_cells(grid, _merged_ranges(values_sheet)))
                grids.append(grid)
        finally:
            values_book.close()
            formulas_book.close()
    if problems:
        raise InputRejected(problems)
    log.info("read workbook %s: sheets %s", display_name, ", ".join(g.sheet for g in grids))
    return grids


def _read_sheet_cells(grid: Grid, values_sheet, formulas_sheet) -> list[InputProblem]:
    """Fill ``grid`` with the stored values; return a problem per formula without a stored result."""
    # The <dimension> element may claim A1:XFD1048576; without it, each row is only as
    # wide as its last cell and rows missing from the file cost nothing.
    values_sheet.reset_dimensions()
    formulas_sheet.reset_dimensions()
    problems = []
    positions = 0
    rows = zip(values_sheet.iter_rows(), formulas_sheet.iter_rows(), strict=True)
    for values_row, formulas_row in rows:
        positions += len(values_row)
        if positions > MAX_SHEET_CELLS:
            return [grid.problem(None, None, "", f"シートが大きすぎます({MAX_SHEET_CELLS:,} セルを超えます)。"
                                 "表の外のセルの値や書式を消して保存し直してください",
                                 f"the sheet is too large (over {MAX_SHEET_CELLS:,} cells); clear values and "
                                 "formats outside the table and save it again")]
        for cell, formula_cell in zip(values_row, formulas_row, strict=True):
            if cell.value is not None:
                grid.rows.setdefault(cell.row, {})[cell.column] = Cell(cell.value, cell.number_format)
            elif formula_cell.data_type == "f" and cell.data_type != "s":
                # Excel stores a formula's result beside it; a formula whose result is the
                # empty string is stored as a text cell (t="str") with an empty value
                problems.append(_formula_without_result(grid, formula_cell))
    return problems


def _formula_without_result(grid: Grid, cell) -> InputProblem:
    formula = str(getattr(cell.value, "text", cell.value))  # an array formula keeps its text in .text
    return grid.problem(
        cell.row, cell.column, formula,
        f"セル {cell.coordinate} の数式の計算結果が保存されていません(Excel 以外のツールで書かれたファイルです)。"
        "空欄として読むと未提出になるため読み込みません。Excel で開いて保存し直すか、値を直接入力してください",
        f"the formula in cell {cell.coordinate} has no stored result (the file was written by a tool other "
        "than Excel), and reading it as blank would make the row unsubmitted; open and save the file in "
        "Excel, or type the value",
    )


def _merged_ranges(sheet) -> list[tuple[int, int, int, int]]:
    """Return (min_row, min_col, max_row, max_col) of each merged range of a read-only sheet."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import range_boundaries

    # NOTE: read-only worksheets of openpyxl 3.1 do not expose merged cells, so the
    # <mergeCell> elements are read from the sheet's XML through its private _get_source.
    ranges = []
    with sheet._get_source() as source:
        for _, element in iterparse(source):
            if element.tag.endswith("}mergeCell") and element.get("ref"):
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                ranges.append((min_row, min_col, max_row, max_col))
            element.clear()
    return ranges


def _mark_merged_cells(grid: Grid, ranges: list[tuple[int, int, int, int]]) -> list[InputProblem]:
    """Mark the cells each merged range covers, clipped to the rows and columns that hold values."""
    last_row = grid.max_row
    last_column = max((column for cells in grid.rows.values() for column in cells), default=0)
    covered = 0
    for min_row, min_col, max_row, max_col in ranges:
        top_left = f"{column_letter(min_col)}{min_row}"
        max_row, max_col = min(max_row, last_row), min(max_col, last_column)
        covered += max(0, max_row - min_row + 1) * max(0, max_col - min_col + 1)
        if covered > MAX_MERGED_CELLS:
            return [grid.problem(None, None, top_left,
                                 f"結合されたセルが多すぎます({MAX_MERGED_CELLS:,} セルを超えます)。"
                                 "表の外のセル結合を解除して保存し直してください",
                                 f"too many merged cells (over {MAX_MERGED_CELLS:,}); unmerge the cells "
                                 "outside the table and save it again")]
        for row_no in range(min_row, max_row + 1):
            for column in range(min_col, max_col + 1):
                if (row_no, column) != (min_row, min_col):
                    grid.rows.setdefault(row_no, {})[column] = Cell(None, "General", top_left)
    return []


def read_csv(path: Path, display_name: str) -> tuple[Grid, str]:
    """Read a comma-separated file as text cells; return the grid and the encoding found."""
    try:
        text, encoding = decode_text(path.read_bytes())
    except EncodingError as error:
        raise InputRejected([InputProblem(display_name, None, None, "", str(error),
                                          "unknown text encoding")]) from error
    grid = grid_from_csv_text(text, display_name)
    log.info("read CSV %s: %d rows, encoding %s", display_name, grid.max_row, encoding)
    return grid, encoding


def grid_from_csv_text(text: str, display_name: str, max_rows: int | None = None) -> Grid:
    """Build the grid of CSV text; with ``max_rows``, of its first records only (enough to find a header)."""
    return grid_from_records(csv_records(text, display_name, max_rows), display_name)


def grid_from_records(records: list[list[str]], display_name: str) -> Grid:
    """Build the grid of CSV records: one text cell per field that is not blank."""
    grid = Grid(display_name, display_name, None)
    for row_no, values in enumerate(records, start=1):
        for column, value in enumerate(values, start=1):
            if value.strip():
                grid.rows.setdefault(row_no, {})[column] = Cell(value)
    return grid


def csv_records(text: str, display_name: str, max_rows: int | None = None) -> list[list[str]]:
    """Parse CSV text into records; with ``max_rows``, its first records only."""
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row_no, values in enumerate(reader, start=1):
            if max_rows is not None and row_no > max_rows:
                break
            records.append(values)
    except csv.Error as error:
        # the csv module stops at a field over csv.field_size_limit() (131072 characters by
        # default), which is usually a quote that is never closed
        limit = csv.field_size_limit()
        raise InputRejected([Grid(display_name, display_name, None).problem(
            reader.line_num, None, "",
            f"CSV として読めません。1つの欄が {limit:,} 文字を超えるか、引用符(\")が閉じていません",
            f"cannot read the CSV: a field is over {limit:,} characters or a quote (\") is not closed ({error})",
        )]) from error
    return records


@dataclass(frozen=True)
class Header:
    """A table's header rows and the label of each column."""

    first_row: int
    last_row: int  # equal to first_row for a one-row header
    labels: dict[int, str]  # column -> folded label


def _merged_value(grid: Grid, row: int, column: int) -> object:
    cell = grid.cell(row, column)
    if cell.merged_into is None:
        return cell.value
    letters = cell.merged_into.rstrip("0123456789")
    number = int(cell.merged_into[len(letters):])
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return grid.cell(number, index).value


def find_header(grid: Grid, anchor: str, column_labels: set[str]) -> Header | None:
    """Find the header row that contains the label ``anchor``, with a second header row below it if any.

    The row below belongs to the header when its cell under the anchor is blank
    or merged from above (a data row always has the KPI code there) and it
    contains at least one of ``column_labels``. Each column's label is the lower
    row's text, else the upper row's (merged cells read as their top-left cell),
    so a label merged down over both rows is found too.
    """
    for row in range(1, min(grid.max_row, HEADER_SEARCH_ROWS) + 1):
        anchor_column = next((c for c in grid.rows.get(row, {})
                              if label_key(_merged_value(grid, row, c)) == anchor), None)
        if anchor_column is None:
            continue
        below = grid.cell(row + 1, anchor_column)
        below_keys = {label_key(_merged_value(grid, row + 1, c)) for c in grid.rows.get(row + 1, {})}
        two_rows = (
            (is_blank(below) or below.merged_into is not None)
            and any(matches_label(key, label) for key in below_keys for label in column_labels)
        )
        last = row + 1 if two_rows else row
        columns = set(grid.rows.get(row, {})) | set(grid.rows.get(last, {}))
        labels = {}
        for column in sorted(columns):
            lower = label_key(_merged_value(grid, last, column))
            upper = label_key(_merged_value(grid, row, column))
            labels[column] = lower or upper
        return Header(row, last, labels)
    return None


def matches_label(key: str, label: str) -> bool:
    """Return True when a folded header ``key`` is ``label``, or ``label`` with a note in brackets.

    "基準値(H26)" and "実績値(令和2年度)" match "基準値" and "実績値".
    """
    return key == label or (key.startswith(label) and key[len(label):len(label) + 1] in ("(", "["))


def is_note_row(cells: dict[int, Cell]) -> bool:
    """Return True for a row of notes below a table: one text cell starting with ※, 注 or 備考."""
    filled = [c for c in cells.values() if not is_blank(c)]
    if len(filled) != 1 or not isinstance(filled[0].value, str):
        return False
    return unicodedata.normalize("NFKC", filled[0].value).strip().startswith(NOTE_PREFIXES)


def data_rows(grid: Grid, header: Header) -> list[tuple[int, dict[int, Cell]]]:
    """Return the rows below the header, skipping blank rows and notes and logging the counts."""
    rows = []
    blank = notes = 0
    for row in range(header.last_row + 1, grid.max_row + 1):
        cells = grid.rows.get(row, {})
        if all(is_blank(c) and c.merged_into is None for c in cells.values()):
            blank += 1
            continue
        if is_note_row(cells):
            notes += 1
            continue
        rows.append((row, cells))
    log.info("%s: %d data rows below the header in row %d (%d blank rows and %d note rows skipped)",
             grid.source, len(rows), header.first_row, blank, notes)
    return rows
