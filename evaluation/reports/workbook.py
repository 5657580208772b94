"""The evaluation workbook: one sheet per project in the published table's layout, and a sheet of discrepancies.

Values stay numbers where the cell has one, with a number format that shows
them as the source wrote them: 1199 with ``#,##0"件"`` reads 1,199件, 75.85
with ``0.00"%"`` reads 75.85%. Cells without a number (—, 未確定,
(後日報告)人) hold the text as written. Every text cell is stored as a string,
never a formula, whatever it starts with.

Workbooks are written with XlsxWriter. A sheet's cells are collected first,
because the column widths and row heights depend on all of them. Then each
cell is written with one XlsxWriter format per style combination.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.cells import normalize_text
from evaluation.eras import era_label, era_label_ja
from evaluation.reports import queries
from evaluation.reports.discrepancies import DISCREPANCY_TABLE, SCORE_TOLERANCE, Discrepancies
from evaluation.reports.files import write_atomically
from evaluation.reports.labels import DIRECTION_ARROWS, label_ja
from evaluation.reports.safety import starts_like_formula

if TYPE_CHECKING:
    import duckdb
    from xlsxwriter import Workbook
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

log = logging.getLogger(__name__)

TITLE_ROW = 1
NOTE_ROW = 2
HEADER_ROW = 3  # headers take rows 3 and 4: the evaluated year spans 実績値, 補正前スコア, スコア
FIRST_DATA_ROW = 5
NOT_EVALUATED = "—"
DISCREPANCY_SHEET = "公表値との差異"
OUTLOOK_HEADER = "見通し(早期警戒)"
# Widths in Excel character units; a full-width character counts 2.
MAX_TEXT_WIDTHS = {"事業名": 24, "事業概要": 44, "施策KPI": 36}
MAX_OTHER_WIDTH = 16
MIN_WIDTH = 5
LINE_HEIGHT = 15  # points per wrapped line at the default 11 pt font
MAX_ROW_HEIGHT = 409  # points, the largest row height Excel allows
MAX_CELL_TEXT = 32_767  # characters a cell can hold in Excel; XlsxWriter cuts longer text
# Characters an Excel sheet name cannot contain, and its maximum length.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
# Control characters that openpyxl's ILLEGAL_CHARACTERS_RE rejects. A text cell gets U+FFFD in their
# place, as it did when openpyxl wrote the workbooks.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class WorkbookResult:
    """Counts of one written workbook, for the log and the asset metadata."""

    path: Path
    project_sheets: int
    kpi_rows: int
    discrepancy_rows: int
    discrepancy_source: str


@lru_cache(maxsize=65536)
def display_width(text: str) -> int:
    """Return the width of ``text`` in half-width columns: full-width (East Asian W, F, A) count 2.

    Cached: a workbook measures the same units, marks and headers many times.
    """
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def number_format(cell: queries.ValueCell) -> str:
    """Return the Excel number format that shows ``cell.value`` as ``cell.text`` writes it."""
    if cell.text.isascii() and cell.text.isdigit():
        # a whole number without separators, as most actuals are, has the format of "0", which the cache contains
        return _number_format("0", cell.unit)
    return _number_format(cell.text, cell.unit)


def number_shape(text: str) -> tuple[bool, int]:
    """Return whether the number written in ``text`` has thousands separators, and its count of decimal places."""
    folded = normalize_text(text)
    match = re.search(r"\d[\d,]*(?:\.(\d+))?", folded)
    grouped = match is not None and "," in match.group(0)
    places = len(match.group(1)) if match and match.group(1) else 0
    return grouped, places


@lru_cache(maxsize=65536)
def _number_format(text: str, unit: str | None) -> str:
    grouped, places = number_shape(text)
    pattern = "#,##0" if grouped else "0"
    if places:
        pattern += "." + "0" * places
    if unit:
        pattern += '"' + unit.replace('"', "") + '"'
    return pattern


def score_format(score: Decimal) -> str:
    """Return the number format with as many decimals as the stored score has (2 for Otaru)."""
    places = max(0, -score.as_tuple().exponent)
    return "0." + "0" * places if places else "0"


def sheet_title(project_no: int, project_name: str, taken: set[str]) -> str:
    """Return a valid, unique sheet name such as "(1)あずまい暮らしプロジェクト".

    ``taken`` contains the case-folded names given so far, because Excel (and
    XlsxWriter) treats "(1)Ab" and "(1)AB" as one name.
    """
    base = _SHEET_NAME_FORBIDDEN.sub("_", f"({project_no}){project_name}").strip("'")[:SHEET_NAME_MAX]
    title, suffix = base, 2
    while title.casefold() in taken:
        tail = f"_{suffix}"
        title = base[: SHEET_NAME_MAX - len(tail)] + tail
        suffix += 1
    taken.add(title.casefold())
    return title


class _Cell:
    """One cell to write: its value (a string, a number, or None for a cell with only a style) and its style.

    The style is a number format and the keys of a font, a fill and an
    alignment in _Styles, and whether the text gets Excel's quote prefix.
    """

    __slots__ = ("value", "number_format", "font", "fill", "alignment", "quote_prefix")

    def __init__(self, value: str | Decimal | int | None) -> None:
        self.value = value
        self.number_format: str | None = None
        self.font: str | None = None
        self.fill: str | None = None
        self.alignment: str | None = None
        self.quote_prefix = False

    def style_key(self) -> tuple[str | None, str | None, str | None, str | None, bool]:
        return (self.number_format, self.font, self.fill, self.alignment, self.quote_prefix)


_NO_STYLE = (None, None, None, None, False)


class _Styles:
    """The styles of one workbook: each style key of _Cell becomes one XlsxWriter format, made on first use."""

    FONTS = {"bold": {"bold": True}, "title": {"bold": True, "font_size": 14}}
    # XlsxWriter writes the colour of a solid fill (pattern 1) as its foreground, as Excel does.
    FILLS = {"header": {"pattern": 1, "bg_color": "#DDEBF7"}}
    ALIGNMENTS = {
        "header": {"align": "center", "valign": "vcenter", "text_wrap": True},
        "wrapped": {"valign": "top", "text_wrap": True},
        "centered": {"valign": "top", "align": "center"},  # marks, arrows and — in value columns
        "top": {"valign": "top"},
    }

    def __init__(self, workbook: Workbook, path: Path) -> None:
        self.workbook = workbook
        self.path = path  # the workbook's final path, for messages
        self._formats: dict[tuple, Format | None] = {_NO_STYLE: None}

    def format(self, key: tuple[str | None, str | None, str | None, str | None, bool]) -> Format | None:
        try:
            return self._formats[key]
        except KeyError:
            pass
        number_format, font, fill, alignment, quote_prefix = key
        properties: dict[str, object] = {}
        if number_format is not None:
            properties["num_format"] = number_format
        if font is not None:
            properties.update(self.FONTS[font])
        if fill is not None:
            properties.update(self.FILLS[fill])
        if alignment is not None:
            properties.update(self.ALIGNMENTS[alignment])
        if quote_prefix:
            properties["quote_prefix"] = True
        created = self._formats[key] = self.workbook.add_format(properties)
        return created


class _SheetWriter:
    """Collects the cells of one worksheet, tracks the width each column needs, then writes the cells.

    Rows and columns count from 1 here, as in the published table; XlsxWriter
    counts from 0, which only ``write`` deals with.
    """

    def __init__(self, sheet: Worksheet, styles: _Styles) -> None:
        self.sheet = sheet
        self.styles = styles
        self.cells: dict[int, dict[int, _Cell]] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.widths: dict[int, int] = {}
        self.column_widths: dict[int, int] = {}
        self.row_heights: dict[int, int] = {}
        self.max_column = 0  # the rightmost column with a cell so far

    def _put(self, row: int, column: int, value: str | Decimal | int | None) -> _Cell:
        cell = _Cell(value)
        self.cells.setdefault(row, {})[column] = cell
        if column > self.max_column:
            self.max_column = column
        return cell

    def _track(self, column: int, text: str) -> None:
        if text.isascii() and text.isprintable():
            longest = len(text)  # one line of half-width characters, as numbers are
            if longest > self.widths.get(column, 0):
                self.widths[column] = longest
            return
        lines = text.splitlines()
        longest = display_width(lines[0]) if len(lines) == 1 else max(map(display_width, lines), default=0)
        if longest > self.widths.get(column, 0):
            self.widths[column] = longest

    def style(self, row: int, column: int, **changes: object) -> _Cell:
        """Set style fields of a cell (number_format, font, fill, alignment, quote_prefix) and return the cell.

        A cell not written yet is added empty, with only the style.
        """
        cell = self.cells.get(row, {}).get(column) or self._put(row, column, None)
        for name, value in changes.items():
            setattr(cell, name, value)
        return cell

    def text(self, row: int, column: int, text: str, measure: bool = True) -> _Cell:
        """Write ``text`` as a string cell; a formula-like one also gets Excel's quote prefix."""
        # write_string stores "=..." and "#N/A" as strings. The prefix keeps Excel from
        # turning the cell into a formula when someone edits it.
        cell = self._put(row, column, ILLEGAL_CHARACTERS.sub("\ufffd", text))
        cell.quote_prefix = starts_like_formula(text)
        if measure:
            self._track(column, text)
        return cell

    def number(self, row: int, column: int, value: Decimal | int, pattern: str, shown: str) -> None:
        self._put(row, column, value).number_format = pattern
        self._track(column, shown)

    def value_cell(self, row: int, column: int, value: queries.ValueCell | None) -> None:
        """Write a baseline, actual or target: a number with its unit format, or the text as written."""
        if value is None:
            return
        if value.value is None:
            self.text(row, column, value.text)
        else:
            self.number(row, column, value.value, number_format(value), value.text)

    def score(self, row: int, column: int, score: Decimal | None) -> None:
        if score is None:
            self.text(row, column, NOT_EVALUATED)
        else:
            self.number(row, column, score, score_format(score), f"{score}")

    def merge(self, start_row: int, end_row: int, start_column: int, end_column: int) -> None:
        self.merges.append((start_row, end_row, start_column, end_column))

    def fit_columns(self, headers: list[str]) -> None:
        for column, header in enumerate(headers, start=1):
            limit = MAX_TEXT_WIDTHS.get(header, MAX_OTHER_WIDTH)
            needed = max(self.widths.get(column, 0), display_width(header)) + 2
            self.column_widths[column] = max(MIN_WIDTH, min(needed, limit))

    def fit_wrapped_rows(self, rows: range, columns: tuple[int, ...]) -> None:
        """Set row heights for wrapped text; a written file has no measured heights, and LibreOffice keeps one line."""
        for row in rows:
            lines = 1
            cells = self.cells.get(row, {})
            for column in columns:
                cell = cells.get(column)
                text = None if cell is None else cell.value
                width = self.column_widths.get(column) or MIN_WIDTH
                if isinstance(text, str):
                    lines = max(lines, -(-display_width(text) // max(1, int(width) - 1)))
            self.row_heights[row] = min(LINE_HEIGHT * lines, MAX_ROW_HEIGHT)

    def write(self) -> None:
        """Write the widths, heights, merged ranges and every cell with its style to the sheet."""
        sheet, formats = self.sheet, self.styles.format
        for column, width in self.column_widths.items():
            sheet.set_column(column - 1, column - 1, width)
        for row, height in self.row_heights.items():
            sheet.set_row(row - 1, height)
        for start_row, end_row, start_column, end_column in self.merges:
            # merge_range writes the first cell and blanks the others, and the loop below writes them all again.
            first = self.cells[start_row][start_column]
            sheet.merge_range(start_row - 1, start_column - 1, end_row - 1, end_column - 1,
                              first.value if isinstance(first.value, str) else "", formats(first.style_key()))
        for row, cells in self.cells.items():
            for column, cell in cells.items():
                value = cell.value
                if value is None and cell.fill is None:
                    continue  # an empty cell shows only its fill, so its font and alignment cannot be seen
                cell_format = formats(cell.style_key())
                if value is None:
                    sheet.write_blank(row - 1, column - 1, None, cell_format)
                elif isinstance(value, str):
                    if len(value) > MAX_CELL_TEXT:
                        log.warning(
                            "%s シート「%s」のセル(行 %d、列 %d)の文字列は %d 文字あり、Excel のセルに入る %d 文字で"
                            "切れます(CSV 出力には全文があります) / %s, sheet %s, row %d, column %d: text of %d "
                            "characters is cut to the %d an Excel cell can contain (the CSV exports keep all of it)",
                            self.styles.path, sheet.name, row, column, len(value), MAX_CELL_TEXT,
                            self.styles.path, sheet.name, row, column, len(value), MAX_CELL_TEXT,
                        )
                    sheet.write_string(row - 1, column - 1, value, cell_format)
                else:
                    sheet.write_number(row - 1, column - 1, value, cell_format)


@dataclass(frozen=True)
class _Layout:
    """Column positions of a project sheet, from the strategy's years and bands (computed once per sheet)."""

    headers: list[str]
    actual_years: list[int]
    fiscal_year: int
    bands: list[queries.Band]

    @cached_property
    def first_actual_column(self) -> int:
        return 6

    @cached_property
    def year_column(self) -> int:
        """The evaluated year's 実績値 column; 補正前スコア and スコア follow it."""
        return self.first_actual_column + len(self.actual_years)

    @cached_property
    def direction_column(self) -> int:
        return self.year_column + 3

    @cached_property
    def target_column(self) -> int:
        return self.direction_column + 1

    @cached_property
    def first_band_column(self) -> int:
        return self.target_column + 1

    @cached_property
    def achieved_column(self) -> int:
        return self.first_band_column + len(self.bands)

    @cached_property
    def outlook_column(self) -> int:
        """The early warning (kpi_outlook) as of the evaluated year."""
        return self.achieved_column + 1


def _layout(
    strategy: queries.Strategy, fiscal_year: int, table: queries.ProjectTable, bands: list[queries.Band]
) -> _Layout:
    actual_years = list(range(strategy.first_fiscal_year, fiscal_year))
    # NOTE: a project whose KPIs have different baseline or target years gets
    # headers without a year; the cells do not show each KPI's own year.
    baseline = "基準値"
    if len(table.baseline_fiscal_years) == 1:
        baseline += f"({era_label(next(iter(table.baseline_fiscal_years)))})"
    target = "目標値"
    if len(table.target_fiscal_years) == 1:
        target += f"({era_label(next(iter(table.target_fiscal_years)))})"
    headers = ["No.", "事業名", "事業概要", "施策KPI", baseline]
    headers += [f"{era_label(year)}実績値" for year in actual_years]
    headers += ["実績値", "補正前スコア", "スコア", "方向", target]
    headers += [band.label_ja for band in bands] + ["目標達成", OUTLOOK_HEADER]
    return _Layout(headers, actual_years, fiscal_year, bands)


def _write_headers(writer: _SheetWriter, layout: _Layout) -> None:
    for column, header in enumerate(layout.headers, start=1):
        in_year_group = layout.year_column <= column < layout.direction_column
        row = HEADER_ROW + 1 if in_year_group else HEADER_ROW
        writer.text(row, column, header)
        if not in_year_group:
            writer.merge(HEADER_ROW, HEADER_ROW + 1, column, column)
    writer.text(HEADER_ROW, layout.year_column, f"{era_label(layout.fiscal_year)}年度", measure=False)
    writer.merge(HEADER_ROW, HEADER_ROW, layout.year_column, layout.year_column + 2)
    # Every header cell is styled, the covered cells of a merged range too.
    for row in (HEADER_ROW, HEADER_ROW + 1):
        for column in range(1, len(layout.headers) + 1):
            writer.style(row, column, font="bold", fill="header", alignment="header")


def _write_kpi_row(writer: _SheetWriter, row: int, kpi: queries.KpiRow, layout: _Layout, mark: str) -> None:
    if kpi.kpi_seq == 1:
        writer.number(row, 1, kpi.business_no, "0", str(kpi.business_no))
        writer.text(row, 2, kpi.business_name)
        writer.text(row, 3, kpi.business_summary or "")
    writer.text(row, 4, kpi.kpi_name)
    writer.value_cell(row, 5, kpi.baseline)
    for offset, year in enumerate(layout.actual_years):
        writer.value_cell(row, layout.first_actual_column + offset, kpi.actuals.get(year))
    writer.value_cell(row, layout.year_column, kpi.actuals.get(layout.fiscal_year))

    result = kpi.result
    writer.score(row, layout.year_column + 1, result.raw_score if result.evaluated else None)
    writer.score(row, layout.year_column + 2, result.score if result.evaluated else None)
    writer.text(row, layout.direction_column, DIRECTION_ARROWS.get(kpi.direction, kpi.direction))
    writer.value_cell(row, layout.target_column, kpi.target)

    # The published table prints — in every band column of a KPI it does not evaluate.
    for offset, band in enumerate(layout.bands):
        if not result.evaluated:
            writer.text(row, layout.first_band_column + offset, NOT_EVALUATED)
        elif result.band == band.band:
            writer.text(row, layout.first_band_column + offset, band.mark)
    if not result.evaluated:
        writer.text(row, layout.achieved_column, NOT_EVALUATED)
    elif result.target_achieved:
        writer.text(row, layout.achieved_column, mark)
    if kpi.outlook is not None:
        writer.text(row, layout.outlook_column, kpi.outlook.label_ja)


def _align_kpi_row(writer: _SheetWriter, row: int, columns: int) -> None:
    """Align every cell of a KPI row to the top: names wrap, and marks, arrows and — are centred."""
    cells = writer.cells[row]
    for column in range(1, columns + 1):
        cell = cells.get(column)
        if cell is None:
            continue  # an empty cell without a fill is not written (_SheetWriter.write)
        if column in (2, 3, 4):
            cell.alignment = "wrapped"
        elif column >= 5 and isinstance(cell.value, str):
            cell.alignment = "centered"
        else:
            cell.alignment = "top"


def outlook_counts_text(summary: queries.ProjectSummary) -> str:
    """Return the outlook counts as read: 順調 3 / 遅れ 4 / 達成困難 8 / データ不足 0."""
    return " / ".join(
        f"{label} {summary.outlook_counts.get(status, 0)}" for status, label in queries.OUTLOOK_LABELS_JA.items()
    )


def summary_label(summary: queries.ProjectSummary) -> str:
    """Return the published wording: (集計対象 10事業[15KPI]／全 11事業[16KPI])."""
    return (
        f"(集計対象 {summary.businesses_evaluated}事業[{summary.kpis_evaluated}KPI]／"
        f"全 {summary.businesses_total}事業[{summary.kpis_total}KPI])"
    )


def _write_summary(writer: _SheetWriter, row: int, summary: queries.ProjectSummary | None, layout: _Layout) -> None:
    if summary is None:
        writer.text(row, 1, "(この年度・基準の集計はありません / no summary for this year and basis)", measure=False)
        return
    writer.text(row, 1, summary_label(summary), measure=False)
    writer.text(row, layout.year_column + 1, "平均スコア")
    writer.score(row, layout.year_column + 2, summary.average_score)
    for offset, band in enumerate(layout.bands):
        count = summary.band_counts.get(band.band)
        if count is not None:
            writer.number(row, layout.first_band_column + offset, count, "0", str(count))
    writer.number(row, layout.achieved_column, summary.target_achieved_count, "0", str(summary.target_achieved_count))
    if summary.outlook_counts:
        writer.text(row, layout.outlook_column, outlook_counts_text(summary))
    for cell in writer.cells[row].values():
        cell.font = "bold"


def _write_project_sheet(
    workbook: Workbook,
    styles: _Styles,
    table: queries.ProjectTable,
    report: queries.StrategyReport,
    basis: str,
    taken: set[str],
) -> int:
    sheet = workbook.add_worksheet(sheet_title(table.project_no, table.project_name, taken))
    writer = _SheetWriter(sheet, styles)
    fiscal_year = report.fiscal_year
    layout = _layout(report.strategy, fiscal_year, table, report.bands)

    writer.text(TITLE_ROW, 1, f"({table.project_no}){table.project_name}", measure=False)
    writer.style(TITLE_ROW, 1, font="title")
    writer.text(
        NOTE_ROW,
        1,
        f"{report.strategy.strategy_name} {era_label_ja(fiscal_year)}(FY{fiscal_year})の評価 / "
        f"スコア: {queries.BASIS_LABELS_JA[basis]} (basis = {basis})",
        measure=False,
    )
    _write_headers(writer, layout)

    row = FIRST_DATA_ROW
    for kpi in table.rows:
        _write_kpi_row(writer, row, kpi, layout, report.target_achieved_mark)
        _align_kpi_row(writer, row, writer.max_column)
        row += 1
    _write_summary(writer, row, table.summary, layout)

    sheet.freeze_panes(FIRST_DATA_ROW - 1, 0)
    writer.fit_columns(layout.headers)
    writer.fit_wrapped_rows(range(FIRST_DATA_ROW, row), (2, 3, 4))
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages tall as the rows need
    writer.write()
    return len(table.rows)


def _discrepancy_note(source_table: str) -> str:
    """Return the note above the discrepancy sheet's table: which rows it lists, by the table they come from."""
    if source_table == DISCREPANCY_TABLE:
        return (f"出典の表: {source_table}。公表された値と再計算した値が合わない行(補正前スコアかスコアの差が "
                f"{SCORE_TOLERANCE} を超える、公表スコアがない、実績がない、評価記号や集計行が違う)。"
                f" / Rows where the published and recomputed figures disagree: a raw score or score differing by more"
                f" than {SCORE_TOLERANCE}, a score not published, no actual, a different mark or summary line.")
    return (f"出典の表: {source_table}。補正前スコアかスコアの差が {SCORE_TOLERANCE} を超える行。"
            f" / Rows whose raw score or score differs by more than {SCORE_TOLERANCE}.")


def _write_discrepancy_sheet(workbook: Workbook, styles: _Styles, found: Discrepancies) -> int:
    sheet = workbook.add_worksheet(DISCREPANCY_SHEET)
    writer = _SheetWriter(sheet, styles)
    writer.text(TITLE_ROW, 1, "公表された評価表と再計算したスコアの差異", measure=False)
    writer.style(TITLE_ROW, 1, font="title")
    writer.text(
        NOTE_ROW,
        1,
        _discrepancy_note(found.source_table),
        measure=False,
    )
    headers = [label_ja(column) for column in found.columns]
    for column, header in enumerate(headers, start=1):
        writer.text(HEADER_ROW, column, header)
        writer.style(HEADER_ROW, column, font="bold", fill="header")
    for row_index, values in enumerate(found.rows, start=HEADER_ROW + 1):
        for column, value in enumerate(values, start=1):
            if value is None:
                continue
            if isinstance(value, Decimal):
                writer.number(row_index, column, value, score_format(value), str(value))
            elif isinstance(value, bool):
                writer.text(row_index, column, "はい" if value else "いいえ")
            elif isinstance(value, int):
                writer.number(row_index, column, value, "0", str(value))
            else:
                writer.text(row_index, column, str(value))
    if not found.rows:
        writer.text(HEADER_ROW + 1, 1, "差異はありません / no discrepancies", measure=False)
    sheet.freeze_panes(HEADER_ROW, 0)
    writer.fit_columns(headers)
    writer.write()
    return len(found.rows)


def write_strategy_workbook(report: queries.StrategyReport, basis: str, path: Path) -> WorkbookResult:
    """Build the evaluation workbook of one strategy's reported year on ``basis``; write it atomically to ``path``."""
    if report.fiscal_year is None:
        raise ValueError(f"strategy {report.strategy.strategy_id!r} has no scored KPI; there is nothing to report")
    tables = report.tables[basis]
    counts: dict[str, int] = {}

    def build(temporary: Path) -> None:
        from xlsxwriter import Workbook

        # in_memory: XlsxWriter keeps the sheets in memory rather than in temporary files of its own
        workbook = Workbook(str(temporary), {"in_memory": True})
        styles = _Styles(workbook, path)
        taken: set[str] = set()
        counts["kpi_rows"] = sum(
            _write_project_sheet(workbook, styles, table, report, basis, taken) for table in tables
        )
        counts["discrepancy_rows"] = _write_discrepancy_sheet(workbook, styles, report.discrepancies)
        workbook.set_properties({"title": f"{report.strategy.strategy_name} {era_label_ja(report.fiscal_year)} 評価表"})
        workbook.close()

    write_atomically(path, build)
    kpi_rows, discrepancy_rows = counts["kpi_rows"], counts["discrepancy_rows"]
    source = report.discrepancies.source_table
    log.info(
        "wrote workbook %s: %d project sheets, %d KPI rows, %d discrepancies (from %s)",
        path, len(tables), kpi_rows, discrepancy_rows, source,
    )
    return WorkbookResult(path, len(tables), kpi_rows, discrepancy_rows, source)


def write_workbook(
    connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int, basis: str, path: Path
) -> WorkbookResult:
    """Build the evaluation workbook of one strategy, fiscal year and basis, and write it atomically to ``path``."""
    return write_strategy_workbook(queries.strategy_report(connection, strategy_id, fiscal_year), basis, path)
