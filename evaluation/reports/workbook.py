"""The evaluation workbook: one sheet per project in the published table's layout, and a sheet of discrepancies.

Values stay numbers where the cell has one, with a number format that shows
them as the source wrote them: 1199 with ``#,##0"件"`` reads 1,199件, 75.85
with ``0.00"%"`` reads 75.85%. Cells without a number (—, 未確定,
(後日報告)人) hold the text as written. Every text cell is stored as a string,
never a formula, whatever it starts with.

Sheets are written in openpyxl's write-only mode, which streams rows to the
file. A sheet's cells are collected first, because the column widths and row
heights that depend on them must be set before the rows are streamed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from evaluation.cells import normalize_text
from evaluation.eras import era_label, era_label_ja
from evaluation.reports import queries
from evaluation.reports.discrepancies import SCORE_TOLERANCE, Discrepancies
from evaluation.reports.files import write_atomically
from evaluation.reports.labels import DIRECTION_ARROWS, label_ja
from evaluation.reports.safety import starts_like_formula

if TYPE_CHECKING:
    import duckdb
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

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
# Characters an Excel sheet name cannot contain, and its maximum length.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class WorkbookResult:
    """Counts of one written workbook, for the log and the asset metadata."""

    path: Path
    project_sheets: int
    kpi_rows: int
    discrepancy_rows: int
    discrepancy_source: str


def display_width(text: str) -> int:
    """Return the width of ``text`` in half-width columns: full-width (East Asian W, F, A) count 2."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def number_format(cell: queries.ValueCell) -> str:
    """Return the Excel number format that shows ``cell.value`` as ``cell.text`` writes it."""
    folded = normalize_text(cell.text)
    match = re.search(r"\d[\d,]*(?:\.(\d+))?", folded)
    grouped = match is not None and "," in match.group(0)
    places = len(match.group(1)) if match and match.group(1) else 0
    pattern = "#,##0" if grouped else "0"
    if places:
        pattern += "." + "0" * places
    if cell.unit:
        pattern += '"' + cell.unit.replace('"', "") + '"'
    return pattern


def score_format(score: Decimal) -> str:
    """Return the number format with as many decimals as the stored score has (2 for Otaru)."""
    places = max(0, -score.as_tuple().exponent)
    return "0." + "0" * places if places else "0"


def sheet_title(project_no: int, project_name: str, taken: set[str]) -> str:
    """Return a valid, unique sheet name such as "(1)あずまい暮らしプロジェクト"."""
    base = _SHEET_NAME_FORBIDDEN.sub("_", f"({project_no}){project_name}").strip("'")[:SHEET_NAME_MAX]
    title, suffix = base, 2
    while title in taken:
        tail = f"_{suffix}"
        title = base[: SHEET_NAME_MAX - len(tail)] + tail
        suffix += 1
    taken.add(title)
    return title


class _Style(NamedTuple):
    """The style of one cell: a number format, keys of the fonts, fills and alignments of _Styles, a quote prefix."""

    number_format: str | None = None
    font: str | None = None
    fill: str | None = None
    alignment: str | None = None
    quote_prefix: bool = False


class _Styles:
    """The styles of one workbook, each turned into openpyxl's style array once and copied to every cell after.

    Assigning a font, fill or alignment to a cell makes openpyxl look the object
    up by its hash, about 20 µs per cell with openpyxl 3.1.5 (longer than
    writing the cell). Copying the finished array is what openpyxl's own
    worksheet copier does (``target._style = copy(source._style)``).
    """

    def __init__(self, workbook: Workbook) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.workbook = workbook
        self.fonts = {"bold": Font(bold=True), "title": Font(bold=True, size=14)}
        self.fills = {"header": PatternFill("solid", fgColor="DDEBF7")}
        self.alignments = {
            "header": Alignment(horizontal="center", vertical="center", wrap_text=True),
            "wrapped": Alignment(vertical="top", wrap_text=True),
            "centered": Alignment(vertical="top", horizontal="center"),  # marks, arrows and — in value columns
            "top": Alignment(vertical="top"),
        }
        self._arrays: dict[_Style, object] = {}

    def apply(self, cell: Cell, style: _Style) -> None:
        array = self._arrays.get(style)
        if array is None:
            from openpyxl.cell import WriteOnlyCell

            template = WriteOnlyCell(cell.parent)
            if style.number_format is not None:
                template.number_format = style.number_format
            if style.font is not None:
                template.font = self.fonts[style.font]
            if style.fill is not None:
                template.fill = self.fills[style.fill]
            if style.alignment is not None:
                template.alignment = self.alignments[style.alignment]
            template.quotePrefix = style.quote_prefix
            array = self._arrays[style] = template._style
        cell._style = copy(array)


class _SheetWriter:
    """Collects the cells of one write-only worksheet, tracks the width each column needs, then streams the rows."""

    def __init__(self, sheet: WriteOnlyWorksheet, styles: _Styles) -> None:
        self.sheet = sheet
        self.styles = styles
        self.cells: dict[int, dict[int, Cell]] = {}
        self.cell_styles: dict[tuple[int, int], _Style] = {}
        self.widths: dict[int, int] = {}
        self.column_widths: dict[int, int] = {}
        self.row_heights: dict[int, int] = {}
        self.max_column = 0  # the rightmost column with a cell so far

    def _put(self, row: int, column: int, value: object) -> Cell:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, value)
        self.cells.setdefault(row, {})[column] = cell
        self.max_column = max(self.max_column, column)
        return cell

    def _track(self, column: int, text: str) -> None:
        longest = max((display_width(line) for line in text.splitlines() or [""]), default=0)
        self.widths[column] = max(self.widths.get(column, 0), longest)

    def style(self, row: int, column: int, **changes: object) -> None:
        """Change fields of a cell's _Style; a cell not written yet is added empty, with only the style."""
        if column not in self.cells.get(row, {}):
            self._put(row, column, None)
        self.cell_styles[row, column] = self.cell_styles.get((row, column), _Style())._replace(**changes)

    def text(self, row: int, column: int, text: str, measure: bool = True) -> Cell:
        """Write ``text`` as a string cell; a formula-like one also gets Excel's quote prefix."""
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cell = self._put(row, column, ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))
        # openpyxl turns "=..." into a formula and "#N/A" into an error; force a string.
        cell.data_type = "s"
        if starts_like_formula(text):
            self.style(row, column, quote_prefix=True)
        if measure:
            self._track(column, text)
        return cell

    def number(self, row: int, column: int, value: Decimal | int, pattern: str, shown: str) -> Cell:
        cell = self._put(row, column, value)
        self.style(row, column, number_format=pattern)
        self._track(column, shown)
        return cell

    def value_cell(self, row: int, column: int, value: queries.ValueCell | None) -> Cell | None:
        """Write a baseline, actual or target: a number with its unit format, or the text as written."""
        if value is None:
            return None
        if value.value is None:
            return self.text(row, column, value.text)
        return self.number(row, column, value.value, number_format(value), value.text)

    def score(self, row: int, column: int, score: Decimal | None) -> Cell:
        if score is None:
            return self.text(row, column, NOT_EVALUATED)
        return self.number(row, column, score, score_format(score), f"{score}")

    def merge(self, start_row: int, end_row: int, start_column: int, end_column: int) -> None:
        from openpyxl.worksheet.cell_range import CellRange

        self.sheet.merged_cells.add(
            CellRange(min_row=start_row, max_row=end_row, min_col=start_column, max_col=end_column)
        )

    def fit_columns(self, headers: list[str]) -> None:
        from openpyxl.utils import get_column_letter

        for column, header in enumerate(headers, start=1):
            limit = MAX_TEXT_WIDTHS.get(header, MAX_OTHER_WIDTH)
            needed = max(self.widths.get(column, 0), display_width(header)) + 2
            self.column_widths[column] = max(MIN_WIDTH, min(needed, limit))
            self.sheet.column_dimensions[get_column_letter(column)].width = self.column_widths[column]

    def fit_wrapped_rows(self, rows: range, columns: tuple[int, ...]) -> None:
        """Set row heights for wrapped text; openpyxl does not measure, and LibreOffice keeps one line."""
        for row in rows:
            lines = 1
            for column in columns:
                cell = self.cells.get(row, {}).get(column)
                text = None if cell is None else cell.value
                width = self.column_widths.get(column) or MIN_WIDTH
                if isinstance(text, str):
                    lines = max(lines, -(-display_width(text) // max(1, int(width) - 1)))
            self.row_heights[row] = LINE_HEIGHT * lines

    def write(self) -> None:
        """Stream every row to the sheet, each cell with its style; widths and frozen panes must be set before."""
        for row in range(1, max(self.cells, default=0) + 1):
            cells = self.cells.get(row, {})
            if row in self.row_heights:
                self.sheet.row_dimensions[row].height = self.row_heights[row]
            values: list[Cell | None] = [None] * max(cells, default=0)
            for column, cell in cells.items():
                style = self.cell_styles.get((row, column))
                if style is not None:
                    self.styles.apply(cell, style)
                values[column - 1] = cell
            self.sheet.append(values)


@dataclass(frozen=True)
class _Layout:
    """Column positions of a project sheet, from the strategy's years and bands."""

    headers: list[str]
    actual_years: list[int]
    fiscal_year: int
    bands: list[queries.Band]

    @property
    def first_actual_column(self) -> int:
        return 6

    @property
    def year_column(self) -> int:
        """The evaluated year's 実績値 column; 補正前スコア and スコア follow it."""
        return self.first_actual_column + len(self.actual_years)

    @property
    def direction_column(self) -> int:
        return self.year_column + 3

    @property
    def target_column(self) -> int:
        return self.direction_column + 1

    @property
    def first_band_column(self) -> int:
        return self.target_column + 1

    @property
    def achieved_column(self) -> int:
        return self.first_band_column + len(self.bands)

    @property
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
    cells = writer.cells.get(row, {})
    for column in range(1, columns + 1):
        cell = cells.get(column)
        if column in (2, 3, 4):
            alignment = "wrapped"
        elif column >= 5 and cell is not None and cell.data_type == "s":
            alignment = "centered"
        else:
            alignment = "top"
        writer.style(row, column, alignment=alignment)


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
    for column in range(1, writer.max_column + 1):
        writer.style(row, column, font="bold")


def _write_project_sheet(
    workbook: Workbook,
    styles: _Styles,
    table: queries.ProjectTable,
    report: queries.StrategyReport,
    basis: str,
    taken: set[str],
) -> int:
    sheet = workbook.create_sheet(sheet_title(table.project_no, table.project_name, taken))
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

    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    writer.fit_columns(layout.headers)
    writer.fit_wrapped_rows(range(FIRST_DATA_ROW, row), (2, 3, 4))
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    writer.write()
    return len(table.rows)


def _write_discrepancy_sheet(workbook: Workbook, styles: _Styles, found: Discrepancies) -> int:
    sheet = workbook.create_sheet(DISCREPANCY_SHEET)
    writer = _SheetWriter(sheet, styles)
    writer.text(TITLE_ROW, 1, "公表された評価表と再計算したスコアの差異", measure=False)
    writer.style(TITLE_ROW, 1, font="title")
    writer.text(
        NOTE_ROW,
        1,
        f"出典の表: {found.source_table}。補正前スコアかスコアの差が {SCORE_TOLERANCE} を超える行。"
        f" / Rows whose raw score or score differs by more than {SCORE_TOLERANCE}.",
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
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    writer.fit_columns(headers)
    writer.write()
    return len(found.rows)


def write_strategy_workbook(report: queries.StrategyReport, basis: str, path: Path) -> WorkbookResult:
    """Build the evaluation workbook of one strategy's reported year on ``basis``; write it atomically to ``path``."""
    from openpyxl import Workbook

    if report.fiscal_year is None:
        raise ValueError(f"strategy {report.strategy.strategy_id!r} has no scored KPI; there is nothing to report")
    tables = report.tables[basis]
    workbook = Workbook(write_only=True)
    styles = _Styles(workbook)
    taken: set[str] = set()
    kpi_rows = sum(_write_project_sheet(workbook, styles, table, report, basis, taken) for table in tables)
    discrepancy_rows = _write_discrepancy_sheet(workbook, styles, report.discrepancies)
    workbook.properties.title = f"{report.strategy.strategy_name} {era_label_ja(report.fiscal_year)} 評価表"

    write_atomically(path, workbook.save)
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
