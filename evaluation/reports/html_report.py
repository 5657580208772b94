"""The HTML report of one strategy: one file with every chart embedded, readable offline.

Per project it shows the average score per fiscal year, the band counts per
fiscal year, each KPI's score in the latest year and the KPIs below target.
The early warning (kpi_outlook) adds the KPIs behind or unlikely to reach
their target.
Charts are SVG images in data: URLs, and a Content-Security-Policy forbids
every other source, so opening the file makes no network request.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.eras import era_label, era_label_ja
from evaluation.reports import charts, queries
from evaluation.reports.discrepancies import Discrepancies
from evaluation.reports.files import write_atomically
from evaluation.reports.labels import DIRECTION_ARROWS, label_ja
from evaluation.reports.workbook import number_shape, outlook_counts_text, summary_label

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

WARNED_STATUSES = ("unlikely", "behind")
# A bar per KPI stays readable up to about this many KPIs, and one chart takes
# about 0.1 s to draw (matplotlib SVG, 2-core machine, bench/run.py). Above it
# the project's KPIs are listed in the tables only.
KPI_CHART_MAX_KPIS = 40
CHARTS_OMITTED_NOTE = "施策KPIが{count}件あるため、KPIごとのグラフは省きました(上限{limit}件)。"
NO_CHARTS_NOTE = "戦略の数が多い実行のため、このレポートのグラフは省きました。表と集計は省略していません。"

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
INTRODUCTION = (
    "スコアは DuckDB ファイルの表 kpi_score と project_summary から作った、再計算したスコア(basis = computed)です。"
    "公表された評価表の平均スコアは灰色の四角で示します。スコアは補正前スコアを評価方法の上下限に収めた値です。"
    "見通し(早期警戒)は kpi_outlook の状態で、実績の一次傾向から目標年度の値を見込み、"
    "基準値から目標値への直線と比べたものです(順調・遅れ・達成困難・データ不足)。"
)
STYLE = """
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.5; }
h1 { font-size: 1.5em; } h2 { border-bottom: 2px solid #2471a3; padding-bottom: 0.2em; margin-top: 2em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.charts img { max-width: 100%; height: auto; }
.charts img.half { width: calc(50% - 0.5em); }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; vertical-align: top; }
th { background: #ddebf7; }
td.number { text-align: right; white-space: nowrap; }
.note { color: #555; font-size: 0.9em; }
"""


@dataclass(frozen=True)
class HtmlReportResult:
    """Counts of one written HTML report, for the log and the asset metadata."""

    path: Path
    fiscal_year: int
    projects: int
    charts: int
    below_target_rows: int


def _image(svg: str, alt: str, css_class: str = "") -> str:
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="{css_class}" alt="{escape(alt)}" src="data:image/svg+xml;base64,{encoded}">'


def _kpi_label(row: queries.KpiRow) -> str:
    return f"No.{row.business_no}-{row.kpi_seq} {row.kpi_name}"


def _summary_text(summary: queries.ProjectSummary | None, bands: list[queries.Band]) -> str:
    if summary is None:
        return "集計なし"
    counts = " / ".join(f"{band.label_ja} {summary.band_counts.get(band.band, 0)}" for band in bands)
    average = "—" if summary.average_score is None else f"{summary.average_score}"
    text = f"{summary_label(summary)} 平均スコア {average}  {counts} / 目標達成 {summary.target_achieved_count}"
    if summary.outlook_counts:
        text += f"  見通し: {outlook_counts_text(summary)}"
    return text


def written_like(value: Decimal | None, model: queries.ValueCell) -> str | None:
    """Write ``value`` as ``model`` writes its number: its decimal places (rounded half up), separators and unit.

    The outlook's expected and projected values have six decimal places in
    kpi_outlook. Beside the target, 29,205,852円, they read 29,104,364円.
    """
    if value is None:
        return None
    grouped, places = number_shape(model.text)
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}" if grouped else f"{rounded:f}"
    return text + model.unit if model.unit else text


def _table(headers: list[str], rows: list[list[str | Decimal | int | None]]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = []
    for row in rows:
        cells = []
        for value in row:
            if value is None:
                cells.append("<td>—</td>")
            elif isinstance(value, Decimal | int):
                cells.append(f'<td class="number">{escape(str(value))}</td>')
            else:
                cells.append(f"<td>{escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _project_section(
    table: queries.ProjectTable,
    history: list[queries.ProjectSummary],
    published: dict[int, Decimal],
    years: list[int],
    fiscal_year: int,
    bands: list[queries.Band],
    draw_charts: bool = True,
) -> tuple[str, int, int]:
    """Return the section's HTML, its chart count and its below-target row count."""
    by_year = {summary.fiscal_year: summary for summary in history}
    averages = [by_year[year].average_score if year in by_year else None for year in years]
    counts = [
        [by_year[year].band_counts.get(band.band, 0) if year in by_year else 0 for year in years] for band in bands
    ]
    band_index = {band.band: index for index, band in enumerate(bands)}
    heading = f"({table.project_no}){table.project_name}"

    scored = sorted(
        (row for row in table.rows if row.result.evaluated),
        key=lambda row: (-row.result.score, row.business_no, row.kpi_seq),
    )
    images, notes = [], []
    if draw_charts:
        images += [
            _image(charts.average_score_chart(years, averages, published), f"{heading} 年度ごとの平均スコア", "half"),
            _image(
                charts.band_count_chart(years, [f"{band.mark} {band.label_ja}" for band in bands], counts),
                f"{heading} 年度ごとの評価区分の内訳",
                "half",
            ),
        ]
    if len(scored) > KPI_CHART_MAX_KPIS and draw_charts:
        notes.append(CHARTS_OMITTED_NOTE.format(count=len(scored), limit=KPI_CHART_MAX_KPIS))
    elif scored and draw_charts:
        images.append(
            _image(
                charts.kpi_score_chart(
                    [_kpi_label(row) for row in scored],
                    [row.result.score for row in scored],
                    [band_index.get(row.result.band, 0) for row in scored],
                    f"{era_label(fiscal_year)}年度の施策KPIごとのスコア",
                ),
                f"{heading} {era_label(fiscal_year)}年度の施策KPIごとのスコア",
            )
        )

    below = [row for row in reversed(scored) if not row.result.target_achieved]
    below_rows = [
        [
            f"{row.business_no}", row.business_name, row.kpi_name, row.baseline.text,
            row.actuals[fiscal_year].text if fiscal_year in row.actuals else None,
            row.target.text, DIRECTION_ARROWS.get(row.direction, row.direction),
            row.result.raw_score, row.result.score,
        ]
        for row in below
    ]
    headers = ["No.", "事業名", "施策KPI", "基準値", "実績値", "目標値", "方向", "補正前スコア", "スコア"]
    # early warning: the KPIs whose outlook as of this year is behind or unlikely, the worst first
    warned = sorted(
        (
            row for row in table.rows
            if row.outlook is not None and row.outlook.evaluated and row.outlook.status in WARNED_STATUSES
        ),
        key=lambda row: (WARNED_STATUSES.index(row.outlook.status), row.business_no, row.kpi_seq),
    )
    warned_rows = [
        [
            f"{row.business_no}", row.kpi_name, row.outlook.label_ja,
            row.actuals[fiscal_year].text if fiscal_year in row.actuals else None,
            written_like(row.outlook.expected_value, row.target), written_like(row.outlook.projected_value, row.target),
            row.target.text,
            row.outlook.projected_progress,
        ]
        for row in warned
    ]
    warned_headers = [
        "No.", "施策KPI", "見通し", "実績値", "期待値(直線)", "目標年度の見込み値", "目標値", "見込みの進捗",
    ]
    parts = [
        f'<section id="project-{table.project_no}">',
        f"<h2>{escape(heading)}</h2>",
        f"<p>{escape(era_label_ja(fiscal_year))}: {escape(_summary_text(table.summary, bands))}</p>",
        f'<div class="charts">{"".join(images)}</div>',
        *(f'<p class="note">{escape(note)}</p>' for note in notes),
        f"<h3>目標未達成の施策KPI({escape(era_label(fiscal_year))}年度、スコアの低い順)</h3>",
        _table(headers, below_rows) if below_rows else "<p>ありません。</p>",
        f"<h3>見通し(早期警戒): 遅れ・達成困難の施策KPI({escape(era_label(fiscal_year))}年度時点)</h3>",
        _table(warned_headers, warned_rows) if warned_rows else "<p>ありません。</p>",
        "</section>",
    ]
    return "\n".join(parts), len(images), len(below_rows)


def _discrepancy_section(found: Discrepancies) -> str:
    if not found.rows:
        return "<h2>公表値との差異</h2><p>公表された評価表のスコアは、すべて再計算と一致しました。</p>"
    rows = [[str(value) if isinstance(value, bool) else value for value in row] for row in found.rows]
    note = (
        "公表された評価表のスコアと、同じ行から再計算したスコアが異なる行です"
        f"(出典の表: {escape(found.source_table)})。上のグラフと表は再計算したスコアによります。"
    )
    headers = [label_ja(column) for column in found.columns]
    return f'<h2>公表値との差異</h2><p class="note">{note}</p>' + _table(headers, rows)


def write_strategy_html_report(
    report: queries.StrategyReport, path: Path, draw_charts: bool = True
) -> HtmlReportResult:
    """Build the HTML report of one strategy for its reported fiscal year; write it atomically.

    Without ``draw_charts`` the report has its tables and summaries and a note in place of the charts.
    """
    strategy, fiscal_year = report.strategy, report.fiscal_year
    if fiscal_year is None:
        raise ValueError(f"strategy {strategy.strategy_id!r} has no scored KPI; there is nothing to report")

    bands = report.bands
    tables = report.tables["computed"]
    computed = report.summaries["computed"]
    published = report.summaries["published"]
    years = sorted({summary.fiscal_year for summary in computed})

    sections, chart_count, below_count = [], 0, 0
    for table in tables:
        section, drawn, below = _project_section(
            table,
            [summary for summary in computed if summary.project_no == table.project_no],
            {s.fiscal_year: s.average_score for s in published if s.project_no == table.project_no},
            years,
            fiscal_year,
            bands,
            draw_charts,
        )
        sections.append(section)
        chart_count += drawn
        below_count += below

    title = f"{strategy.strategy_name} 評価レポート({era_label_ja(fiscal_year)})"
    contents = "".join(
        f'<li><a href="#project-{table.project_no}">({table.project_no}){escape(table.project_name)}</a></li>'
        for table in tables
    )
    page = f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="note">{escape(strategy.municipality)}。{INTRODUCTION}</p>
<ul>{contents}</ul>
{"" if draw_charts else f'<p class="note">{NO_CHARTS_NOTE}</p>'}
{"".join(sections)}
{_discrepancy_section(report.discrepancies)}
</body>
</html>
"""
    write_atomically(path, lambda target: target.write_text(page, encoding="utf-8"))
    log.info(
        "wrote HTML report %s: FY%d, %d projects, %d charts, %d KPIs below target",
        path, fiscal_year, len(tables), chart_count, below_count,
    )
    return HtmlReportResult(path, fiscal_year, len(tables), chart_count, below_count)


def write_html_report(connection: duckdb.DuckDBPyConnection, strategy_id: str, path: Path,
                      draw_charts: bool = True) -> HtmlReportResult:
    """Build the HTML report of one strategy for its latest scored fiscal year; write it atomically."""
    return write_strategy_html_report(queries.strategy_report(connection, strategy_id), path, draw_charts)
