"""Fiscal-year labels: Heisei N = 1988 + N, Reiwa N = 2018 + N; H31 and R1 are both FY2019."""

import pytest

from evaluation.eras import EraError, era_label, era_label_ja, find_fiscal_year, fiscal_year


@pytest.mark.parametrize(
    ("label", "year"),
    [
        ("H26", 2014),  # the Otaru baseline year
        ("H27", 2015),
        ("H31", 2019),
        ("R1", 2019),
        ("R元", 2019),
        ("令和元年度", 2019),
        ("平成31年度", 2019),
        ("R2", 2020),
        ("令和2年度", 2020),
        ("Ｈ２６", 2014),  # full-width letters and digits
        ("2019年度", 2019),
        ("FY2019", 2019),
        ("h30", 2018),
    ],
)
def test_fiscal_year(label, year):
    assert fiscal_year(label) == year


@pytest.mark.parametrize("label", ["S60", "H", "31", "平成", "R0", "X31"])
def test_unreadable_labels(label):
    with pytest.raises(EraError):
        fiscal_year(label)


@pytest.mark.parametrize(
    ("year", "short", "long"),
    [
        (2014, "H26", "平成26年度"),
        (2019, "H31", "平成31年度"),  # FY2019 began in April 2019, still Heisei
        (2020, "R2", "令和2年度"),
        (1989, "H1", "平成1年度"),
    ],
)
def test_era_labels(year, short, long):
    assert era_label(year) == short
    assert era_label_ja(year) == long


def test_before_heisei_is_not_supported():
    with pytest.raises(EraError):
        era_label(1988)


@pytest.mark.parametrize(
    ("header", "year"),
    [("基準値(H26)", 2014), ("H27実績値", 2015), ("H31年度", 2019), ("目標値(H31)", 2019), ("事業名", None)],
)
def test_find_fiscal_year_in_header(header, year):
    assert find_fiscal_year(header) == year


def test_heisei_32_33_read():
    # plans written before the era changed name FY2020 and FY2021 as H32 and H33
    assert fiscal_year("H32") == 2020
    assert fiscal_year("平成33年度") == 2021


@pytest.mark.parametrize("label", ["H34", "H99", "平成40年度"])
def test_heisei_after_33_rejected(label):
    with pytest.raises(EraError) as error:
        fiscal_year(label)
    # the message shows the label as typed, not the year it would convert to (H99 -> 2087)
    assert f"「{label}」" in error.value.rule_ja
    assert "平成は31年度(2019年度)までです" in error.value.rule_ja
    assert "2087" not in str(error.value)


def test_reiwa_bound():
    assert fiscal_year("R82") == 2100  # 2018 + 82, the last fiscal year accepted
    with pytest.raises(EraError, match="令和は82年"):
        fiscal_year("R83")
