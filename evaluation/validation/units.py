"""The units a KPI value may carry, each with its kind, base unit and scale factor.

A scaled unit such as 万円 is the base unit 円 times a factor (10,000). A KPI
keeps the unit as written; ``normalize_unit`` gives the base unit and factor so
that values in 万円 and 円 can be compared, and so that the factor is stored
beside the unit (table ``kpi_unit``) instead of being lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class UnitKind(StrEnum):
    """What a unit measures; decides the range rules a value must meet."""

    COUNT = "count"  # whole and not negative: 件 人 棟 …
    PERCENT = "percent"  # 0 to 100
    MONEY = "money"  # not negative
    QUANTITY = "quantity"  # a measured amount: tonnes, hectares, hours …
    RATIO = "ratio"  # no unit, e.g. a standardized mortality ratio (118.7)


@dataclass(frozen=True)
class Unit:
    """One known unit: ``text`` as written, the ``base`` unit and ``factor`` to reach it."""

    text: str
    kind: UnitKind
    base: str
    factor: Decimal = Decimal(1)


# Count words found in KPI tables of municipal strategies. A value in any of
# them counts things or people, so it is whole and not negative.
COUNT_UNITS = (
    "件", "個", "人", "名", "棟", "戸", "世帯", "灯", "校", "回", "日", "社", "町会", "団体", "店", "店舗",
    "箇所", "か所", "ヶ所", "カ所", "施設", "台", "本", "冊", "組", "種", "品", "品目", "区", "園",
    "床", "隻", "基", "頭", "事業", "講座", "企業", "事業所", "地区", "路線", "便", "泊", "人泊",
    "人日", "回数", "部", "枚", "匹", "羽", "軒", "者", "人回",
)
_SCALES = (("千", Decimal(1_000)), ("万", Decimal(10_000)), ("百万", Decimal(1_000_000)),
           ("億", Decimal(100_000_000)))


def _build_units() -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for text in COUNT_UNITS:
        units[text] = Unit(text, UnitKind.COUNT, text)
    # 千人, 万人: people counted in thousands are still people, but need not be whole
    # once scaled (12.5千人), so they are quantities of the base unit 人.
    for prefix, factor in _SCALES[:2]:
        for text in ("人", "件", "世帯", "人泊"):
            units[prefix + text] = Unit(prefix + text, UnitKind.QUANTITY, text, factor)
    units["%"] = Unit("%", UnitKind.PERCENT, "%")
    units["円"] = Unit("円", UnitKind.MONEY, "円")
    for prefix, factor in _SCALES:
        units[prefix + "円"] = Unit(prefix + "円", UnitKind.MONEY, "円", factor)
    for text, base, factor in (
        ("t", "t", Decimal(1)), ("千t", "t", Decimal(1_000)), ("万t", "t", Decimal(10_000)),
        ("kg", "t", Decimal("0.001")), ("ha", "ha", Decimal(1)), ("m2", "m2", Decimal(1)),
        ("km", "km", Decimal(1)), ("m", "km", Decimal("0.001")), ("時間", "時間", Decimal(1)),
        ("kW", "kW", Decimal(1)), ("kWh", "kWh", Decimal(1)),
        ("歳", "歳", Decimal(1)), ("点", "点", Decimal(1)), ("倍", "倍", Decimal(1)),
    ):
        units[text] = Unit(text, UnitKind.QUANTITY, base, factor)
    return units


KNOWN_UNITS: dict[str, Unit] = _build_units()
NO_UNIT = Unit("", UnitKind.RATIO, "")


def normalize_unit(text: str | None) -> Unit | None:
    """Return the known unit for ``text`` (None or "" is the unitless ratio); None if unknown."""
    if text is None or text == "":
        return NO_UNIT
    return KNOWN_UNITS.get(text)
