"""Write synthetic strategies in the product's input formats, for the benchmark and its smoke test.

Each strategy is one municipality's folder: strategy.toml, a KPI master CSV
and one submission CSV per fiscal year, as docs/input-formats.md describes
them. One strategy in PUBLISHED_SHARE is a copy of the Otaru published table
instead, so the published-table importer runs too. The generator is seeded:
the same size and seed write the same bytes.

The values cover every form the importers accept: plain, grouped (1,199),
full-width (１，１９９), minus signs (U+2212, ▲, △), a unit written in the cell
(18棟), percent text (75.85%), decimals, and the no-figure markers (—, ―, ー,
未確定, 後日報告). Masters cover every unit, direction word, fiscal-year form,
cumulative KPIs and excluded KPIs. Submissions include rows left blank
(reported as missing), 未確定 and 後日報告 rows, provisional values, CP932 and
UTF-8-with-BOM files, and corrections (修正) that replace an earlier value.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OTARU_DIR = PROJECT_ROOT / "data" / "raw" / "otaru"

FIRST_FISCAL_YEAR = 2015
FISCAL_YEARS = 10
BASELINE_FISCAL_YEAR = FIRST_FISCAL_YEAR - 1
MUNICIPALITIES = 1741  # 市区町村の数 (number of Japanese municipalities, 2024)
# One strategy in this many is the Otaru published table under another strategy id.
PUBLISHED_SHARE = 50

UNITS = ("棟", "件", "%", "人", "戸", "万円", "回", "町会", "社", "", "t", "点")
# The validation's unit kinds: counts are whole and not negative, money not negative,
# percentages 0-100; the other units (t, 点, no unit) may be fractional or negative.
COUNT_UNITS = ("棟", "件", "人", "戸", "回", "町会", "社")
SIGNED_UNITS = ("", "t", "点")
DIRECTIONS = ("↗", "↘", "→", "増加", "減少", "維持")
DEPARTMENTS = ("総務部", "建設部", "産業港湾部", "福祉部", "教育部")
STATUSES = ("確定", "確定", "確定", "確定", "確定", "確定", "確定", "速報", "未確定", "後日報告")
MISSING_MARKERS = ("—", "―", "ー")

MASTER_HEADER = ("プロジェクトNo.", "プロジェクト名", "事業No.", "事業名", "事業概要", "KPIコード", "KPI名", "単位",
                 "方向", "基準年度", "基準値", "目標年度", "目標値", "累計", "集計対象", "除外理由", "担当課")
SUBMISSION_HEADER = ("年度", "KPIコード", "担当課", "KPI名", "実績値", "状態", "要因分析", "提出者", "修正", "修正理由")

STRATEGY_TOML = """\
# 合成データ(ベンチマーク用) / synthetic strategy for the benchmark
[strategy]
strategy_id = "{strategy_id}"
municipality = "{municipality}"
name = "{municipality}まち・ひと・しごと創生総合戦略(合成)"
first_fiscal_year = {first}
last_fiscal_year = {last}
"""

_FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


@dataclass(frozen=True)
class Layout:
    """The split of a size in KPI-years: strategies x KPIs per strategy x fiscal years."""

    strategies: int
    kpis_per_strategy: int
    fiscal_years: int = FISCAL_YEARS

    @property
    def kpi_years(self) -> int:
        return self.strategies * self.kpis_per_strategy * self.fiscal_years


def layout_for(kpi_years: int) -> Layout:
    """Split a size into strategies of about 100 KPIs, at most one per municipality.

    10^4 gives 10 strategies of 100 KPIs, 1.74 x 10^6 the 1,741 municipalities
    with 100 KPIs each, and 1.74 x 10^7 the same municipalities with 1,000 KPIs.
    """
    strategies = max(1, min(MUNICIPALITIES, kpi_years // (100 * FISCAL_YEARS)))
    kpis = max(1, round(kpi_years / (strategies * FISCAL_YEARS)))
    return Layout(strategies, kpis)


def grouped(number: int) -> str:
    return f"{number:,}"


@dataclass(frozen=True)
class SyntheticKpi:
    """One generated KPI: the master columns that decide how its actuals are written."""

    kpi_id: str
    unit: str
    direction: str
    baseline: int
    target: int
    department: str
    evaluated: bool
    cumulative: bool


def value_text(rng: random.Random, number: int, unit: str, form: int) -> str:
    """Write a value in one of the forms the readers accept (a percentage's ``number`` is in hundredths)."""
    if unit == "%":
        percent = f"{number / 100:.2f}"
        return f"{percent}%" if form % 2 else percent
    if number < 0:
        sign = ("−", "▲", "△", "-")[form % 4]
        return f"{sign}{-number}"
    if form == 0:
        return grouped(number)
    if form == 1:
        return grouped(number).translate(_FULL_WIDTH)
    if form == 2 and unit:
        return f"{number}{unit}"
    if form == 3 and unit not in COUNT_UNITS:
        return f"{number}.{rng.randrange(10)}"
    return str(number)


def actual_number(rng: random.Random, kpi: SyntheticKpi, year_index: int) -> int:
    """Return an actual near the KPI's baseline-target range, within what its unit allows."""
    low, high = sorted((kpi.baseline, kpi.target))
    if kpi.cumulative:
        # A cumulative KPI grows a tenth of the way each year and never decreases.
        return kpi.baseline + (year_index + 1) * max(1, (kpi.target - kpi.baseline) // 10)
    number = rng.randrange(low - (high - low) // 4 - 1, high + (high - low) // 4 + 2)
    if kpi.unit not in SIGNED_UNITS:
        number = max(0, number)
    if kpi.unit == "%":
        number = min(number, 10_000)
    return number


def master_rows(rng: random.Random, kpis_per_strategy: int) -> tuple[list[tuple], list[SyntheticKpi]]:
    """Return the master CSV rows and the KPIs they define."""
    lines: list[tuple] = [MASTER_HEADER]
    kpis = []
    businesses = max(1, kpis_per_strategy // 2)
    for index in range(kpis_per_strategy):
        business = index % businesses + 1
        project = business % 4 + 1
        sequence = index // businesses + 1
        kpi_id = f"{business:03d}-{sequence}"
        unit = UNITS[index % len(UNITS)]
        direction = DIRECTIONS[index % len(DIRECTIONS)]
        scale = 10_000 if unit == "%" else rng.choice((10, 100, 1_000, 100_000))
        baseline = rng.randrange(1, scale)
        target = baseline
        while target == baseline:
            target = rng.randrange(1, scale if unit == "%" else 2 * scale)  # a percentage stays within 100
        # An up KPI aims above its baseline and a down KPI below it; the validation rejects the reverse.
        if (direction in ("↘", "減少")) == (target > baseline):
            baseline, target = target, baseline
        department = DEPARTMENTS[business % len(DEPARTMENTS)]
        evaluated = rng.random() > 0.02
        cumulative = index % 7 == 0 and unit in COUNT_UNITS and direction in ("↗", "増加")
        kpi = SyntheticKpi(kpi_id, unit, direction, baseline, target, department, evaluated, cumulative)
        kpis.append(kpi)

        baseline_year = (str(BASELINE_FISCAL_YEAR), "H26", "平成26年度")[index % 3]
        reason = "" if evaluated else "事業を廃止したため / business discontinued"
        # Only an excluded KPI may lack its baseline: the validation stops an evaluated one.
        baseline_cell = "—" if not evaluated and index % 2 else value_text(rng, baseline, unit, index % 5)
        lines.append((
            str(project), f"プロジェクト{project}", str(business), f"事業{business}",
            f"事業{business}の概要, 合成", kpi_id, f"KPI {kpi_id}{'(累計)' if cumulative else ''}", unit,
            direction, baseline_year, baseline_cell, str(FIRST_FISCAL_YEAR + FISCAL_YEARS - 1),
            value_text(rng, target, unit, 4), "○" if cumulative else "", "対象" if evaluated else "除外", reason,
            department,
        ))
    return lines, kpis


def submission_row(rng: random.Random, kpi: SyntheticKpi, year: int, form: int) -> tuple:
    """Return one submission row for a KPI and fiscal year; a blank row is a KPI not submitted."""
    era = (str(year), f"R{year - 2018}" if year >= 2019 else f"H{year - 1988}")[form % 2]
    status = rng.choice(STATUSES)
    roll = rng.random()
    if roll < 0.01:
        return (era, kpi.kpi_id, kpi.department, f"KPI {kpi.kpi_id}", "", "", "", "", "", "")
    if status in ("未確定", "後日報告"):
        value = rng.choice(("", MISSING_MARKERS[form % 3])) if status == "未確定" else ""
        return (era, kpi.kpi_id, kpi.department, f"KPI {kpi.kpi_id}", value, status, "集計中", f"担当者{form % 9}",
                "", "")
    value = value_text(rng, actual_number(rng, kpi, year - FIRST_FISCAL_YEAR), kpi.unit, form)
    comment = f"要因: 事業{form}の進捗, 前年比" if form % 3 == 0 else ""
    return (era, kpi.kpi_id, kpi.department, f"KPI {kpi.kpi_id}", value, status, comment, f"担当者{form % 9}", "", "")


def write_csv(path: Path, rows: list[tuple], encoding: str) -> None:
    """Write CSV rows; CP932 lacks —, − and the arrows ↗ ↘, so a CP932 file gets ―, － and words instead."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    if encoding == "cp932":
        for missing, typed in (("\u2014", "\u2015"), ("\u2212", "\uff0d"), (",↗,", ",増加,"), (",↘,", ",減少,")):
            text = text.replace(missing, typed)
    path.write_text(text, encoding=encoding)


def write_strategy(folder: Path, number: int, kpis_per_strategy: int, seed: int) -> int:
    """Write one strategy folder; return the count of KPI-years it defines."""
    rng = random.Random(seed * 1_000_003 + number)
    strategy_id = f"synth-{number:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    last = FIRST_FISCAL_YEAR + FISCAL_YEARS - 1
    (folder / "strategy.toml").write_text(
        STRATEGY_TOML.format(strategy_id=strategy_id, municipality=f"合成市{number}", first=FIRST_FISCAL_YEAR,
                             last=last), encoding="utf-8")

    lines, kpis = master_rows(rng, kpis_per_strategy)
    encoding = "cp932" if number % 20 == 7 else "utf-8"
    write_csv(folder / "kpi_master.csv", lines, encoding)

    for year in range(FIRST_FISCAL_YEAR, last + 1):
        rows: list[tuple] = [SUBMISSION_HEADER]
        rows += [submission_row(rng, kpi, year, (index + year) % 12) for index, kpi in enumerate(kpis)]
        encoding = ("utf-8", "utf-8-sig", "cp932")[(number + year) % 3] if number % 5 == 0 else "utf-8"
        write_csv(folder / f"submission_{year}.csv", rows, encoding)

    # A correction of the last year's first KPI, in a file of its own, as an office sends it later.
    # A cumulative KPI's correction does not fall below its earlier years, or validation rightly stops the run.
    kpi = kpis[0]
    corrected = kpi.target
    if kpi.cumulative:
        corrected = max(corrected, actual_number(rng, kpi, last - FIRST_FISCAL_YEAR - 1))
    correction = (str(last), kpi.kpi_id, kpi.department, f"KPI {kpi.kpi_id}", value_text(rng, corrected, kpi.unit, 4),
                  "確定", "", "担当者0", "修正", "集計漏れ")
    write_csv(folder / f"submission_{last}_修正.csv", [SUBMISSION_HEADER, correction], "utf-8")
    return len(kpis) * FISCAL_YEARS


def write_published_strategy(folder: Path, number: int) -> int:
    """Write a copy of the Otaru folder under a strategy id of its own; return its KPI-years."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in OTARU_DIR.iterdir():
        if path.name != "strategy.toml":
            shutil.copy(path, folder / path.name)
    toml = (OTARU_DIR / "strategy.toml").read_text(encoding="utf-8")
    (folder / "strategy.toml").write_text(
        toml.replace('strategy_id = "otaru-2015"', f'strategy_id = "published-{number:05d}"'), encoding="utf-8")
    return OTARU_KPI_YEARS


# Otaru's published table: 71 KPIs over FY2015-FY2019 (71 x 5).
OTARU_KPI_YEARS = 355


def generate(raw_dir: Path, kpi_years: int, seed: int = 1) -> Layout:
    """Write a raw folder of about ``kpi_years`` KPI-years under ``raw_dir`` (emptied first)."""
    if raw_dir.exists():
        shutil.rmtree(raw_dir)
    layout = layout_for(kpi_years)
    for number in range(1, layout.strategies + 1):
        if number % PUBLISHED_SHARE == 2:
            write_published_strategy(raw_dir / f"published-{number:05d}", number)
        else:
            write_strategy(raw_dir / f"synth-{number:05d}", number, layout.kpis_per_strategy, seed)
    return layout
