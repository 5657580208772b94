"""Import a published KPI evaluation table (評価表) from the text layer of its PDF.

The text is tab separated, one table row per line, with the quirks such text has:
project headings, header lines repeated on every page with varying spelling,
continuation rows for a business's second KPI, a row with one cell too many or
too few before the direction arrow, band marks whose columns drift, and a
summary line closing each project whose counts may sit on the next line. Each
quirk is handled by a rule on the cell contents, never by a line number.

Lines end in LF or CR LF (CR alone when the file has no LF), and are numbered
as a text editor numbers them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from evaluation.cells import CellError, ParsedCell, ValueStatus, normalize_text, parse_cell
from evaluation.eras import EraError, era_label, find_fiscal_year
from evaluation.problems import InputProblem, InputRejected

log = logging.getLogger(__name__)

DIRECTIONS = {
    "↗": "up",
    "↑": "up",
    "⤴": "up",
    "↘": "down",
    "↓": "down",
    "⤵": "down",
    "→": "maintain",
    "➡": "maintain",
}
# The band marks of the published report, read by symbol because their columns drift.
BAND_MARKS = {"×": "below_baseline", "●": "0-50", "○": "50-100", "◎": "100+"}
TARGET_ACHIEVED_MARK = "☆"

_HEADING = re.compile(r"^[(（]\s*(?P<no>\d+)\s*[)）]\s*(?P<name>\S.*)$")
_SUMMARY = re.compile(
    r"集計対象\s*(?P<be>\d+)\s*事業\s*\[\s*(?P<ke>\d+)\s*KPI\s*\]"
    r"\s*[/／]\s*全\s*(?P<bt>\d+)\s*事業\s*\[\s*(?P<kt>\d+)\s*KPI\s*\]"
)
_AVERAGE = re.compile(r"平均スコア\s*(?P<avg>[-+−]?\d+(?:\.\d+)?)")
_SUBHEADER_WORDS = {"実績値", "補正前スコア", "スコア"}
_COUNT_FIELDS = (
    "below_baseline_count",
    "band_0_50_count",
    "band_50_100_count",
    "band_100_plus_count",
    "target_achieved_count",
)
# A cell may not contain a C0 control other than the tab between cells, DEL, a C1 control,
# U+2028 or U+2029. str.splitlines and some editors end a line at several of them, so a row
# containing one would be numbered or cut differently from one program to the next.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# pdftotext and mutool end every page with a form feed, so each later page's first line starts with one.
PAGE_BREAK = "\f"


@dataclass(frozen=True)
class TableLayout:
    """The fiscal years a header line names: baseline, actual years and target."""

    baseline_fiscal_year: int
    actual_fiscal_years: tuple[int, ...]
    target_fiscal_year: int
    line: int

    @property
    def evaluated_fiscal_year(self) -> int:
        """The year whose published scores the row carries: the last actual year."""
        return self.actual_fiscal_years[-1]

    @property
    def value_cell_count(self) -> int:
        """Cells between the KPI name and the arrow: baseline, actuals, raw score, score."""
        return 1 + len(self.actual_fiscal_years) + 2


@dataclass
class PublishedKpi:
    """One KPI row of a published table, with every cell as parsed."""

    project_no: int
    project_name: str
    business_no: int
    business_name: str
    business_summary: str
    kpi_seq: int
    kpi_name: str
    direction: str
    baseline_fiscal_year: int
    baseline: ParsedCell
    target_fiscal_year: int
    target: ParsedCell
    actuals: dict[int, tuple[ParsedCell, int]]  # fiscal year -> (cell, 1-based column)
    evaluated_fiscal_year: int
    published_raw_score: Decimal | None
    published_score: Decimal | None
    published_band: str | None
    published_target_achieved: bool
    line: int
    notes: list[str] = field(default_factory=list)

    @property
    def kpi_id(self) -> str:
        """Stable key within a strategy: business No. and the KPI's position, e.g. "005-2"."""
        return f"{self.business_no:03d}-{self.kpi_seq}"

    @property
    def unit(self) -> str | None:
        """The KPI's unit: the target's, else the most common unit among its cells."""
        if self.target.unit:
            return self.target.unit
        units = [c.unit for c in self.cells() if c.unit]
        return Counter(units).most_common(1)[0][0] if units else None

    def cells(self) -> list[ParsedCell]:
        """Baseline, actuals and target, in table order."""
        return [self.baseline, *(cell for cell, _ in self.actuals.values()), self.target]


@dataclass(frozen=True)
class PublishedSummary:
    """A project's summary line as published, e.g. 集計対象 10事業[15KPI]／全 11事業[16KPI]."""

    project_no: int
    fiscal_year: int
    businesses_evaluated: int
    kpis_evaluated: int
    businesses_total: int
    kpis_total: int
    average_score: Decimal
    below_baseline_count: int
    band_0_50_count: int
    band_50_100_count: int
    band_100_plus_count: int
    target_achieved_count: int
    line: int


@dataclass
class PublishedTable:
    """Everything imported from one published table file."""

    source_file: str
    projects: dict[int, str]
    kpis: list[PublishedKpi]
    summaries: list[PublishedSummary]
    layouts: list[TableLayout]

    @property
    def first_fiscal_year(self) -> int:
        return min(min(layout.actual_fiscal_years) for layout in self.layouts)

    @property
    def last_fiscal_year(self) -> int:
        return max(max(layout.actual_fiscal_years) for layout in self.layouts)


def _squash(text: str) -> str:
    """Fold width and drop all spaces, for matching labels such as "基準 未満"."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def split_lines(text: str) -> list[str]:
    """Split text at each LF, dropping the CRs before it, into the lines a text editor shows.

    A text without any LF has classic Mac OS line ends and is split at CR.
    Unlike ``str.splitlines``, a CR alone, a form feed or U+2028 inside a line
    stays in that line, so that the line numbers after it do not shift.
    """
    if "\n" not in text:
        return text.split("\r")
    return [line.rstrip("\r") for line in text.split("\n")]


def looks_like_published_table(text: str) -> bool:
    """Return True when the text has the header line of a published evaluation table."""
    if text.count("\t") < 3:
        return False  # no line can have four cells (a CSV file, as most files of a collection are)
    for line in split_lines(text):
        if line.count("\t") < 3:
            continue  # fewer than four cells: folding them cannot make a header line
        cells = [_squash(c) for c in line.split("\t")]
        if len(cells) > 3 and cells[0] == "No." and "事業名" in cells[1] and "KPI" in cells[3]:
            return True
    return False


def is_header_line(cells: list[str]) -> bool:
    return len(cells) > 3 and _squash(cells[0]) == "No." and "事業名" in _squash(cells[1])


def is_subheader_line(cells: list[str]) -> bool:
    words = {_squash(c) for c in cells if c.strip()}
    return bool(words) and words <= _SUBHEADER_WORDS


class _Reader:
    """Walks the lines of one file, keeping the current project, business and layout."""

    def __init__(self, source_file: str) -> None:
        self.source_file = source_file
        self.problems: list[InputProblem] = []
        self.projects: dict[int, str] = {}
        self.kpis: list[PublishedKpi] = []
        self.summaries: list[PublishedSummary] = []
        self.layouts: list[TableLayout] = []
        self.project: tuple[int, str] | None = None
        self.business: tuple[int, str, str] | None = None
        self.kpi_seq = 0
        self.pending_summary: dict | None = None
        self.business_lines: dict[int, int] = {}  # business No. -> the line of its business row
        self.project_lines: dict[int, int] = {}  # project No. -> the line of its heading
        self.heading_repeated = False  # the current project's heading repeats an earlier project No.
        self.summary_lines: dict[tuple[int, int], int] = {}  # (project No., fiscal year) -> its summary line

    def problem(self, line: int, column: int | None, value: str, rule_ja: str, rule_en: str) -> None:
        self.problems.append(
            InputProblem(self.source_file, line, column, value, rule_ja, rule_en)
        )

    def check_characters(self, cells: list[str], line: int) -> None:
        """Report each cell that contains a control or line-break character, naming the first one."""
        for column, text in enumerate(cells, start=1):
            found = _CONTROL_CHARACTERS.search(text)
            if found is None:
                continue
            code = f"U+{ord(found.group()):04X}"
            position = found.start() + 1
            self.problem(line, column, text,
                         f"セルの{position}文字目に改行か制御の文字 {code} があります。取り除いてください"
                         "(行の終わりの改行は LF か CR+LF です)",
                         f"line-break or control character {code} at character {position} of the cell; "
                         "remove it (lines end in LF or CR LF)")

    # -- headers -----------------------------------------------------------------
    def read_header(self, cells: list[str], line: int) -> None:
        squashed = [_squash(c) for c in cells]
        baseline_year = target_year = None
        actual_years: list[int] = []
        for column, label in enumerate(squashed, start=1):
            try:
                year = find_fiscal_year(label)
            except EraError as error:
                self.problem(line, column, cells[column - 1], error.rule_ja, error.rule_en)
                continue
            if year is None:
                continue
            if label.startswith("基準値"):
                baseline_year = year
            elif label.startswith("目標値"):
                target_year = year
            else:
                actual_years.append(year)
        missing = [
            name
            for name, found in (
                ("施策KPI", any("KPI" in s for s in squashed)),
                ("基準値(年度)", baseline_year),
                ("実績値の年度", actual_years),
                ("目標値(年度)", target_year),
            )
            if not found
        ]
        if missing:
            self.problem(
                line,
                None,
                "\t".join(cells).strip(),
                f"見出し行に {'、'.join(missing)} がありません",
                f"the header line lacks {', '.join(missing)}",
            )
            return
        if actual_years != sorted(set(actual_years)):
            self.problem(line, None, " ".join(squashed), "実績値の年度が昇順ではありません",
                         "the actual-value years are not in ascending order")
            return
        self.layouts.append(TableLayout(baseline_year, tuple(actual_years), target_year, line))

    # -- headings and summaries -------------------------------------------------------
    def read_heading(self, match: re.Match, line: int, text: str) -> None:
        self.flush_summary()
        number = int(match["no"])
        name = normalize_text(match["name"])
        self.project = (number, name)
        self.business = None
        self.heading_repeated = number in self.project_lines
        if self.heading_repeated:
            # Both projects' summary lines would get one key in published_summary. The rows below
            # are still read, under the repeated number, so that their own problems are found too.
            earlier = self.project_lines[number]
            self.problem(line, 1, text,
                         f"プロジェクト({number}) は {earlier}行目 にもあります。プロジェクトの番号は表の中で1回だけに"
                         "してください(同じプロジェクトの続きなら、この見出しの行を消します)",
                         f"project ({number}) also starts line {earlier}; each project number appears once "
                         "(if the rows below continue that project, delete this heading line)")
            return
        self.project_lines[number] = line
        self.projects[number] = name
        log.debug("project (%d) %s at line %d", number, name, line)

    def read_summary(self, cells: list[str], line: int) -> None:
        self.flush_summary()
        text = unicodedata.normalize("NFKC", " ".join(c for c in cells if c.strip()))
        head = _SUMMARY.search(text)
        average = _AVERAGE.search(text.replace("−", "-"))
        if head is None or average is None or self.project is None or not self.layouts:
            self.problem(line, 1, cells[0], "集計行の形式を読めません(集計対象 N事業[NKPI]／全 N事業[NKPI] と 平均スコア)",
                         "cannot read the summary line (集計対象 … 平均スコア …)")
            return
        counts = self.count_cells(cells[cells_index_of_average(cells) + 1 :])
        self.pending_summary = {
            "project_no": self.project[0],
            "fiscal_year": self.layouts[-1].evaluated_fiscal_year,
            "businesses_evaluated": int(head["be"]),
            "kpis_evaluated": int(head["ke"]),
            "businesses_total": int(head["bt"]),
            "kpis_total": int(head["kt"]),
            "average_score": Decimal(average["avg"]),
            "counts": counts,
            "line": line,
            "text": cells[0].strip(),
        }
        if len(counts) == len(_COUNT_FIELDS):
            self.flush_summary()

    @staticmethod
    def count_cells(cells: list[str]) -> list[int]:
        # int() rejects some characters that str.isdigit accepts, such as ➀, but none that str.isdecimal accepts
        return [int(normalize_text(c)) for c in cells if normalize_text(c).isdecimal()]

    def read_summary_counts(self, cells: list[str], line: int) -> bool:
        """Take the band counts from the line after a summary line that had none."""
        if self.pending_summary is None or self.pending_summary["counts"]:
            return False
        counts = self.count_cells(cells)
        non_empty = [c for c in cells if c.strip()]
        if len(counts) != len(_COUNT_FIELDS) or len(non_empty) != len(counts):
            return False
        self.pending_summary["counts"] = counts
        self.flush_summary()
        return True

    def flush_summary(self) -> None:
        pending, self.pending_summary = self.pending_summary, None
        if pending is None:
            return
        counts = pending.pop("counts")
        text = pending.pop("text")
        key = (pending["project_no"], pending["fiscal_year"])
        if key in self.summary_lines:
            # A summary under a repeated heading is not reported again, because the heading's problem names the cause.
            if not self.heading_repeated:
                earlier = self.summary_lines[key]
                self.problem(pending["line"], 1, text,
                             f"プロジェクト({key[0]}) の{era_label(key[1])}年度の集計行は {earlier}行目 にもあります。"
                             "集計行はプロジェクトと年度ごとに1行だけにしてください",
                             f"project ({key[0]}) has its FY{key[1]} summary line on line {earlier} already; "
                             "each project has one summary line per fiscal year")
            return
        self.summary_lines[key] = pending["line"]
        if len(counts) != len(_COUNT_FIELDS):
            self.problem(pending["line"], None, " ".join(map(str, counts)),
                         "集計行の件数(基準未満・0~50・50~100・100以上・目標達成)が5つそろっていません",
                         "the summary line needs five band counts")
            return
        self.summaries.append(PublishedSummary(**pending, **dict(zip(_COUNT_FIELDS, counts, strict=True))))

    # -- KPI rows -----------------------------------------------------------------
    def read_kpi_row(self, cells: list[str], line: int) -> None:
        self.flush_summary()
        if self.project is None:
            self.problem(line, 1, cells[0], "プロジェクトの見出し「(1)…」より前に事業の行があります",
                         "a business row appears before any project heading")
            return
        if not self.layouts:
            self.problem(line, 1, cells[0], "見出し行(No. 事業名 …)より前に事業の行があります",
                         "a business row appears before any header line")
            return
        if len(cells) < 5:
            self.problem(line, None, "\t".join(cells).strip(),
                         f"事業の行にセルが {len(cells)} 個しかありません"
                         "(No.・事業名・事業概要・施策KPI・値・方向・目標値の順に必要)",
                         f"a business row has only {len(cells)} cells "
                         "(No., 事業名, 事業概要, 施策KPI, the values, the direction and the target expected)")
            self.business = None
            return
        layout = self.layouts[-1]
        first = cells[0].strip()
        if first:
            business_no = int(normalize_text(first))
            if business_no in self.business_lines:
                # the KPIs of both rows would get the same kpi_id ("005-1"), the key of table kpi
                earlier = self.business_lines[business_no]
                self.problem(line, 1, first,
                             f"事業No.{business_no} は {earlier}行目 にもあります。事業No.は表の中で1回だけにしてください"
                             "(同じ事業の2つ目以降のKPIは、No. を空欄にした続きの行に書きます)",
                             f"business No. {business_no} also starts line {earlier}; each business No. appears "
                             "once (further KPIs of a business go on continuation rows with No. left blank)")
                self.business = None
                return
            self.business_lines[business_no] = line
            self.business = (business_no, normalize_text(cells[1]), cells[2].strip())
            self.kpi_seq = 0
        elif self.business is None:
            self.problem(line, 4, cells[3], "続きの行(No.が空欄)の前に事業の行がありません",
                         "a continuation row has no business row before it")
            return
        self.kpi_seq += 1

        arrow_column = next(
            (i for i in range(4, len(cells)) if cells[i].strip() in DIRECTIONS), None
        )
        if arrow_column is None:
            unknown = next((c for c in cells[12:] if c.strip() and not _is_number_like(c)), "")
            self.problem(line, None, unknown or "\t".join(cells[4:]),
                         "方向(↗ ↘ →)の列が見つかりません", "no direction arrow (↗ ↘ →) found")
            return
        notes: list[str] = []
        value_cells = cells[4:arrow_column]
        value_cells = self.align_value_cells(value_cells, layout, line, notes)
        if value_cells is None:
            return

        parsed: list[ParsedCell] = []
        for offset, text in enumerate(value_cells[: 1 + len(layout.actual_fiscal_years)]):
            column = 5 + offset
            try:
                cell = parse_cell(text) if text.strip() else ParsedCell(text, ValueStatus.MISSING, note="empty cell")
            except CellError as error:
                self.problem(line, column, text, error.rule_ja, error.rule_en)
                return
            parsed.append(cell)
            if cell.note:
                notes.append(f"column {column}: {cell.note}")

        raw_text, score_text = value_cells[-2], value_cells[-1]
        published_raw = self.parse_published_score(raw_text, line, 4 + len(value_cells) - 1)
        published_score = self.parse_published_score(score_text, line, 4 + len(value_cells))
        if published_raw is False or published_score is False:
            return

        target_text = cells[arrow_column + 1] if arrow_column + 1 < len(cells) else ""
        try:
            target = parse_cell(target_text)
        except CellError as error:
            self.problem(line, arrow_column + 2, target_text, f"目標値: {error.rule_ja}", f"target: {error.rule_en}")
            return

        marks = [c.strip() for c in cells[arrow_column + 2 :] if c.strip()]
        bands = [BAND_MARKS[m] for m in marks if m in BAND_MARKS]
        unknown_marks = [m for m in marks if m not in BAND_MARKS and m != TARGET_ACHIEVED_MARK
                         and parse_cell_status(m) is not ValueStatus.MISSING]
        if unknown_marks or len(bands) > 1:
            self.problem(line, None, " ".join(marks), "評価記号(× ● ○ ◎ ☆)を読めません",
                         "cannot read the band marks (× ● ○ ◎ ☆)")
            return

        business_no, business_name, business_summary = self.business
        self.kpis.append(
            PublishedKpi(
                project_no=self.project[0],
                project_name=self.project[1],
                business_no=business_no,
                business_name=business_name,
                business_summary=business_summary,
                kpi_seq=self.kpi_seq,
                kpi_name=normalize_text(cells[3]),
                direction=DIRECTIONS[cells[arrow_column].strip()],
                baseline_fiscal_year=layout.baseline_fiscal_year,
                baseline=parsed[0],
                target_fiscal_year=layout.target_fiscal_year,
                target=target,
                actuals={
                    year: (parsed[1 + i], 6 + i)
                    for i, year in enumerate(layout.actual_fiscal_years)
                },
                evaluated_fiscal_year=layout.evaluated_fiscal_year,
                published_raw_score=published_raw,
                published_score=published_score,
                published_band=bands[0] if bands else None,
                published_target_achieved=TARGET_ACHIEVED_MARK in marks,
                line=line,
                notes=notes,
            )
        )

    def align_value_cells(
        self, value_cells: list[str], layout: TableLayout, line: int, notes: list[str]
    ) -> list[str] | None:
        """Match the cells before the arrow to baseline, actual years, raw score and score.

        The PDF's text layer sometimes splits or merges the empty score cells of a
        KPI that has no score. Cells are aligned from the left. One cell too many
        or too few is accepted only when the published scores are missing markers,
        so that no figure can shift into another column.
        """
        expected = layout.value_cell_count
        found = len(value_cells)
        if found == expected:
            return value_cells
        score_part = value_cells[expected - 2 :]
        if abs(found - expected) == 1 and all(
            not c.strip() or parse_cell_status(c) is ValueStatus.MISSING for c in score_part
        ):
            if found > expected:
                notes.append(f"方向の前のセルが1つ多い({found}個、本来{expected}個) / "
                             f"one extra cell before the direction arrow ({found} cells, {expected} expected)")
                return value_cells[:expected]
            notes.append(f"方向の前のセルが1つ少ない({found}個、本来{expected}個) / "
                         f"one cell missing before the direction arrow ({found} cells, {expected} expected)")
            return [*value_cells, "—"]
        self.problem(
            line,
            5,
            " | ".join(value_cells),
            f"方向の矢印の前のセル数が {found} 個です(基準値・実績値{len(layout.actual_fiscal_years)}年分・"
            f"補正前スコア・スコアの {expected} 個が必要)",
            f"{found} cells before the direction arrow; {expected} expected "
            "(baseline, one per actual year, raw score, score)",
        )
        return None

    def parse_published_score(self, text: str, line: int, column: int) -> Decimal | None | bool:
        if not text.strip():
            return None
        try:
            parsed = parse_cell(text)
        except CellError as error:
            self.problem(line, column, text, f"公表スコア: {error.rule_ja}", f"published score: {error.rule_en}")
            return False
        if parsed.status is not ValueStatus.REPORTED:
            return None
        if parsed.unit is not None:
            self.problem(line, column, text, "公表スコアに単位が付いています", "a published score has a unit")
            return False
        return parsed.value


def cells_index_of_average(cells: list[str]) -> int:
    return next(i for i, c in enumerate(cells) if "平均スコア" in unicodedata.normalize("NFKC", c))


def parse_cell_status(text: str) -> ValueStatus | None:
    try:
        return parse_cell(text).status
    except CellError:
        return None


def _is_number_like(text: str) -> bool:
    return parse_cell_status(text) is not None


def parse_published_table(text: str, source_file: str) -> PublishedTable:
    """Parse the text of a published table; raise ``InputRejected`` listing every problem."""
    reader = _Reader(source_file)
    for line_no, line in enumerate(split_lines(text), start=1):
        cells = line.lstrip(PAGE_BREAK).split("\t")
        reader.check_characters(cells, line_no)
        non_empty = [c for c in cells if c.strip()]
        if not non_empty:
            continue
        first = unicodedata.normalize("NFKC", cells[0]).strip()
        heading = _HEADING.match(first) if len(non_empty) == 1 else None
        if heading:
            reader.read_heading(heading, line_no, cells[0].strip())
        elif is_header_line(cells):
            reader.flush_summary()
            reader.read_header(cells, line_no)
        elif is_subheader_line(cells):
            continue
        elif "集計対象" in first:
            reader.read_summary(cells, line_no)
        elif reader.read_summary_counts(cells, line_no):
            continue
        elif first.isdecimal() or (not first and len(cells) > 4 and cells[3].strip()):
            reader.read_kpi_row(cells, line_no)
        else:
            reader.problem(line_no, 1, line.strip()[:80], "どの種類の行(見出し・事業・集計)にも当てはまりません",
                           "the line is no heading, header, business or summary row")
    reader.flush_summary()

    if not reader.kpis and not reader.problems:
        reader.problem(0, None, "", "事業の行が1行もありません", "the table has no business rows")
    if reader.problems:
        raise InputRejected(reader.problems)

    table = PublishedTable(source_file, reader.projects, reader.kpis, reader.summaries, reader.layouts)
    log.info(
        "read %s: %d projects, %d businesses, %d KPIs, %d summary lines",
        source_file,
        len(table.projects),
        len({k.business_no for k in table.kpis}),
        len(table.kpis),
        len(table.summaries),
    )
    return table


def read_published_table(path: Path) -> PublishedTable:
    """Read and parse a published table file (UTF-8, with or without BOM)."""
    from evaluation.sources import read_text

    return parse_published_table(read_text(path), path.name)
