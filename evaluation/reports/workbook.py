"""The evaluation workbook: one sheet per project in the published table's layout, and a sheet of discrepancies.

Values stay numbers where the cell has one, with a number format that shows
them as the source wrote them: 1199 with ``#,##0"件"`` reads 1,199件, 75.85
with ``0.00"%"`` reads 75.85%. Cells without a number (—, 未確定,
(後日報告)人) hold the text as written. Every text cell is stored as a string,
never a formula, whatever it starts with.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from evaluation.cells import normalize_text
from evaluation.eras import era_label, era_label_ja
from evaluation.reports import queries
from evaluation.reports.discrepancies import SCORE_TOLERANCE, discrepancies
from evaluation.reports.files import write_atomically
from evaluation.reports.labels import DIRECTION_ARROWS, label_ja
from evaluation.reports.safety import starts_like_formula

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

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


class _SheetWriter:
    """Writes cells into one worksheet and tracks the width each column needs."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.widths: dict[int, int] = {}

    def _track(self, column: int, text: str) -> None:
        longest = max((display_width(line) for line in text.splitlines() or [""]), default=0)
        self.widths[column] = max(self.widths.get(column, 0), longest)

    def text(self, row: int, column: int, text: str, measure: bool = True) -> Cell:
        """Write ``text`` as a string cell; a formula-like one also gets Excel's quote prefix."""
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cell = self.sheet.cell(row=row, column=column)
        cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
        # openpyxl turns "=..." into a formula and "#N/A" into an error; force a string.
        cell.data_type = "s"
        if starts_like_formula(text):
            cell.quotePrefix = True
        if measure:
            self._track(column, text)
        return cell

    def number(self, row: int, column: int, value: Decimal | int, pattern: str, shown: str) -> Cell:
        cell = self.sheet.cell(row=row, column=column, value=value)
        cell.number_format = pattern
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

    def fit_wrapped_rows(self, rows: range, columns: tuple[int, ...]) -> None:
        """Set row heights for wrapped text; openpyxl does not measure, and LibreOffice keeps one line."""
        from openpyxl.utils import get_column_letter

        for row in rows:
            lines = 1
            for column in columns:
                text = self.sheet.cell(row=row, column=column).value
                width = self.sheet.column_dimensions[get_column_letter(column)].width or MIN_WIDTH
                if isinstance(text, str):
                    lines = max(lines, -(-display_width(text) // max(1, int(width) - 1)))
            self.sheet.row_dimensions[row].height = LINE_HEIGHT * lines

    def fit_columns(self, headers: list[str]) -> None:
        from openpyxl.utils import get_column_letter

        for column, header in enumerate(headers, start=1):
            limit = MAX_TEXT_WIDTHS.get(header, MAX_OTHER_WIDTH)
            needed = max(self.widths.get(column, 0), display_width(header)) + 2
            self.sheet.column_dimensions[get_column_letter(column)].width = max(MIN_WIDTH, min(needed, limit))


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
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = writer.sheet
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    centered = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for column, header in enumerate(layout.headers, start=1):
        in_year_group = layout.year_column <= column < layout.direction_column
        row = HEADER_ROW + 1 if in_year_group else HEADER_ROW
        writer.text(row, column, header)
        if not in_year_group:
            sheet.merge_cells(start_row=HEADER_ROW, end_row=HEADER_ROW + 1, start_column=column, end_column=column)
    writer.text(HEADER_ROW, layout.year_column, f"{era_label(layout.fiscal_year)}年度", measure=False)
    sheet.merge_cells(
        start_row=HEADER_ROW, end_row=HEADER_ROW, start_column=layout.year_column, end_column=layout.year_column + 2
    )
    for row in (HEADER_ROW, HEADER_ROW + 1):
        for column in range(1, len(layout.headers) + 1):
            cell = sheet.cell(row=row, column=column)
            cell.font, cell.fill, cell.alignment = bold, fill, centered


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
    from openpyxl.styles import Font

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
    for cell in writer.sheet[row]:
        cell.font = Font(bold=True)


def _write_project_sheet(
    workbook,
    table: queries.ProjectTable,
    strategy: queries.Strategy,
    fiscal_year: int,
    basis: str,
    bands: list[queries.Band],
    mark: str,
    taken: set[str],
) -> int:
    from openpyxl.styles import Alignment, Font

    sheet = workbook.create_sheet(sheet_title(table.project_no, table.project_name, taken))
    writer = _SheetWriter(sheet)
    layout = _layout(strategy, fiscal_year, table, bands)

    title = writer.text(TITLE_ROW, 1, f"({table.project_no}){table.project_name}", measure=False)
    title.font = Font(bold=True, size=14)
    writer.text(
        NOTE_ROW,
        1,
        f"{strategy.strategy_name} {era_label_ja(fiscal_year)}(FY{fiscal_year})の評価 / "
        f"スコア: {queries.BASIS_LABELS_JA[basis]} (basis = {basis})",
        measure=False,
    )
    _write_headers(writer, layout)

    row = FIRST_DATA_ROW
    wrapped = Alignment(vertical="top", wrap_text=True)
    centered = Alignment(vertical="top", horizontal="center")  # marks, arrows and — in value columns
    top = Alignment(vertical="top")
    for kpi in table.rows:
        _write_kpi_row(writer, row, kpi, layout, mark)
        for cell in sheet[row]:
            if cell.column in (2, 3, 4):
                cell.alignment = wrapped
            elif cell.column >= 5 and cell.data_type == "s":
                cell.alignment = centered
            else:
                cell.alignment = top
        row += 1
    _write_summary(writer, row, table.summary, layout)

    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=1)
    writer.fit_columns(layout.headers)
    writer.fit_wrapped_rows(range(FIRST_DATA_ROW, row), (2, 3, 4))
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return len(table.rows)


def _write_discrepancy_sheet(workbook, connection: duckdb.DuckDBPyConnection, strategy_id: str) -> tuple[int, str]:
    from openpyxl.styles import Font, PatternFill

    found = discrepancies(connection, strategy_id)
    sheet = workbook.create_sheet(DISCREPANCY_SHEET)
    writer = _SheetWriter(sheet)
    writer.text(TITLE_ROW, 1, "公表された評価表と再計算したスコアの差異", measure=False).font = Font(bold=True, size=14)
    writer.text(
        NOTE_ROW,
        1,
        f"出典の表: {found.source_table}。補正前スコアかスコアの差が {SCORE_TOLERANCE} を超える行。"
        f" / Rows whose raw score or score differs by more than {SCORE_TOLERANCE}.",
        measure=False,
    )
    headers = [label_ja(column) for column in found.columns]
    for column, header in enumerate(headers, start=1):
        cell = writer.text(HEADER_ROW, column, header)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
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
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    writer.fit_columns(headers)
    return len(found.rows), found.source_table


def write_workbook(
    connection: duckdb.DuckDBPyConnection, strategy_id: str, fiscal_year: int, basis: str, path: Path
) -> WorkbookResult:
    """Build the evaluation workbook of one strategy, fiscal year and basis, and write it atomically to ``path``."""
    from openpyxl import Workbook

    strategy = next((s for s in queries.strategies(connection) if s.strategy_id == strategy_id), None)
    if strategy is None:
        raise ValueError(f"strategy {strategy_id!r} is not in the file")
    bands = queries.bands(connection, strategy_id)
    mark = queries.target_achieved_mark(connection, strategy_id)
    tables = queries.project_tables(connection, strategy_id, fiscal_year, basis)

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    kpi_rows = sum(
        _write_project_sheet(workbook, table, strategy, fiscal_year, basis, bands, mark, taken) for table in tables
    )
    discrepancy_rows, source = _write_discrepancy_sheet(workbook, connection, strategy_id)
    workbook.properties.title = f"{strategy.strategy_name} {era_label_ja(fiscal_year)} 評価表"

    write_atomically(path, workbook.save)
    log.info(
        "wrote workbook %s: %d project sheets, %d KPI rows, %d discrepancies (from %s)",
        path, len(tables), kpi_rows, discrepancy_rows, source,
    )
    return WorkbookResult(path, len(tables), kpi_rows, discrepancy_rows, source)
