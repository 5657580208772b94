"""Charts of the HTML report, drawn with matplotlib into self-contained SVG.

Text is stored as paths (``svg.fonttype = path``) in the IPAexGothic font that
matplotlib-fontja ships, so the Japanese labels look the same on a machine
without Japanese fonts and the page needs no web font.

Each figure is sized from its measured labels (``_Margins``) and drawn once.
``savefig(bbox_inches="tight")`` would draw it twice to find the same margins,
which made the charts a third slower (docs/performance.md).
"""

from __future__ import annotations

import io
from decimal import Decimal

from evaluation.eras import era_label

# One colour per band, lowest band first: red, orange, green, blue.
BAND_COLOURS = ("#c0392b", "#e67e22", "#27ae60", "#2471a3")
PUBLISHED_COLOUR = "#7f8c8d"
SCORE_LIMITS = (-100, 100)  # the clamp of the Otaru method: a score axis shows at least this range
KPI_LABEL_MAX = 30  # characters of a KPI name shown beside its bar
_SVG_HASH_SALT = "kpi-evaluation-report"  # fixed, so the same data gives the same SVG
POINTS_PER_INCH = 72
# matplotlib's defaults that the margins below depend on, in points
FONT_POINTS = 10.0  # font.size
SMALL_POINTS = FONT_POINTS * 0.833  # fontsize="small"
TITLE_POINTS = FONT_POINTS * 1.2  # axes.titlesize "large"
LINE_SPACING = 1.2  # text.linespacing
TICK_SPACE = 3.5 + 3.5  # tick length and the pad between tick and label
LABEL_PAD = 4.0  # axes.labelpad
TITLE_PAD = 6.0  # axes.titlepad
OUTER_PAD = 0.1 * POINTS_PER_INCH
TEXT_WIDTH_ALLOWANCE = 1.05  # the pad savefig's tight bounding box adds around everything
# a legend's width beyond its longest label, in font sizes: handle, pad to the text, border pads, pad to the axes
LEGEND_EXTRA_EMS = 2.0 + 0.8 + 2 * 0.4 + 0.5 + 0.5


def _style() -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib_fontja

    return {
        "font.family": matplotlib_fontja.matplotlib_fontja.FONT_NAME,
        "svg.fonttype": "path",
        "svg.hashsalt": _SVG_HASH_SALT,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _text_width(text: str, points: float) -> float:
    """Return the width in points of the widest line of ``text`` in the chart font at ``points``."""
    import matplotlib_fontja
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, POINTS_PER_INCH)
    font = FontProperties(family=matplotlib_fontja.matplotlib_fontja.FONT_NAME, size=points)
    widths = [renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in text.splitlines()]
    # Agg measures in whole pixels at its hinting; the SVG paths come out a little wider
    return max(widths, default=0.0) * TEXT_WIDTH_ALLOWANCE


def _text_height(text: str, points: float) -> float:
    return (text.count("\n") + 1) * points * LINE_SPACING


class _Margins:
    """The room around a chart's axes, in points, from the labels it will show."""

    def __init__(self) -> None:
        self.left = self.right = self.top = self.bottom = OUTER_PAD

    def place(self, figure, axes_width: float, axes_height: float) -> None:
        """Size ``figure`` to an axes of ``axes_width`` x ``axes_height`` inches plus the margins, and place it."""
        width = axes_width + (self.left + self.right) / POINTS_PER_INCH
        height = axes_height + (self.top + self.bottom) / POINTS_PER_INCH
        figure.set_size_inches(width, height)
        figure.subplots_adjust(
            left=self.left / POINTS_PER_INCH / width, right=1 - self.right / POINTS_PER_INCH / width,
            bottom=self.bottom / POINTS_PER_INCH / height, top=1 - self.top / POINTS_PER_INCH / height,
        )


def _year_margins(year_labels: list[str], y_tick_labels: list[str], y_label: str) -> _Margins:
    """Margins of a chart with fiscal years along x, numbers up y, a y label and a title."""
    margins = _Margins()
    margins.left += TICK_SPACE + max(_text_width(label, FONT_POINTS) for label in y_tick_labels) \
        + LABEL_PAD + _text_height(y_label, FONT_POINTS)
    margins.bottom += TICK_SPACE + max(_text_height(label, FONT_POINTS) for label in year_labels)
    margins.top += TITLE_PAD + _text_height("", TITLE_POINTS)
    # the first and last year labels are centred on ticks near the axes' edges
    margins.left = max(margins.left, OUTER_PAD + _text_width(year_labels[0], FONT_POINTS) / 2)
    margins.right += _text_width(year_labels[-1], FONT_POINTS) / 2
    return margins


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def score_range(values: list[float]) -> tuple[float, float]:
    """The score axis range: SCORE_LIMITS, widened to every value of a method without that clamp."""
    return min([SCORE_LIMITS[0], *values]), max([SCORE_LIMITS[1], *values])


def _set_year_axis(axes, years: list[int]) -> None:
    # explicit limits: with one plotted year matplotlib would zoom in on it and stack every year's label there
    axes.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    axes.set_xticks(years, _year_labels(years))


def _year_labels(years: list[int]) -> list[str]:
    return [f"{era_label(year)}\n(FY{year})" for year in years]


def band_colour(band_index: int) -> str:
    return BAND_COLOURS[band_index % len(BAND_COLOURS)]


def average_score_chart(
    years: list[int], computed: list[Decimal | None], published: dict[int, Decimal]
) -> str:
    """Draw the average score per fiscal year as a line; published averages as separate points."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_style()):
        figure = Figure()
        axes = figure.subplots()
        margins = _year_margins(_year_labels(years), ["-100"], "平均スコア")
        margins.right = max(margins.right, OUTER_PAD + _text_width("公表 -100.00", FONT_POINTS) / 2)
        margins.place(figure, 4.96, 2.62)
        points = [(year, float(value)) for year, value in zip(years, computed, strict=True) if value is not None]
        axes.plot([y for y, _ in points], [v for _, v in points], marker="o", label="再計算したスコア")
        for year, value in points:
            axes.annotate(f"{value:.2f}", (year, value), textcoords="offset points", xytext=(0, 7), ha="center")
        if published:
            axes.scatter(
                list(published), [float(v) for v in published.values()],
                marker="s", color=PUBLISHED_COLOUR, zorder=3, label="公表された評価表",
            )
            for year, value in published.items():
                axes.annotate(
                    f"公表 {float(value):.2f}", (year, float(value)), textcoords="offset points",
                    xytext=(0, -14), ha="center", color=PUBLISHED_COLOUR,
                )
        axes.axhline(0, color="black", linewidth=0.8)
        _set_year_axis(axes, years)
        low, high = score_range([value for _, value in points] + [float(v) for v in published.values()])
        # room inside the axes for a value label above its point and a published one below it
        axes.set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))
        axes.set_ylabel("平均スコア")
        axes.set_title("年度ごとの平均スコア")
        axes.legend(loc="lower right", fontsize="small")
        return _svg(figure)


def band_count_chart(years: list[int], band_labels: list[str], counts: list[list[int]]) -> str:
    """Draw the KPI count of each band per fiscal year as stacked bars; ``counts[band][year]``."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_style()):
        figure = Figure()
        axes = figure.subplots()
        max_total = max((sum(column) for column in zip(*counts, strict=True)), default=0)
        margins = _year_margins(_year_labels(years), [str(max_total), "10"], "KPI数")
        legend_text = max((_text_width(label, SMALL_POINTS) for label in band_labels), default=0)
        margins.right = max(margins.right, OUTER_PAD + legend_text + LEGEND_EXTRA_EMS * SMALL_POINTS)
        margins.place(figure, 4.96, 2.62)
        bottoms = [0] * len(years)
        for index, (label, values) in enumerate(zip(band_labels, counts, strict=True)):
            axes.bar(years, values, bottom=bottoms, color=band_colour(index), label=label)
            bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
        _set_year_axis(axes, years)
        axes.set_ylabel("KPI数")
        axes.set_title("年度ごとの評価区分の内訳")
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        return _svg(figure)


def kpi_score_chart(labels: list[str], scores: list[Decimal], band_indexes: list[int], title: str) -> str:
    """Draw each KPI's score as a horizontal bar, highest at the top; inputs are already sorted."""
    import matplotlib
    from matplotlib.figure import Figure

    tick_labels = [label if len(label) <= KPI_LABEL_MAX else label[: KPI_LABEL_MAX - 1] + "…" for label in labels]
    with matplotlib.rc_context(_style()):
        figure = Figure()
        axes = figure.subplots()
        margins = _Margins()
        margins.left += TICK_SPACE + max((_text_width(label, SMALL_POINTS) for label in tick_labels), default=0)
        margins.bottom += TICK_SPACE + _text_height("", FONT_POINTS) + LABEL_PAD + _text_height("スコア", FONT_POINTS)
        margins.top += TITLE_PAD + _text_height(title, TITLE_POINTS)
        values = [float(score) for score in scores]
        low, high = score_range(values)
        # the score labels end inside the axes (see set_xlim below); the last x tick label is centred on its tick
        margins.right += _text_width(f"{high:.0f}", FONT_POINTS) / 2
        margins.place(figure, 5.58, (0.32 * len(labels) + 1.2) * 0.77)
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, values, color=[band_colour(index) for index in band_indexes])
        for position, value in zip(positions, values, strict=True):
            axes.annotate(
                f"{value:.2f}", (value, position), textcoords="offset points",
                xytext=(4 if value >= 0 else -4, 0), ha="left" if value >= 0 else "right", va="center",
                fontsize="small",
            )
        axes.set_yticks(positions, tick_labels, fontsize="small")
        axes.axvline(0, color="black", linewidth=0.8)
        # A negative score's label sits left of its bar: -100.00 needs about a tenth of the axis.
        axes.set_xlim(low - 0.125 * (high - low), high + 0.075 * (high - low))
        axes.set_xlabel("スコア")
        axes.set_title(title)
        return _svg(figure)
