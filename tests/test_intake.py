"""Reading what offices send: cells, encodings, workbooks, masters, submissions, merging, templates."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from evaluation import sources
from evaluation.cells import ValueStatus, excel_number, parse_cell
from evaluation.intake.columns import ColumnError, Quantity, in_kpi_unit, to_code, to_quantity
from evaluation.intake.formats import load_intake, read_grids
from evaluation.intake.merge import merge_sources
from evaluation.intake.sheets import Cell, read_csv
from evaluation.intake.submission import read_submission
from evaluation.problems import InputRejected
from evaluation.sources import (
    KPI_MASTER,
    SUBMISSION,
    EncodingError,
    SourceFile,
    decode_text,
    discover,
    recognize,
)
from evaluation.strategy import load_strategy

MASTER_HEADER = ("プロジェクトNo.,プロジェクト名,事業No.,事業名,KPIコード,KPI名,単位,方向,基準年度,基準値,"
                 "目標年度,目標値,累計,集計対象,除外理由,担当課")
SUBMISSION_HEADER = "年度,KPIコード,実績値,状態,要因分析,提出者,修正,修正理由"
STRATEGY_TOML = """
[strategy]
strategy_id = "test-2020"
municipality = "架空市"
name = "架空市総合戦略"
first_fiscal_year = 2020
last_fiscal_year = 2024
"""


def make_strategy(folder: Path, master_rows: list[str], files: dict[str, str | bytes]) -> Path:
    """A strategy folder with a CSV master and the given files; returns the raw folder above it."""
    folder.mkdir(parents=True)
    (folder / "strategy.toml").write_text(STRATEGY_TOML, encoding="utf-8")
    (folder / "master.csv").write_text("\n".join([MASTER_HEADER, *master_rows]) + "\n", encoding="utf-8")
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder.parent


# Two KPIs of two departments: a count and a percentage.
MASTER_ROWS = [
    "1,くらし,1,住宅事業,0101,改修棟数,棟,↗,2019,10,2024,30,,対象,,建築課",
    "1,くらし,2,学び事業,0201,理解度,%,増加,H31,70.5,R6,80,,対象,,学校教育課",
]


def intake(raw_dir: Path):
    strategies, files = discover(raw_dir)
    return load_intake(strategies[0], files)


# -- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("１，１９９件", Decimal("1199"), "件"),  # full-width digits and comma
        ("\u22125", Decimal("-5"), None),  # U+2212 MINUS SIGN
        ("\uff0d12.5%", Decimal("-12.5"), "%"),  # U+FF0D FULLWIDTH HYPHEN-MINUS
        ("▲120人", Decimal("-120"), "人"),  # accounting triangle for a negative figure
    ],
)
def test_parse_cell_numbers(text, value, unit):
    parsed = parse_cell(text)
    assert parsed.value == value
    assert parsed.unit == unit


@pytest.mark.parametrize("marker", ["\u2014", "\u2015", "\u30fc"])
def test_parse_cell_dash_markers(marker):
    assert parse_cell(marker).status is ValueStatus.MISSING
    assert parse_cell(marker + "人").unit == "人"


def test_excel_number_drops_float_noise():
    # 0.1 + 0.2 is 0.30000000000000004 as a double; Excel shows 0.3
    assert excel_number(0.1 + 0.2) == Decimal("0.3")
    assert excel_number(0.7585) == Decimal("0.7585")
    assert str(excel_number(1200.0)) == "1200"


# -- encodings ---------------------------------------------------------------------------


def test_decode_text_encodings():
    text = "要因分析,①髙橋"
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-sig")
    # ① and 髙 exist in CP932 but not in plain Shift_JIS
    assert decode_text(text.encode("cp932")) == (text, "cp932")


def test_decode_text_rejects_unknown_bytes():
    with pytest.raises(EncodingError, match="CP932"):
        decode_text(b"\x82\xa0\x81\x20")  # 0x81 0x20 is no CP932 character
    with pytest.raises(EncodingError, match="外字"):
        decode_text(b"\x82\xa0\xf0\x40")  # CP932 user-defined area, decoded to U+E000 by Python
    with pytest.raises(EncodingError, match="UTF-16"):
        decode_text("年度".encode("utf-16"))
    # a UTF-8 byte order mark before CP932 bytes: 年 is 0x94 0x4e in CP932, invalid UTF-8 at byte 3 of the file
    with pytest.raises(EncodingError, match=r"UTF-8 byte order mark but is not UTF-8 text \(byte offset 3\)"):
        decode_text(b"\xef\xbb\xbf" + "年度".encode("cp932"))


@pytest.mark.parametrize(("setting", "expected"), [("", 4 * 2**20), ("0", 0), (" 1048576 ", 2**20)])
def test_bulk_min_bytes_setting(monkeypatch, setting, expected):
    from evaluation.intake.bulk import bulk_min_bytes

    monkeypatch.setenv("KPI_BULK_MIN_BYTES", setting)
    assert bulk_min_bytes() == expected  # unset or blank: 4 MiB


@pytest.mark.parametrize("setting", ["4MiB", "-1", "1e6", "４"])
def test_bulk_min_bytes_rejects_non_counts(monkeypatch, setting):
    from evaluation.intake.bulk import bulk_min_bytes
    from evaluation.problems import SettingInvalid

    monkeypatch.setenv("KPI_BULK_MIN_BYTES", setting)
    with pytest.raises(SettingInvalid, match="KPI_BULK_MIN_BYTES"):
        bulk_min_bytes()


def test_recognize_logs_encoding(tmp_path, caplog):
    path = tmp_path / "提出.csv"
    path.write_bytes(f"{SUBMISSION_HEADER}\n2020,0101,12,確定,①改修,髙橋,,\n".encode("cp932"))
    with caplog.at_level(logging.INFO, logger="evaluation.sources"):
        assert recognize(path) == (SUBMISSION, "cp932")
    assert "encoding cp932" in caplog.text


# -- recognition ---------------------------------------------------------------------------


def test_recognize_workbook_without_extension(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["年度", "KPIコード", "実績値", "状態", "要因分析", "提出者"])
    path = tmp_path / "R2報告"  # no .xlsx suffix
    workbook.save(path)
    assert recognize(path) == (SUBMISSION, None)


def test_recognize_master_csv(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(MASTER_HEADER + "\n" + MASTER_ROWS[0] + "\n", encoding="utf-8-sig")
    assert recognize(path) == (KPI_MASTER, "utf-8-sig")


def test_recognize_unknown_file_names_it(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {"memo.csv": "氏名,電話\n山田,123\n"})
    with pytest.raises(InputRejected) as raised:
        discover(raw)
    assert [p.source_file for p in raised.value.problems] == ["t/memo.csv"]
    assert "どの入力形式でもありません" in raised.value.problems[0].rule_ja


def test_recognize_header_below_titles(tmp_path):
    # The header in row 4 is past the first rows that recognition turns into cells first.
    path = tmp_path / "titled.csv"
    path.write_text(f"令和2年度 実績報告\n建築課\n\n{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n",
                    encoding="utf-8")
    assert recognize(path) == (SUBMISSION, "utf-8")


def test_discover_reuses_recorded_files(tmp_path, monkeypatch):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS,
                        {"r2.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n"})
    strategies, files = discover(raw)
    recognized = []
    real_recognize = sources._recognize
    monkeypatch.setattr(sources, "_recognize", lambda path, data: recognized.append(path.name) or
                        real_recognize(path, data))

    assert discover(raw, {f.relative_path: f for f in files}) == (strategies, files)
    assert recognized == []

    # A file whose size differs from the record is read and recognized again.
    with (raw / "t" / "r2.csv").open("a", encoding="utf-8") as handle:
        handle.write("2021,0101,13,確定,,山田,,\n")
    _, again = discover(raw, {f.relative_path: f for f in files})
    assert recognized == ["r2.csv"]
    assert next(f for f in again if f.relative_path == "t/r2.csv").sha256 != \
        next(f for f in files if f.relative_path == "t/r2.csv").sha256


# -- columns -------------------------------------------------------------------------------


def test_to_code_keeps_zeros():
    assert to_code(Cell("0101")) == "0101"
    assert to_code(Cell("００７")) == "007"
    # 101 typed into a cell formatted "0000" is shown as 0101
    assert to_code(Cell(101, "0000")) == "0101"
    assert to_code(Cell(101)) == "101"


def test_percent_cell_in_percent_unit():
    quantity = in_kpi_unit(to_quantity(Cell(0.7585, "0.00%")), "%")
    assert quantity.value == Decimal("75.85")
    assert quantity.unit == "%"


def test_percent_cell_in_other_unit_rejected():
    with pytest.raises(ColumnError, match="パーセント表示"):
        in_kpi_unit(to_quantity(Cell(0.5, "0%")), "人")


def test_text_percent_and_text_number():
    assert in_kpi_unit(to_quantity(Cell("75.85%")), "%").value == Decimal("75.85")
    assert in_kpi_unit(to_quantity(Cell("1,199")), "件").value == Decimal("1199")


def test_other_unit_rejected():
    with pytest.raises(ColumnError, match="単位「人」"):
        in_kpi_unit(Quantity(parse_cell("12人")), "件")


# -- workbooks -------------------------------------------------------------------------------


def office_workbook(path: Path) -> Path:
    """A submission with a title, a merged two-row header, blank rows and notes below the table."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "報告"
    sheet["A1"] = "令和2年度 実績報告"
    for column, label in enumerate(("年度", "KPIコード"), start=1):
        sheet.cell(2, column, label)
        sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    sheet["C2"] = "今年度の報告"
    sheet.merge_cells("C2:F2")
    for column, label in enumerate(("実績値", "状態", "要因分析", "提出者"), start=3):
        sheet.cell(3, column, label)
    sheet.append(["R2", 101, 12, "確定", "計画どおり", "山田"])
    sheet["B4"].number_format = "0000"
    sheet.append([])
    sheet.append([2020, "0201", 0.7585, "速報", None, "山田"])
    sheet["C6"].number_format = "0.00%"
    sheet.append([])
    sheet.append(["※ 速報値は6月に確定します。"])
    workbook.save(path)
    return path


def test_office_workbook_rows(tmp_path):
    path = office_workbook(tmp_path / "a.xlsx")
    file = SourceFile(path, "a.xlsx", SUBMISSION, None, 0, "", "test-2020")
    submission = read_submission(read_grids(file))
    rows = [(v.kpi_id, v.fiscal_year, v.source_line, v.report_status) for v in submission.values]
    # header rows 2-3, data in rows 4 and 6, the note in row 8 skipped
    assert rows == [("0101", 2020, 4, "confirmed"), ("0201", 2020, 6, "provisional")]
    assert submission.values[1].source_cell == "a.xlsx [報告] C6"


def test_office_workbook_merged(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    office_workbook(raw / "t" / "b.xlsx")
    result = intake(raw)
    values = {(r["kpi_id"], r["fiscal_year"]): r for r in result.tables["kpi_value"]}
    assert result.errors == []
    assert values[("0101", 2020)]["value"] == "12"
    # the percent cell 0.7585 is 75.85 in a % KPI
    assert values[("0201", 2020)]["value"] == "75.85"
    assert values[("0201", 2020)]["report_status"] == "provisional"


# -- master ----------------------------------------------------------------------------------


def test_master_errors_name_cells(tmp_path):
    rows = [
        MASTER_ROWS[0],
        "1,くらし,1,住宅事業,0101,重複,棟,↗,2019,10,2024,30,,対象,,建築課",  # repeated code
        "1,くらし,3,防災事業,0301,訓練回数,回,上がる,2019,1,2024,5,,対象,,防災課",  # unknown direction
        "1,くらし,4,交流事業,0401,参加者数,人,↗,2019,10,2024,20,,除外,,市民課",  # excluded, no reason
        "1,くらし,5,広報事業,0501,閲覧数,件,↗,2019,100,2024,100,,対象,,広報課",  # target = baseline
    ]
    raw = make_strategy(tmp_path / "raw" / "t", rows, {})
    result = intake(raw)
    found = [(p.line, p.rule_en[:30]) for p in result.errors]
    assert found == [
        (3, "the KPI code repeats the one i"),
        (4, "方向 must be one of: ↗、↑、⤴、↘、↓、⤵"),
        (5, "an excluded KPI needs a reason"),
        (6, "the direction is up or down bu"),
    ]
    assert all(p.source_file == "t/master.csv" for p in result.errors)


def test_master_strategy_sheet_checked(tmp_path):
    from openpyxl import Workbook

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    (raw / "t" / "master.csv").unlink()
    workbook = Workbook()
    info = workbook.active
    info.title = "戦略"
    info.append(["戦略ID", "test-2020"])
    info.append(["計画期間(終了年度)", 2023])  # strategy.toml has 2024
    sheet = workbook.create_sheet("KPI")
    for line in [MASTER_HEADER, *MASTER_ROWS]:
        sheet.append(line.split(","))
    workbook.save(raw / "t" / "master.xlsx")
    result = intake(raw)
    assert len(result.errors) == 1
    assert result.errors[0].source_file == "t/master.xlsx [戦略]"
    assert "strategy.toml の「2024」と違います" in result.errors[0].rule_ja


# -- merging ---------------------------------------------------------------------------------


def test_conflict_names_both_cells(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n",
        "b.csv": f"{SUBMISSION_HEADER}\n2020,0101,13,確定,,佐藤,,\n",
    })
    result = intake(raw)
    assert len(result.errors) == 1
    message = result.errors[0].message
    assert "t/a.csv 2行目 3列目 は「12」" in message
    assert "t/b.csv 2行目 3列目 は「13」" in message


def test_correction_wins_and_history_keeps_both(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n",
        "b.csv": f"{SUBMISSION_HEADER}\n2020,0101,13,確定,,佐藤,修正,集計漏れ1棟\n",
    })
    result = intake(raw)
    assert result.errors == []
    assert [(r["value"], r["correction_reason"]) for r in result.tables["kpi_value"]] == [("13", "集計漏れ1棟")]
    history = [(r["revision"], r["value"], r["is_current"], r["resolution"])
               for r in result.tables["kpi_value_history"]]
    assert history == [(1, "12", False, "corrected"), (2, "13", True, "correction")]


def test_confirmed_replaces_provisional(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0201,70%,速報,,山田,,\n",
        "b.csv": f"{SUBMISSION_HEADER}\n2020,0201,71.5%,確定,,山田,,\n",
    })
    result = intake(raw)
    assert result.errors == []
    assert [r["value"] for r in result.tables["kpi_value"]] == ["71.5"]


def test_unknown_kpi_named(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,9999,1,確定,,山田,,\n",
    })
    result = intake(raw)
    assert [(p.source_file, p.line, p.value) for p in result.errors] == [("t/a.csv", 2, "9999")]
    assert "KPIマスターにありません" in result.errors[0].rule_ja


def test_submission_row_rules(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": (f"{SUBMISSION_HEADER}\n"
                  "2020,0101,12,,,山田,,\n"  # status missing
                  "2020,0201,,確定,,山田,,\n"  # confirmed without a value
                  "2020,0101,12,確定,,山田,修正,\n"),  # correction without a reason
    })
    result = intake(raw)
    assert [p.line for p in result.errors] == [2, 3, 4]


def test_submission_outside_period(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2030,0201,70,確定,,山田,,\n",
    })
    result = intake(raw)
    assert [(p.line, p.value) for p in result.errors] == [(2, "2030")]
    assert "計画期間(2020〜2024年度)の外" in result.errors[0].rule_ja


def test_missing_submissions_per_department(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n",
    })
    result = intake(raw)
    states = [(r["department"], r["kpi_id"], r["submission_state"]) for r in result.tables["submission_status"]]
    assert states == [("建築課", "0101", "confirmed"), ("学校教育課", "0201", "missing")]


def test_exclusions_need_one_source(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    toml = raw / "t" / "strategy.toml"
    toml.write_text(STRATEGY_TOML + '[[exclusions]]\nbusiness_no = 1\nreason = "x"\n', encoding="utf-8")
    result = intake(raw)
    assert [p.column for p in result.errors] == ["[[exclusions]]"]


# -- templates -------------------------------------------------------------------------------


def test_template_is_protected_with_rules(tmp_path):
    from openpyxl import load_workbook

    from evaluation.intake.commands import generate_templates

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    paths = generate_templates(raw, 2021, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["test-2020_2021_学校教育課.xlsx", "test-2020_2021_建築課.xlsx"]

    workbook = load_workbook(tmp_path / "out" / "test-2020_2021_学校教育課.xlsx")
    assert workbook.sheetnames == ["記入方法", "実績報告"]
    sheet = workbook["実績報告"]
    labels = {sheet.cell(4, c).value: c for c in range(1, sheet.max_column + 1)}
    actual = sheet.cell(5, labels["実績値"])
    assert sheet.protection.sheet is True
    assert sheet.cell(5, 3).value == "0201"
    assert sheet.cell(5, 3).protection.locked is True
    assert actual.protection.locked is False
    rules = {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}
    assert rules[actual.coordinate] == ("decimal", "0")  # a % KPI takes 0-100
    assert rules[sheet.cell(5, labels["状態"]).coordinate] == ("list", '"確定,速報,未確定,後日報告"')


def test_filled_template_is_submission(tmp_path):
    from openpyxl import load_workbook

    from evaluation.intake.commands import generate_templates

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    (path,) = [p for p in generate_templates(raw, 2020, tmp_path / "out") if "建築課" in p.name]
    workbook = load_workbook(path)
    sheet = workbook["実績報告"]
    labels = {sheet.cell(4, c).value: c for c in range(1, sheet.max_column + 1)}
    sheet.cell(5, labels["実績値"]).value = 14
    sheet.cell(5, labels["状態"]).value = "確定"
    workbook.save(raw / "t" / "filled.xlsx")

    assert recognize(raw / "t" / "filled.xlsx") == (SUBMISSION, None)
    result = intake(raw)
    assert result.errors == []
    assert [(r["kpi_id"], r["value"]) for r in result.tables["kpi_value"]] == [("0101", "14")]


def test_master_from_otaru(otaru_raw_dir, tmp_path):
    from evaluation.intake.commands import generate_master
    from evaluation.intake.master import read_master

    strategy_dir = otaru_raw_dir / "otaru"
    path = generate_master(strategy_dir, None, tmp_path / "out")
    assert path == tmp_path / "out" / "otaru-2015_KPIマスター.xlsx"
    strategy = load_strategy(strategy_dir / "strategy.toml")
    file = SourceFile(path, path.name, KPI_MASTER, None, 0, "", "otaru-2015")
    master = read_master(read_grids(file), strategy).by_id()
    # 73 KPIs in the Otaru table; 012-1 reads back as 75.85% → 90%; 004-1 keeps its exclusion
    assert len(master) == 73
    assert (master["012-1"].baseline.value, master["012-1"].target.value) == (Decimal("75.85"), Decimal("90"))
    assert master["008-1"].baseline.value == Decimal("1199")
    assert master["004-1"].evaluated is False
    assert master["002-1"].cumulative is True  # 借上住戸数(累計)


def test_merge_without_master_rejects_submissions(tmp_path):
    strategy_toml = tmp_path / "strategy.toml"
    strategy_toml.write_text(STRATEGY_TOML, encoding="utf-8")
    path = tmp_path / "a.csv"
    path.write_text(f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n", encoding="utf-8")
    grid, _ = read_csv(path, "a.csv")
    submission = read_submission([grid])
    result = merge_sources(load_strategy(strategy_toml), None, [], [submission])
    assert "KPIマスターがない" in result.errors[0].rule_ja


def test_master_merged_business_cells(tmp_path):
    from openpyxl import Workbook

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    (raw / "t" / "master.csv").unlink()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(MASTER_HEADER.split(","))
    sheet.append([1, "くらし", 1, "住宅事業", "0101", "改修棟数", "棟", "↗", 2019, 10, 2024, 30, None, "対象", None, "建築課"])
    sheet.append([None, None, None, None, "0102", "相談件数", "件", "↗", 2019, 5, 2024, 9, None, "対象", None, "建築課"])
    for column in range(1, 5):  # project and business cells merged down over the business's two KPIs
        sheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    workbook.save(raw / "t" / "master.xlsx")
    result = intake(raw)
    assert result.errors == []
    kpis = {row["kpi_id"]: (row["business_no"], row["business_name"], row["kpi_seq"]) for row in result.tables["kpi"]}
    assert kpis == {"0101": (1, "住宅事業", 1), "0102": (1, "住宅事業", 2)}


def test_merged_value_cell_rejected(tmp_path):
    from openpyxl import Workbook

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(SUBMISSION_HEADER.split(","))
    sheet.append([2020, "0101", 12, "確定"])
    sheet.append([2020, "0201", None, "確定"])
    sheet.merge_cells("C2:C3")  # one actual spread over two KPIs
    workbook.save(raw / "t" / "a.xlsx")
    result = intake(raw)
    assert [(p.line, p.column) for p in result.errors] == [(3, "C 実績値")]
    assert "結合されたセル" in result.errors[0].rule_ja


class _RecordingLog:
    """A stand-in for a Dagster context's log that keeps the level and message of each call."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def warning(self, message: str) -> None:
        self.events.append(("warning", message))

    def info(self, message: str) -> None:
        self.events.append(("info", message))


def test_missing_submissions_log_capped():
    from types import SimpleNamespace

    from assets.metadata import LOGGED_LINES_MAX
    from assets.normalized.kpi_tables import log_missing_in_bulk

    # 205 strategies with KPI 001-1 of 総務部 missing in FY2020, and 3 with every KPI of 建設部 submitted
    departments = [(f"s{n:03d}", 2020, "総務部", 4, ["001-1"]) for n in range(205)]
    departments += [(f"t{n:03d}", 2020, "建設部", 2, []) for n in range(3)]
    context = SimpleNamespace(log=_RecordingLog())
    log_missing_in_bulk(context, departments)

    warnings = [message for level, message in context.log.events if level == "warning"]
    infos = [message for level, message in context.log.events if level == "info"]
    assert LOGGED_LINES_MAX == 200
    # 200 strategies, one event each, then one line counting the other 205 - 200 = 5
    assert len(warnings) == 201
    assert warnings[0] == "s000 FY2020 総務部: 未提出 1/4 KPI / 1 of 4 KPIs not submitted: 001-1"
    assert warnings[-1].startswith("ほか 5 戦略にも未提出の実績報告があります(表 submission_status)")
    # the 3 strategies without missing KPIs are under the cap, so each has its line and no count follows
    assert infos == [f"t{n:03d} FY2020 建設部: 2 KPI すべて提出済み / all submitted" for n in range(3)]
