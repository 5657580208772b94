"""Convert Japanese fiscal-year labels (H26, 平成31年度, R1, 令和元年度) to and from years.

A Japanese fiscal year (年度) runs April to March and is named by the calendar
year it starts in. Heisei N is 1988 + N and Reiwa N is 2018 + N, so H31 and R1
are both FY2019. Fiscal years are stored as integers (2019).
"""

from __future__ import annotations

import re
import unicodedata

HEISEI_OFFSET = 1988
REIWA_OFFSET = 2018
FIRST_HEISEI_YEAR = 1989
FIRST_REIWA_FISCAL_YEAR = 2020  # FY2019 started in April 2019, still Heisei (H31)

_ERAS = {
    "H": HEISEI_OFFSET,
    "平成": HEISEI_OFFSET,
    "R": REIWA_OFFSET,
    "令和": REIWA_OFFSET,
}
_LABEL = re.compile(
    r"^(?P<era>H|R|平成|令和)\s*(?P<year>\d{1,2}|元)\s*(?:年度|年)?$",
)
_WESTERN = re.compile(r"^(?:FY\s*)?(?P<year>(?:19|20)\d{2})\s*(?:年度|年)?$")


# Heisei ended in April 2019 (H31). Plans written before then name FY2020 and FY2021
# as H32 and H33, so those two are read. A later Heisei year is taken as a typo.
MAX_HEISEI_YEAR = 33
# FY2100, the last fiscal year the pipeline accepts in any form (see to_fiscal_year).
MAX_REIWA_YEAR = 82


class EraError(ValueError):
    """A fiscal-year label that is not an era label nor a four-digit year; the rule in Japanese and English."""

    def __init__(self, rule_ja: str, rule_en: str = "") -> None:
        self.rule_ja = rule_ja
        self.rule_en = rule_en or rule_ja
        super().__init__(f"{rule_ja} / {rule_en}" if rule_en else rule_ja)


def fiscal_year(label: str) -> int:
    """Return the fiscal year (e.g. 2019) for labels such as H31, R1, 令和元年度 or FY2019."""
    text = unicodedata.normalize("NFKC", label).strip().upper()
    text = text.replace(" ", "")
    western = _WESTERN.match(text)
    if western:
        return int(western["year"])
    match = _LABEL.match(text)
    if match is None:
        raise EraError(
            f"年度の表記「{label}」を読めません(例: H31, R2, 令和元年度, 2019年度)",
            f"cannot read fiscal-year label {label!r} (examples: H31, R2, 令和元年度, 2019)",
        )
    number = 1 if match["year"] == "元" else int(match["year"])
    if number < 1:
        raise EraError(f"年度の表記「{label}」の年が0です", f"fiscal-year label {label!r} has year 0")
    offset = _ERAS[match["era"]]
    if offset == HEISEI_OFFSET and number > MAX_HEISEI_YEAR:
        raise EraError(
            f"年度の表記「{label}」: 平成は31年度(2019年度)までです。計画で使われた H32・H33(2020・2021年度)"
            "までは読みますが、それより後は令和(R2 = 2020年度)か西暦で書いてください",
            f"fiscal-year label {label!r}: Heisei ended with H31 (FY2019); H32 and H33 (FY2020, FY2021) "
            "from older plans are read, but later years must be written in Reiwa (R2 = FY2020) or as the year",
        )
    if offset == REIWA_OFFSET and number > MAX_REIWA_YEAR:
        raise EraError(
            f"年度の表記「{label}」: 令和は{MAX_REIWA_YEAR}年(2100年度)までにしてください",
            f"fiscal-year label {label!r}: Reiwa years go up to R{MAX_REIWA_YEAR} (FY2100)",
        )
    return offset + number


def era_label(year: int) -> str:
    """Return the short label the published tables use: 2014 -> "H26", 2019 -> "H31", 2020 -> "R2"."""
    if year < FIRST_HEISEI_YEAR:
        raise EraError(f"{year}年度は平成より前で、対応していません", f"FY{year} is before Heisei: not supported")
    if year < FIRST_REIWA_FISCAL_YEAR:
        return f"H{year - HEISEI_OFFSET}"
    return f"R{year - REIWA_OFFSET}"


def era_label_ja(year: int) -> str:
    """Return the long Japanese label: 2019 -> "平成31年度", 2020 -> "令和2年度"."""
    short = era_label(year)
    era = "平成" if short.startswith("H") else "令和"
    return f"{era}{short[1:]}年度"


def find_fiscal_year(text: str) -> int | None:
    """Return the fiscal year named inside a header cell such as "基準値(H26)" or "H27実績値"."""
    folded = unicodedata.normalize("NFKC", text).replace(" ", "")
    match = re.search(r"(H|R|平成|令和)(\d{1,2}|元)", folded)
    if match is None:
        return None
    return fiscal_year(match.group(0))
