"""The evaluation method of a strategy: the [method] table of strategy.toml, read and checked.

A method turns a KPI's baseline, actual and yardstick (the value the actual is
judged against) into a score, rounds it, puts it in a band and rolls the
scores of a project up. Each option is data, so that a municipality that
scores differently changes strategy.toml, not the SQL. Every omitted key takes
Otaru's published method. A method that contradicts itself is rejected with
one message per key. docs/methods.md explains each option with an example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# progress: (actual - baseline) / (yardstick - baseline) x 100
# achievement: actual / yardstick x 100
# inverse_achievement: yardstick / actual x 100, for ↘ KPIs scored as a ratio
# maintain: 100 while |actual - yardstick| <= maintain_tolerance, else achievement
FORMULAS = ("progress", "achievement", "inverse_achievement", "maintain")
YARDSTICKS = ("final_target", "expected_value", "linear_path")
ROUNDING_MODES = ("half_up", "truncate")
AVERAGE_BASES = ("rounded_scores",)
ROLLUPS = ("mean", "band_counts")
BAND_BASES = ("raw_score", "score")
NO_CLAMP = "none"

# The strings strategy.toml may hold for each choice key, for messages.
CHOICES = {
    "yardstick": YARDSTICKS,
    "rounding": ROUNDING_MODES,
    "average_rounding": ROUNDING_MODES,
    "average_of": AVERAGE_BASES,
    "rollup": ROLLUPS,
    "bands_judged_on": BAND_BASES,
}
CHOICE_NAMES_JA = {
    "yardstick": "比べる値",
    "rounding": "スコアの端数処理",
    "average_rounding": "平均の端数処理",
    "average_of": "平均の対象",
    "rollup": "プロジェクトの集計",
    "bands_judged_on": "区分を決めるスコア",
}

Reject = Callable[[str, object, str, str], None]


@dataclass(frozen=True)
class Band:
    """One score band: scores in [lower, upper) fall in it; None means unbounded."""

    band: str
    label_ja: str
    mark: str
    lower: Decimal | None
    upper: Decimal | None


# Otaru's bands: 基準未満 < 0 <= 0~50 < 50 <= 50~100 < 100 <= 100以上, judged on the raw score.
OTARU_BANDS = (
    Band("below_baseline", "基準未満", "×", None, Decimal(0)),
    Band("0-50", "0~50", "●", Decimal(0), Decimal(50)),
    Band("50-100", "50~100", "○", Decimal(50), Decimal(100)),
    Band("100+", "100以上", "◎", Decimal(100), None),
)


@dataclass(frozen=True)
class EvaluationMethod:
    """The parameters that turn one strategy's baseline, actual and yardstick into a score.

    The defaults are Otaru's published method.
    """

    formula_up: str = "progress"
    formula_down: str = "progress"
    formula_maintain: str = "achievement"
    maintain_tolerance: Decimal = Decimal(0)  # in the KPI's unit: 3 for ±3 points of a % KPI
    yardstick: str = "final_target"
    clamp_min: Decimal | None = Decimal(-100)
    clamp_max: Decimal | None = Decimal(100)
    rounding: str = "half_up"
    decimal_places: int = 2
    average_of: str = "rounded_scores"
    average_rounding: str = "half_up"
    average_decimal_places: int = 2
    rollup: str = "mean"
    bands_judged_on: str = "raw_score"
    target_achieved_threshold: Decimal = Decimal(100)
    target_achieved_mark: str = "☆"
    bands: tuple[Band, ...] = OTARU_BANDS

    def formula_for(self, direction: str) -> str:
        return {"up": self.formula_up, "down": self.formula_down, "maintain": self.formula_maintain}[direction]


# Every key [method] may have; strategy.py rejects any other.
METHOD_KEYS = {
    "formula_up", "formula_down", "formula_maintain", "maintain_tolerance", "yardstick", "clamp_min",
    "clamp_max", "rounding", "decimal_places", "average_of", "average_rounding", "average_decimal_places",
    "rollup", "bands_judged_on", "target_achieved_threshold", "target_achieved_mark", "bands",
}
BAND_KEYS = {"band", "label_ja", "mark", "lower", "upper"}


def _number(key: str, value: object, reject: Reject) -> Decimal | None:
    """Read a TOML number as a Decimal (via its text, so 0.1 stays 0.1); reject anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        reject(key, value, "数値を書いてください", "expected a number")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        reject(key, value, "数値を書いてください", "expected a number")
        return None
    if not number.is_finite():
        reject(key, value, "有限の数値を書いてください", "expected a finite number")
        return None
    return number


def _clamp_bound(key: str, value: object, reject: Reject) -> Decimal | None:
    """Read clamp_min or clamp_max: a whole number, or "none" for no bound."""
    if value is None or value == NO_CLAMP:
        return None
    bound = _number(key, value, reject)
    if bound is not None and bound != bound.to_integral_value():
        reject(key, value, "上下限は整数か \"none\"(上下限なし)にしてください",
               'clamp bounds must be whole numbers or "none"')
        return None
    return bound


def load_method(section: dict, reject: Reject) -> EvaluationMethod:
    """Read the [method] table; call ``reject(key, value, rule_ja, rule_en)`` for each invalid key."""
    default = EvaluationMethod()

    def choice(key: str, allowed: tuple[str, ...], fallback: str) -> str:
        value = section.get(key, fallback)
        if value not in allowed:
            reject(f"method.{key}", value, f"{CHOICE_NAMES_JA.get(key, key)}は {' / '.join(allowed)} のどれかです",
                   f"{key} must be one of {', '.join(allowed)}")
            return fallback
        return value

    formulas = {}
    for key, direction in (("formula_up", "↗"), ("formula_down", "↘"), ("formula_maintain", "→")):
        value = section.get(key, getattr(default, key))
        if value not in FORMULAS:
            reject(f"method.{key}", value, f"{direction} の計算式は {' / '.join(FORMULAS)} のどれかです",
                   f"the formula must be one of {', '.join(FORMULAS)}")
            value = getattr(default, key)
        formulas[key] = value
    for key in ("formula_up", "formula_down"):
        if formulas[key] == "maintain":
            reject(f"method.{key}", "maintain", "maintain(維持)は → のKPIだけに使えます(formula_maintain)",
                   "the maintain formula applies only to → KPIs (formula_maintain)")

    tolerance = default.maintain_tolerance
    if "maintain_tolerance" in section:
        tolerance = _number("method.maintain_tolerance", section["maintain_tolerance"], reject) or Decimal(0)
        if tolerance < 0:
            reject("method.maintain_tolerance", section["maintain_tolerance"], "許容幅は 0 以上にしてください",
                   "maintain_tolerance must be 0 or more")
        if formulas["formula_maintain"] != "maintain":
            reject("method.maintain_tolerance", section["maintain_tolerance"],
                   "許容幅は formula_maintain = \"maintain\" のときだけ使えます",
                   'maintain_tolerance applies only with formula_maintain = "maintain"')

    yardstick = choice("yardstick", YARDSTICKS, default.yardstick)
    rounding = choice("rounding", ROUNDING_MODES, default.rounding)
    average_of = choice("average_of", AVERAGE_BASES, default.average_of)
    average_rounding = choice("average_rounding", ROUNDING_MODES, rounding)
    rollup = choice("rollup", ROLLUPS, default.rollup)
    bands_judged_on = choice("bands_judged_on", BAND_BASES, default.bands_judged_on)

    places = {}
    for key, fallback in (("decimal_places", default.decimal_places),
                          ("average_decimal_places", section.get("decimal_places", default.decimal_places))):
        value = section.get(key, fallback)
        if isinstance(value, bool) or value not in (0, 1, 2):
            reject(f"method.{key}", value, "小数点以下の桁数は 0〜2 です", f"{key} must be 0, 1 or 2")
            value = default.decimal_places
        places[key] = value
    if rollup == "band_counts":
        for key in ("average_rounding", "average_decimal_places", "average_of"):
            if key in section:
                reject(f"method.{key}", section[key],
                       "rollup = \"band_counts\"(区分ごとの件数だけ)では平均を出さないので、この項目は使えません",
                       'rollup = "band_counts" shows no average, so this key does not apply')

    clamp_min = _clamp_bound("method.clamp_min", section.get("clamp_min", default.clamp_min), reject)
    clamp_max = _clamp_bound("method.clamp_max", section.get("clamp_max", default.clamp_max), reject)
    if clamp_min is not None and clamp_max is not None and clamp_min >= clamp_max:
        reject("method.clamp_min", f"{clamp_min}..{clamp_max}", "clamp_min は clamp_max より小さくしてください",
               "clamp_min must be below clamp_max")

    threshold = default.target_achieved_threshold
    if "target_achieved_threshold" in section:
        threshold = _number("method.target_achieved_threshold", section["target_achieved_threshold"],
                            reject) or threshold
    bands = _load_bands(section, reject) if "bands" in section else default.bands

    return EvaluationMethod(
        formula_up=formulas["formula_up"],
        formula_down=formulas["formula_down"],
        formula_maintain=formulas["formula_maintain"],
        maintain_tolerance=tolerance,
        yardstick=yardstick,
        clamp_min=clamp_min,
        clamp_max=clamp_max,
        rounding=rounding,
        decimal_places=places["decimal_places"],
        average_of=average_of,
        average_rounding=average_rounding,
        average_decimal_places=places["average_decimal_places"],
        rollup=rollup,
        bands_judged_on=bands_judged_on,
        target_achieved_threshold=threshold,
        target_achieved_mark=str(section.get("target_achieved_mark", default.target_achieved_mark)),
        bands=bands,
    )


def _load_bands(section: dict, reject: Reject) -> tuple[Band, ...]:
    """Read [[method.bands]]: ordered from the lowest, each upper bound the next one's lower bound."""
    entries = section["bands"]
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        reject("method.bands", entries, "[[method.bands]] を下の区分から順に1つ以上書いてください",
               "write one or more [[method.bands]] tables, lowest band first")
        return OTARU_BANDS

    bands = []
    for number, entry in enumerate(entries, start=1):
        key = f"method.bands[{number}]"
        for unknown in sorted(set(entry) - BAND_KEYS):
            reject(f"{key}.{unknown}", entry[unknown], f"知らない項目です(使える項目: {', '.join(sorted(BAND_KEYS))})",
                   f"unknown key (known keys: {', '.join(sorted(BAND_KEYS))})")
        name = str(entry.get("band", "")).strip()
        label = str(entry.get("label_ja", "")).strip()
        if not name or not label:
            reject(f"{key}.band", name, "区分には band(ID)と label_ja(表示名)が必要です",
                   "a band needs a band id and a label_ja")
        lower = _number(f"{key}.lower", entry["lower"], reject) if "lower" in entry else None
        upper = _number(f"{key}.upper", entry["upper"], reject) if "upper" in entry else None
        if lower is not None and upper is not None and lower >= upper:
            reject(f"{key}.lower", f"{lower}..{upper}", f"区分「{label}」の下限が上限以上です",
                   f"the band {name!r} has lower >= upper")
        bands.append(Band(name, label, str(entry.get("mark", "")), lower, upper))

    names = [b.band for b in bands]
    for name in sorted({n for n in names if names.count(n) > 1}):
        reject("method.bands.band", name, "同じ band(ID)の区分が2つあります", "two bands share this band id")
    for number, (previous, current) in enumerate(zip(bands, bands[1:], strict=False), start=2):
        if previous.upper is None or current.lower is None or previous.upper != current.lower:
            relation_ja, relation_en = "重なっています", "overlap"
            if previous.upper is not None and current.lower is not None and previous.upper < current.lower:
                relation_ja, relation_en = "間にすき間があります", "leave a gap"
            reject(f"method.bands[{number}].lower", f"{previous.upper}..{current.lower}",
                   f"区分「{previous.label_ja}」の上限と「{current.label_ja}」の下限が{relation_ja}。"
                   "下の区分から順に、前の区分の upper と次の区分の lower を同じ値にしてください",
                   f"the bands {previous.band!r} and {current.band!r} {relation_en}; order bands from the lowest "
                   "and make each upper bound equal to the next lower bound")
    if bands[0].lower is not None:
        reject("method.bands[1].lower", bands[0].lower, "最初(最も低い)区分は lower を書かないでください(下限なし)",
               "the first (lowest) band must have no lower bound")
    if bands[-1].upper is not None:
        reject(f"method.bands[{len(bands)}].upper", bands[-1].upper,
               "最後(最も高い)区分は upper を書かないでください(上限なし)",
               "the last (highest) band must have no upper bound")
    return tuple(bands)
