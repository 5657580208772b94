"""The strategy a set of input files belongs to, and its evaluation method, from strategy.toml.

Each folder of input files has a ``strategy.toml`` naming the strategy (id,
municipality, period), the KPIs it excludes on purpose with the reason, and the
evaluation method: formula per direction, clamp, rounding and bands. The method
is data so that a municipality that scores differently changes this file, not
the SQL. Otaru's published method is the default for every omitted key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from evaluation.problems import InputProblem, InputRejected

STRATEGY_FILE_NAME = "strategy.toml"
FORMULAS = ("progress", "achievement")
ROUNDING_MODES = ("half_up", "truncate")
AVERAGE_BASES = ("rounded_scores",)
_STRATEGY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Band:
    """One score band: raw scores in [lower, upper) fall in it; None means unbounded."""

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
    """The parameters that turn one strategy's baseline, actual and target into a score.

    progress: (actual - baseline) / (target - baseline) x 100
    achievement: actual / target x 100
    """

    formula_up: str = "progress"
    formula_down: str = "progress"
    formula_maintain: str = "achievement"
    clamp_min: Decimal | None = Decimal(-100)
    clamp_max: Decimal | None = Decimal(100)
    rounding: str = "half_up"
    decimal_places: int = 2
    average_of: str = "rounded_scores"
    target_achieved_threshold: Decimal = Decimal(100)
    target_achieved_mark: str = "☆"
    bands: tuple[Band, ...] = OTARU_BANDS


@dataclass(frozen=True)
class Exclusion:
    """A business or KPI left out of the evaluation on purpose, with the reason."""

    business_no: int
    kpi_seq: int | None  # None excludes every KPI of the business
    reason: str


@dataclass(frozen=True)
class Strategy:
    """One strategy: the municipality's plan for a period, scored by one method."""

    strategy_id: str
    municipality: str
    name: str
    first_fiscal_year: int
    last_fiscal_year: int
    folder: Path
    method: EvaluationMethod = field(default_factory=EvaluationMethod)
    exclusions: tuple[Exclusion, ...] = ()

    def exclusion_reason(self, business_no: int, kpi_seq: int) -> str | None:
        for exclusion in self.exclusions:
            if exclusion.business_no == business_no and exclusion.kpi_seq in (None, kpi_seq):
                return exclusion.reason
        return None


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value))


# Every key strategy.toml may have; any other key is rejected, so a typo is not silently ignored.
KNOWN_KEYS = {
    "strategy": {"strategy_id", "municipality", "name", "first_fiscal_year", "last_fiscal_year"},
    "method": {"formula_up", "formula_down", "formula_maintain", "clamp_min", "clamp_max", "rounding",
               "decimal_places", "average_of", "target_achieved_threshold", "target_achieved_mark", "bands"},
    "exclusions": {"business_no", "kpi_seq", "reason"},
}


def load_strategy(path: Path, display_name: str | None = None) -> Strategy:
    """Read a strategy.toml; raise ``InputRejected`` naming every invalid key.

    ``display_name`` is how messages name the file, e.g. "otaru/strategy.toml".
    """
    name = display_name or path.name
    problems: list[InputProblem] = []

    def reject(key: str, value: object, rule_ja: str, rule_en: str) -> None:
        problems.append(InputProblem(name, None, None, str(value), rule_ja, rule_en, key=key))

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputRejected(
            [InputProblem(name, None, None, "", f"TOML として読めません({error})", f"invalid TOML: {error}")]
        ) from error

    section = document.get("strategy")
    if not isinstance(section, dict):
        raise InputRejected(
            [InputProblem(name, None, None, "", "[strategy] の表がありません", "the [strategy] table is missing",
                          key="[strategy]")]
        )
    for table, known in KNOWN_KEYS.items():
        entries = document.get(table, {})
        for entry in entries if isinstance(entries, list) else [entries]:
            for key in sorted(set(entry) - known):
                reject(f"{table}.{key}", entry[key], f"知らない項目です(使える項目: {', '.join(sorted(known))})",
                       f"unknown key (known keys: {', '.join(sorted(known))})")
    for key in sorted(set(document) - set(KNOWN_KEYS)):
        reject(key, "", "知らない表です([strategy] [method] [[exclusions]] が使えます)",
               "unknown table (use [strategy], [method], [[exclusions]])")
    for key in ("strategy_id", "municipality", "name", "first_fiscal_year", "last_fiscal_year"):
        if key not in section:
            reject(key, "", f"[strategy] に {key} がありません", f"[strategy] lacks {key}")
    if problems:
        raise InputRejected(problems)

    strategy_id = str(section["strategy_id"])
    if not _STRATEGY_ID.match(strategy_id):
        reject("strategy_id", strategy_id, "英小文字・数字・-・_ で64文字までにしてください",
               "use lowercase letters, digits, '-' and '_' (at most 64)")
    first, last = section["first_fiscal_year"], section["last_fiscal_year"]
    if not (isinstance(first, int) and isinstance(last, int) and 1989 <= first <= last <= 2100):
        reject("first_fiscal_year", f"{first}..{last}", "計画期間の年度(西暦)が正しくありません",
               "the strategy period must be two years with first <= last")

    method = _load_method(document.get("method", {}), reject)
    exclusions = []
    for entry in document.get("exclusions", []):
        reason = str(entry.get("reason", "")).strip()
        if not isinstance(entry.get("business_no"), int):
            reject("exclusions.business_no", entry.get("business_no"), "事業No.を整数で書いてください",
                   "business_no must be an integer")
            continue
        if not reason:
            reject("exclusions.reason", "", "除外には理由が必要です", "an exclusion needs a reason")
            continue
        exclusions.append(Exclusion(entry["business_no"], entry.get("kpi_seq"), reason))
    if problems:
        raise InputRejected(problems)

    return Strategy(
        strategy_id=strategy_id,
        municipality=str(section["municipality"]),
        name=str(section["name"]),
        first_fiscal_year=first,
        last_fiscal_year=last,
        folder=path.parent,
        method=method,
        exclusions=tuple(exclusions),
    )


def _load_method(section: dict, reject) -> EvaluationMethod:
    default = EvaluationMethod()
    values = {
        key: section.get(key, getattr(default, key))
        for key in ("formula_up", "formula_down", "formula_maintain", "rounding",
                    "decimal_places", "average_of", "target_achieved_mark")
    }
    for key in ("formula_up", "formula_down", "formula_maintain"):
        if values[key] not in FORMULAS:
            reject(f"method.{key}", values[key], f"計算式は {' / '.join(FORMULAS)} のどれかです",
                   f"the formula must be one of {', '.join(FORMULAS)}")
    if values["rounding"] not in ROUNDING_MODES:
        reject("method.rounding", values["rounding"], "丸めは half_up(四捨五入)か truncate(切り捨て)です",
               "rounding must be half_up or truncate")
    if values["decimal_places"] not in (0, 1, 2):
        reject("method.decimal_places", values["decimal_places"], "小数点以下の桁数は 0〜2 です",
               "decimal_places must be 0, 1 or 2")
    if values["average_of"] not in AVERAGE_BASES:
        reject("method.average_of", values["average_of"], "平均の対象は rounded_scores だけに対応しています",
               "average_of supports only rounded_scores")

    clamp_min = _decimal(section.get("clamp_min", default.clamp_min))
    clamp_max = _decimal(section.get("clamp_max", default.clamp_max))
    for key, bound in (("method.clamp_min", clamp_min), ("method.clamp_max", clamp_max)):
        if bound is not None and bound != bound.to_integral_value():
            reject(key, bound, "上下限は整数にしてください", "clamp bounds must be whole numbers")
    if clamp_min is not None and clamp_max is not None and clamp_min >= clamp_max:
        reject("method.clamp_min", f"{clamp_min}..{clamp_max}", "clamp_min は clamp_max より小さくしてください",
               "clamp_min must be below clamp_max")

    bands = default.bands
    if "bands" in section:
        bands = tuple(
            Band(str(b["band"]), str(b["label_ja"]), str(b.get("mark", "")),
                 _decimal(b.get("lower")), _decimal(b.get("upper")))
            for b in section["bands"]
        )
    for previous, current in zip(bands, bands[1:], strict=False):
        if previous.upper is None or previous.upper != current.lower:
            reject("method.bands", current.band, "帯は下から順に、前の帯の上限と次の帯の下限を同じ値にしてください",
                   "bands must be ordered with each upper bound equal to the next lower bound")
    if bands and (bands[0].lower is not None or bands[-1].upper is not None):
        reject("method.bands", bands[0].band, "最初の帯は下限なし、最後の帯は上限なしにしてください",
               "the first band needs no lower bound and the last no upper bound")

    return EvaluationMethod(
        formula_up=values["formula_up"],
        formula_down=values["formula_down"],
        formula_maintain=values["formula_maintain"],
        clamp_min=clamp_min,
        clamp_max=clamp_max,
        rounding=values["rounding"],
        decimal_places=values["decimal_places"],
        average_of=values["average_of"],
        target_achieved_threshold=_decimal(
            section.get("target_achieved_threshold", default.target_achieved_threshold)
        ),
        target_achieved_mark=values["target_achieved_mark"],
        bands=bands,
    )
