"""The value-cell parser on every value form of the Otaru table, and on what offices type."""

from decimal import Decimal

import pytest

from evaluation.cells import CellError, ValueStatus, parse_cell, parse_score

# (cell as written, value, unit); each form appears in the Otaru table at the line noted.
REPORTED_FORMS = [
    ("18棟", Decimal("18"), "棟"),  # line 7, business 1 baseline
    ("1,199件", Decimal("1199"), "件"),  # line 16, thousands separator
    ("54,886,770円", Decimal("54886770"), "円"),  # line 19, two separators
    ("75.85%", Decimal("75.85"), "%"),  # line 29, decimals and percent
    ("90%", Decimal("90"), "%"),  # line 29, target
    ("96.45", Decimal("96.45"), None),  # line 43, a bare number where the row has %
    ("118.7", Decimal("118.7"), None),  # line 90, standardized mortality ratio: no unit
    ("345万円", Decimal("345"), "万円"),  # line 60, scaled unit kept as written
    ("968千t", Decimal("968"), "千t"),  # line 62
    ("152町会", Decimal("152"), "町会"),  # line 100, a two-character unit
    ("7,447,800人", Decimal("7447800"), "人"),  # line 76
    ("0灯", Decimal("0"), "灯"),  # line 18
]


@pytest.mark.parametrize(("text", "value", "unit"), REPORTED_FORMS)
def test_reported_forms(text, value, unit):
    cell = parse_cell(text)
    assert cell.status is ValueStatus.REPORTED
    assert cell.value == value
    assert cell.unit == unit


@pytest.mark.parametrize(
    ("text", "status", "unit"),
    [
        ("—", ValueStatus.MISSING, None),  # line 8: U+2014 em dash
        ("—人", ValueStatus.MISSING, "人"),  # line 39
        ("未確定", ValueStatus.UNDETERMINED, None),  # line 89
        ("(後日報告)人", ValueStatus.TO_BE_REPORTED, "人"),  # line 82
        ("（後日報告）人", ValueStatus.TO_BE_REPORTED, "人"),  # full-width brackets
    ],
)
def test_missing_markers(text, status, unit):
    cell = parse_cell(text)
    assert cell.status is status
    assert cell.value is None
    assert cell.unit == unit


@pytest.mark.parametrize("dash", ["\u2015", "\u30fc", "\u2212", "\uff0d", "-"])
def test_other_dashes_are_missing_with_note(dash):
    cell = parse_cell(dash)
    assert cell.status is ValueStatus.MISSING
    assert f"U+{ord(dash):04X}" in cell.note


def test_em_dash_has_no_note():
    assert parse_cell("—").note is None


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("１２３件", Decimal("123"), "件"),  # full-width digits
        ("１，１９９件", Decimal("1199"), "件"),  # full-width comma
        ("７５．８５％", Decimal("75.85"), "%"),  # full-width point and percent
        ("\u22125件", Decimal("-5"), "件"),  # U+2212 MINUS SIGN
        ("\uff0d12.5%", Decimal("-12.5"), "%"),  # U+FF0D FULLWIDTH HYPHEN-MINUS
        ("-91.30", Decimal("-91.30"), None),  # line 33, a negative published score
        (" 36棟 ", Decimal("36"), "棟"),  # spaces around the cell
    ],
)
def test_office_forms(text, value, unit):
    cell = parse_cell(text)
    assert cell.status is ValueStatus.REPORTED
    assert cell.value == value
    assert cell.unit == unit


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("1,2,3件", "thousands separators"),
        ("12,34", "thousands separators"),
        ("", "empty"),
        ("abc", "number followed by a unit"),
        ("1.2345678", "decimal places"),
        ("—5件", "number followed by a unit"),
        ("5件5", "number followed by a unit"),
    ],
)
def test_rejected_cells(text, rule):
    with pytest.raises(CellError) as error:
        parse_cell(text)
    assert rule in error.value.rule_en
    assert error.value.rule_ja  # every rule has its Japanese wording


def test_parse_score():
    assert parse_score("129.17") == Decimal("129.17")  # line 11, business 5
    assert parse_score("-1080.00") == Decimal("-1080.00")  # line 62, business 33
    assert parse_score("—") is None  # line 10, business 4


def test_score_with_unit_is_rejected():
    with pytest.raises(CellError):
        parse_score("60.00%")
