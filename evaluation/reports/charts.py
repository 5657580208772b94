"""Charts of the HTML report, drawn with matplotlib into self-contained SVG.

Text is stored as paths (``svg.fonttype = path``) in the IPAexGothic font that
matplotlib-fontja ships, so the Japanese labels look the same on a machine
without Japanese fonts and the page needs no web font.
"""

from __future__ import annotations

import io
from decimal import Decimal

from evaluation.eras import era_label

# One colour per band, lowest band first: red, orange, green, blue.
BAND_COLOURS = ("#c0392b", "#e67e22", "#27ae60", "#2471a3")
PUBLISHED_COLOUR = "#7f8c8d"
SCORE_LIMITS = (-100, 100)  # the clamp of the Otaru method, and the axis range of every score chart
KPI_LABEL_MAX = 30  # characters of a KPI name shown beside its bar
_SVG_HASH_SALT = "kpi-evaluation-report"  # fixed, so the same data gives the same SVG


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


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def band_colour(band_index: int) -> str:
    return BAND_COLOURS[band_index % len(BAND_COLOURS)]


def average_score_chart(
    years: list[int], computed: list[Decimal | None], published: dict[int, Decimal]
) -> str:
    """Draw the average score per fiscal year as a line; published averages as separate points."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_style()):
        figure = Figure(figsize=(6.4, 3.4))
        axes = figure.subplots()
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
        axes.set_xticks(years, [f"{era_label(year)}\n(FY{year})" for year in years])
        axes.set_ylim(*SCORE_LIMITS)
        axes.set_ylabel("平均スコア")
        axes.set_title("年度ごとの平均スコア")
        axes.legend(loc="lower right", fontsize="small")
        return _svg(figure)


def band_count_chart(years: list[int], band_labels: list[str], counts: list[list[int]]) -> str:
    """Draw the KPI count of each band per fiscal year as stacked bars; ``counts[band][year]``."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_style()):
        figure = Figure(figsize=(6.4, 3.4))
        axes = figure.subplots()
        bottoms = [0] * len(years)
        for index, (label, values) in enumerate(zip(band_labels, counts, strict=True)):
            axes.bar(years, values, bottom=bottoms, color=band_colour(index), label=label)
            bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
        axes.set_xticks(years, [f"{era_label(year)}\n(FY{year})" for year in years])
        axes.set_ylabel("KPI数")
        axes.set_title("年度ごとの評価区分の内訳")
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        return _svg(figure)


def kpi_score_chart(labels: list[str], scores: list[Decimal], band_indexes: list[int], title: str) -> str:
    """Draw each KPI's score as a horizontal bar, highest at the top; inputs are already sorted."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_style()):
        figure = Figure(figsize=(7.2, 0.32 * len(labels) + 1.2))
        axes = figure.subplots()
        positions = list(range(len(labels)))[::-1]
        values = [float(score) for score in scores]
        axes.barh(positions, values, color=[band_colour(index) for index in band_indexes])
        for position, value in zip(positions, values, strict=True):
            axes.annotate(
                f"{value:.2f}", (value, position), textcoords="offset points",
                xytext=(4 if value >= 0 else -4, 0), ha="left" if value >= 0 else "right", va="center",
                fontsize="small",
            )
        shown = [label if len(label) <= KPI_LABEL_MAX else label[: KPI_LABEL_MAX - 1] + "…" for label in labels]
        axes.set_yticks(positions, shown, fontsize="small")
        axes.axvline(0, color="black", linewidth=0.8)
        axes.set_xlim(SCORE_LIMITS[0] - 15, SCORE_LIMITS[1] + 15)
        axes.set_xlabel("スコア")
        axes.set_title(title)
        return _svg(figure)
