"""The strategy a set of input files belongs to, and its evaluation method, from strategy.toml.

Each folder of input files has a ``strategy.toml`` naming the strategy (id,
municipality, period), the KPIs it excludes on purpose with the reason, and the
evaluation method (read and checked by evaluation/methods.py). The method
is data so that a municipality that scores differently changes this file, not
the SQL. Otaru's published method is the default for every omitted key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.methods import METHOD_KEYS, EvaluationMethod, load_method
from evaluation.problems import InputProblem, InputRejected

STRATEGY_FILE_NAME = "strategy.toml"
_STRATEGY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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


# Every key strategy.toml may have; any other key is rejected, so a typo is not silently ignored.
KNOWN_KEYS = {
    "strategy": {"strategy_id", "municipality", "name", "first_fiscal_year", "last_fiscal_year"},
    "method": METHOD_KEYS,
    "exclusions": {"business_no", "kpi_seq", "reason"},
}


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_toml(path: Path, name: str) -> dict:
    """Parse strategy.toml; raise ``InputRejected`` for a folder, unreadable bytes or invalid TOML."""
    def rejected(rule_ja: str, rule_en: str) -> InputRejected:
        return InputRejected([InputProblem(name, None, None, "", rule_ja, rule_en)])

    try:
        data = path.read_bytes()
    except IsADirectoryError as error:
        raise rejected(f"{STRATEGY_FILE_NAME} がフォルダです。設定を書いたテキストファイルにしてください",
                       f"{STRATEGY_FILE_NAME} is a folder; it must be a text file of settings") from error
    except OSError as error:
        raise rejected(f"{STRATEGY_FILE_NAME} を読めません({error.strerror})",
                       f"cannot read {STRATEGY_FILE_NAME}: {error.strerror}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise rejected("UTF-8 の文字ではありません(Shift_JIS で保存されていませんか)。UTF-8 で保存し直してください",
                       "the file is not UTF-8 (saved as Shift_JIS?); save it as UTF-8") from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib (Python 3.11) ends its message with "(at line 3, column 7)"
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        line, column = (int(where[1]), int(where[2])) if where else (None, None)
        raise InputRejected([InputProblem(
            name, line, column, "",
            "TOML の書き方が正しくありません(文字列は \"…\" で囲む、表は [method] のように書く)",
            f"invalid TOML: {error}",
        )]) from error


def load_strategy(path: Path, display_name: str | None = None) -> Strategy:
    """Read a strategy.toml; raise ``InputRejected`` naming every invalid key.

    ``display_name`` is how messages name the file, e.g. "otaru/strategy.toml".
    """
    name = display_name or path.name
    problems: list[InputProblem] = []

    def reject(key: str, value: object, rule_ja: str, rule_en: str) -> None:
        problems.append(InputProblem(name, None, None, str(value), rule_ja, rule_en, key=key))

    document = _read_toml(path, name)

    section = document.get("strategy")
    if not isinstance(section, dict):
        raise InputRejected(
            [InputProblem(name, None, None, "", "[strategy] の表がありません", "the [strategy] table is missing",
                          key="[strategy]")]
        )
    if not isinstance(document.get("method", {}), dict):
        reject("method", document["method"], "[method] は表で書いてください", "method must be a table ([method])")
        document.pop("method")
    exclusions = document.get("exclusions", [])
    if not isinstance(exclusions, list) or not all(isinstance(entry, dict) for entry in exclusions):
        reject("exclusions", exclusions, "除外は [[exclusions]](表の配列)で1件ずつ書いてください",
               "write each exclusion as an [[exclusions]] table (an array of tables)")
        document.pop("exclusions")
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

    method = load_method(document.get("method", {}), reject)
    exclusions = []
    for entry in document.get("exclusions", []):
        reason = entry.get("reason", "")
        # TOML's true is a Python int too, so booleans are rejected by name
        if not _is_integer(entry.get("business_no")):
            reject("exclusions.business_no", entry.get("business_no"), "事業No.を整数で書いてください",
                   "business_no must be an integer")
            continue
        if "kpi_seq" in entry and not _is_integer(entry["kpi_seq"]):
            reject("exclusions.kpi_seq", entry["kpi_seq"],
                   "KPIの番号(事業の何番目のKPIか)を整数で書いてください。事業の全KPIを除くなら kpi_seq を書きません",
                   "kpi_seq must be an integer; leave it out to exclude every KPI of the business")
            continue
        if not isinstance(reason, str) or not reason.strip():
            reject("exclusions.reason", reason, "除外には理由(文字列)が必要です", "an exclusion needs a reason (text)")
            continue
        exclusions.append(Exclusion(entry["business_no"], entry.get("kpi_seq"), reason.strip()))
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
