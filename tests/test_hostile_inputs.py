"""Hostile input: every fault gets a Japanese and English message naming its place, and nothing crashes.

The inputs are small and made in each test: a CSV KPI master of two KPIs (the
same rows as tests/test_intake.py) and a submission or setting that breaks one
rule.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from evaluation.problems import InputRejected
from evaluation.sources import discover
from evaluation.strategy import load_strategy
from tests.conftest import refresh
from tests.test_intake import MASTER_ROWS, SUBMISSION_HEADER, intake, make_strategy


def _check_messages(outcome, check_name: str) -> list[str]:
    return [
        line
        for evaluation in outcome.get_asset_check_evaluations()
        if evaluation.check_name == check_name and not evaluation.passed
        for line in evaluation.metadata["messages"].text.splitlines()
    ]


# -- value checks name the submission, not the master ---------------------------------------


def test_value_check_names_submission_sheet(tmp_path):
    from openpyxl import Workbook

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "報告"
    sheet.append(SUBMISSION_HEADER.split(","))
    sheet.append([2020, "0201", 105, "確定", "", "山田"])  # 理解度 is a % KPI: 105 is out of range
    workbook.save(raw / "t" / "a.xlsx")

    outcome = refresh(raw, tmp_path / "out" / "kpi.duckdb", raise_on_error=False)
    messages = _check_messages(outcome, "percent_in_range")
    # the value sits in row 2, column 3 (実績値) of sheet 報告 of a.xlsx
    assert len(messages) == 1
    # value_text shows the number in the KPI's unit, as intake stores it
    assert messages[0].startswith("t/a.xlsx [報告] 2行目 3列目: 値「105%」")
    assert "master.csv" not in messages[0]


def test_value_warning_stores_submission_file(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,―,未確定,,山田,,\n",
    })
    warehouse = tmp_path / "out" / "kpi.duckdb"
    assert refresh(raw, warehouse).success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select check_name, source_file, source_line, source_column from validation_result "
            "where table_name = 'kpi_value'"
        ).fetchall()
    # "―" (U+2015) in a.csv line 2, column 3 is read as missing, with a warning on that cell
    assert rows == [("missing_marker_variant", "t/a.csv", 2, "3")]


def test_bare_number_in_submission_is_not_warned(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n",
    })
    warehouse = tmp_path / "out" / "kpi.duckdb"
    assert refresh(raw, warehouse).success
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select check_name from validation_result").fetchall()
        value = connection.execute("select value, unit from kpi_value").fetchall()
    # a submission gives values in the unit of the master's 単位 column (棟): "12" is 12 棟, not a fault
    assert rows == []
    assert value == [(12, None)]


# -- workbooks: far-away cells, huge merged ranges, formulas without results -----------------


def _widen_merge(path: Path, small: str, large: str) -> None:
    """Rewrite a merged range in the saved sheet XML; openpyxl would build every cell of a huge one."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = parts[sheet_xml].replace(f'ref="{small}"'.encode(), f'ref="{large}"'.encode())
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _submission_workbook(path: Path, rows: list[list]):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "報告"
    sheet.append(SUBMISSION_HEADER.split(","))
    for row in rows:
        sheet.append(row)
    return workbook, sheet


@pytest.mark.timeout(120)
def test_far_away_cell_is_read(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook, sheet = _submission_workbook(tmp_path, [[2020, "0101", 12, "確定", "", "山田"]])
    sheet["XFD1048576"] = "メモ"  # the last cell of a sheet
    workbook.save(raw / "t" / "a.xlsx")

    result = intake(raw)
    assert result.errors == []
    # the table's one row (改修棟数 12 in 2020) is read; the far-away note is not a KPI row
    assert [(r["kpi_id"], r["value"]) for r in result.tables["kpi_value"]] == [("0101", "12")]


@pytest.mark.timeout(120)
def test_huge_merged_range_is_clipped(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook, sheet = _submission_workbook(tmp_path, [[2020, "0101", 12, "確定", "", "山田"]])
    sheet.merge_cells("K1:L2")
    workbook.save(raw / "t" / "a.xlsx")
    _widen_merge(raw / "t" / "a.xlsx", "K1:L2", "K1:XFD1048576")  # 17 billion cells, none beside the table

    result = intake(raw)
    assert result.errors == []
    assert [(r["kpi_id"], r["value"]) for r in result.tables["kpi_value"]] == [("0101", "12")]


@pytest.mark.timeout(120)
def test_huge_merged_range_with_far_cell_rejected(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook, sheet = _submission_workbook(tmp_path, [[2020, "0101", 12, "確定", "", "山田"]])
    sheet.merge_cells("K1:L2")
    sheet["XFD1048576"] = "メモ"  # the filled area now reaches the merged range's corner
    workbook.save(raw / "t" / "a.xlsx")
    _widen_merge(raw / "t" / "a.xlsx", "K1:L2", "K1:XFD1048575")

    with pytest.raises(InputRejected) as rejected:
        intake(raw)
    (problem,) = rejected.value.problems
    assert problem.source_file == "t/a.xlsx [報告]"
    assert problem.value == "K1"
    assert "結合されたセルが多すぎます" in problem.rule_ja


def test_formula_without_result_rejected(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    # openpyxl, like other scripts, stores the formula but no result for it
    workbook, _ = _submission_workbook(tmp_path, [[2020, "0101", "=10+2", "確定", "", "山田"]])
    workbook.save(raw / "t" / "a.xlsx")

    with pytest.raises(InputRejected) as rejected:
        intake(raw)
    (problem,) = rejected.value.problems
    # the formula sits in row 2, column 3 (実績値), cell C2
    assert (problem.source_file, problem.line, problem.column) == ("t/a.xlsx [報告]", 2, 3)
    assert problem.value == "=10+2"
    assert "セル C2 の数式の計算結果が保存されていません" in problem.rule_ja
    assert "Excel で開いて保存し直す" in problem.rule_ja


# -- strategy.toml with values of the wrong type ----------------------------------------------

STRATEGY_TABLE = """
[strategy]
strategy_id = "test-2020"
municipality = "架空市"
name = "架空市総合戦略"
first_fiscal_year = 2020
last_fiscal_year = 2024
"""

# (case, text before [strategy], text after it, key named by the problem)
STRATEGY_TYPE_ERRORS = [
    ("exclusions_as_table", "", "[exclusions]\nbusiness_no = 1\nreason = \"x\"\n", "exclusions"),
    ("exclusions_as_text", "exclusions = \"abc\"\n", "", "exclusions"),
    ("method_as_number", "method = 5\n", "", "method"),
    ("clamp_min_text", "", "[method]\nclamp_min = \"abc\"\n", "method.clamp_min"),
    ("threshold_text", "", "[method]\ntarget_achieved_threshold = \"high\"\n", "method.target_achieved_threshold"),
    ("band_bound_text", "", "[method]\nbands = [{band = \"a\", label_ja = \"A\", upper = \"zero\"}, "
                            "{band = \"b\", label_ja = \"B\", lower = \"zero\"}]\n", "method.bands[1].upper"),
    ("bands_text", "", "[method]\nbands = \"abc\"\n", "method.bands"),
    ("band_without_id", "", "[method]\nbands = [{lower = 0}]\n", "method.bands[1].band"),
    ("clamp_max_inf", "", "[method]\nclamp_max = inf\n", "method.clamp_max"),
    ("clamp_max_minus_inf", "", "[method]\nclamp_max = -inf\n", "method.clamp_max"),
    ("clamp_max_nan", "", "[method]\nclamp_max = nan\n", "method.clamp_max"),
    ("decimal_places_true", "", "[method]\ndecimal_places = true\n", "method.decimal_places"),
    ("kpi_seq_text", "", "[[exclusions]]\nbusiness_no = 1\nkpi_seq = \"abc\"\nreason = \"x\"\n",
     "exclusions.kpi_seq"),
    ("business_no_true", "", "[[exclusions]]\nbusiness_no = true\nreason = \"x\"\n", "exclusions.business_no"),
    ("reason_number", "", "[[exclusions]]\nbusiness_no = 1\nreason = 5\n", "exclusions.reason"),
]


@pytest.mark.parametrize(("case", "before", "after", "key"), STRATEGY_TYPE_ERRORS,
                         ids=[c[0] for c in STRATEGY_TYPE_ERRORS])
def test_strategy_wrong_type_named(case, before, after, key, tmp_path):
    path = tmp_path / "strategy.toml"
    path.write_text(before + STRATEGY_TABLE + after, encoding="utf-8")
    with pytest.raises(InputRejected) as rejected:
        load_strategy(path, "t/strategy.toml")
    keys = [problem.key for problem in rejected.value.problems]
    assert key in keys
    assert all(problem.source_file == "t/strategy.toml" for problem in rejected.value.problems)


def test_strategy_folder_rejected(tmp_path):
    (tmp_path / "t" / "strategy.toml").mkdir(parents=True)
    with pytest.raises(InputRejected) as rejected:
        discover(tmp_path)
    messages = [problem.message for problem in rejected.value.problems]
    assert any(m.startswith("t/strategy.toml: strategy.toml がフォルダです") for m in messages), messages


def test_strategy_cp932_asks_for_utf8(tmp_path):
    path = tmp_path / "strategy.toml"
    path.write_bytes(STRATEGY_TABLE.encode("cp932"))  # 架空市 is not valid UTF-8 in CP932 bytes
    with pytest.raises(InputRejected) as rejected:
        load_strategy(path, "t/strategy.toml")
    (problem,) = rejected.value.problems
    assert "UTF-8 で保存し直してください" in problem.rule_ja
    assert "save it as UTF-8" in problem.rule_en


# -- command line settings --------------------------------------------------------------------


def _cli_run(monkeypatch, capsys, **env: str) -> tuple[int, str]:
    from pipelines import cli

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = cli.main(["run"])
    return code, capsys.readouterr().err


def test_cli_warehouse_under_a_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    code, err = _cli_run(monkeypatch, capsys, KPI_WAREHOUSE=str(tmp_path / "plain" / "kpi.duckdb"))
    assert code == 1
    assert f"途中の {tmp_path / 'plain'} がフォルダではなくファイルです" in err
    assert "Traceback" not in err


def test_cli_warehouse_is_a_folder(tmp_path, monkeypatch, capsys, otaru_raw_dir):
    (tmp_path / "out.duckdb").mkdir()
    code, err = _cli_run(monkeypatch, capsys, KPI_RAW_DIR=str(otaru_raw_dir),
                         KPI_WAREHOUSE=str(tmp_path / "out.duckdb"))
    assert code == 1
    assert "はフォルダです。DuckDB ファイルのパス" in err
    # the check runs before the refresh, so nothing was staged beside it
    assert "年次更新を実行しています" not in err
    assert list(tmp_path.glob(".out.duckdb.*")) == []


def test_cli_reports_dir_is_a_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "reports").write_text("x", encoding="utf-8")
    code, err = _cli_run(monkeypatch, capsys, KPI_REPORTS_DIR=str(tmp_path / "reports"))
    assert code == 1
    assert f"環境変数 KPI_REPORTS_DIR の {tmp_path / 'reports'} はファイルです" in err


def test_cli_lock_timeout_not_a_number(monkeypatch, capsys):
    code, err = _cli_run(monkeypatch, capsys, KPI_LOCK_TIMEOUT_SECONDS="abc")
    assert code == 1
    assert "KPI_LOCK_TIMEOUT_SECONDS の値「abc」は秒数ではありません" in err
    assert "Traceback" not in err


# -- values too large for the DuckDB column --------------------------------------------------


def test_huge_number_cell_rejected(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    workbook, _ = _submission_workbook(tmp_path, [[2020, "0101", 1e30, "確定", "", "山田"]])
    workbook.save(raw / "t" / "a.xlsx")

    result = intake(raw)
    (problem,) = result.errors
    # 1e30 has 31 integer digits; kpi_value.value is DECIMAL(18, 6), so at most 12
    assert (problem.source_file, problem.line) == ("t/a.xlsx [報告]", 2)
    assert problem.value == "1e+30"
    assert "整数部は12桁までです" in problem.rule_ja


def test_csv_field_over_limit_rejected(tmp_path):
    comment = "あ" * 131073  # one character over the csv module's default field limit
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0101,12,確定,,山田,,\n2020,0201,75,確定,{comment},山田,,\n",
    })
    with pytest.raises(InputRejected) as rejected:
        intake(raw)
    (problem,) = rejected.value.problems
    # the long comment is on line 3 of a.csv
    assert (problem.source_file, problem.line) == ("t/a.csv", 3)
    assert "1つの欄が 131,072 文字を超える" in problem.rule_ja
    assert "a field is over 131,072 characters" in problem.rule_en


# -- era labels -------------------------------------------------------------------------------


def test_era_problems_in_one_run(tmp_path):
    rows = [
        "1,くらし,1,住宅事業,0101,改修棟数,棟,↗,H99,10,R99,30,,対象,,建築課",  # both years impossible
        MASTER_ROWS[1],
    ]
    raw = make_strategy(tmp_path / "raw" / "t", rows, {
        "a.csv": f"{SUBMISSION_HEADER}\nH35,0201,12,確定,,山田,,\n",
    })
    result = intake(raw)
    found = sorted((p.source_file, p.line, p.value) for p in result.errors)
    # every year as typed, from both files, in one run
    assert found == [("t/a.csv", 2, "H35"), ("t/master.csv", 2, "H99"), ("t/master.csv", 2, "R99")]
    assert not any("2087" in p.message for p in result.errors)  # H99 would be 1988 + 99


# -- entries of the input folder that are not files -------------------------------------------


def test_broken_link_named(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    (raw / "t" / "建築課.csv").symlink_to(tmp_path / "gone.csv")  # the target was moved away
    with pytest.raises(InputRejected) as rejected:
        discover(raw)
    (problem,) = rejected.value.problems
    assert problem.source_file == "t/建築課.csv"
    assert "リンク先のファイルがありません" in problem.rule_ja


def test_named_pipe_named(tmp_path):
    import os

    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {})
    os.mkfifo(raw / "t" / "pipe.csv")
    with pytest.raises(InputRejected) as rejected:
        discover(raw)
    (problem,) = rejected.value.problems
    assert problem.source_file == "t/pipe.csv"
    assert "通常のファイルではありません" in problem.rule_ja


def test_duplicate_strategy_id_names_folders(tmp_path):
    make_strategy(tmp_path / "raw" / "a", MASTER_ROWS, {})
    raw = make_strategy(tmp_path / "raw" / "b", MASTER_ROWS, {})  # the same strategy.toml: test-2020
    with pytest.raises(InputRejected) as rejected:
        discover(raw)
    (problem,) = rejected.value.problems
    assert problem.source_file == "b/strategy.toml"
    assert problem.key == "strategy.strategy_id"
    assert "同じ strategy_id が 2 つのフォルダ(a/、b/)にあります" in problem.rule_ja
    assert "項目「strategy.strategy_id」" in problem.message
    assert "列" not in problem.location_ja


def test_strategy_toml_syntax_names_line(tmp_path):
    path = tmp_path / "strategy.toml"
    path.write_text(STRATEGY_TABLE + "[method]\nrounding = half_up\n", encoding="utf-8")
    with pytest.raises(InputRejected) as rejected:
        load_strategy(path, "t/strategy.toml")
    (problem,) = rejected.value.problems
    # STRATEGY_TABLE starts with a blank line, so rounding = half_up (unquoted) is line 9
    assert (problem.line, problem.column) == (9, 12)
    assert "TOML の書き方が正しくありません" in problem.rule_ja
    assert "Error" not in problem.rule_ja


# -- no Python exception names in messages ------------------------------------------------------


def test_damaged_workbook_plain_wording(tmp_path):
    raw = make_strategy(tmp_path / "raw" / "t", MASTER_ROWS, {
        "a.xlsx": b"PK\x03\x04" + b"\x00" * 64,  # a zip header and nothing behind it
    })
    with pytest.raises(InputRejected) as rejected:
        discover(raw)
    (problem,) = rejected.value.problems
    assert problem.source_file == "t/a.xlsx"
    assert problem.rule_ja == "Excel ファイル(.xlsx)として開けません。ファイルが壊れているか、Excel のファイルではありません"


def test_publish_rejected_without_class_name():
    from evaluation.warehouse import PublishRejected
    from pipelines.cli import failure_lines

    cause = PublishRejected("公開しません / not published")
    lines = failure_lines(cause, "run-1", published=False)
    assert "  公開しません / not published" in lines
    assert not any("PublishRejected" in line for line in lines)


def test_out_of_memory_names_the_setting(tmp_path, monkeypatch):
    from pipelines.cli import failure_lines

    monkeypatch.setenv("KPI_DUCKDB_MEMORY_LIMIT", "256MB")
    connection = duckdb.connect(str(tmp_path / "small.duckdb"))
    # 4MB is below what DuckDB needs to sort 10^6 rows, so this raises its OutOfMemoryException.
    connection.execute("set memory_limit = '4MB'")
    connection.execute("set threads = 1")
    with pytest.raises(duckdb.OutOfMemoryException) as raised:
        connection.execute("select * from range(1000000) order by random()").fetchall()
    connection.close()

    lines = failure_lines(raised.value, "run-1", published=False)
    assert lines[1].startswith("  DuckDB のメモリが上限 256MB を超えました。環境変数 KPI_DUCKDB_MEMORY_LIMIT を大きくしてください")
    assert "raise KPI_DUCKDB_MEMORY_LIMIT" in lines[1]
    assert not any("予期しないエラー" in line for line in lines)


# -- published table: a business number twice ---------------------------------------------------


def test_published_business_no_twice(tmp_path):
    from evaluation.published_table import parse_published_table

    good = (Path(__file__).parent / "bad_inputs" / "_good" / "table.txt").read_text(encoding="utf-8")
    lines = good.splitlines()
    # line 8 is business No.4 (補助金額); give business No.3 on line 7 the number 1 as well
    assert lines[6].startswith("3\t")
    lines[6] = "1" + lines[6][1:]
    with pytest.raises(InputRejected) as rejected:
        parse_published_table("\n".join(lines), "case/table.txt")
    (problem,) = rejected.value.problems
    assert (problem.source_file, problem.line, problem.column, problem.value) == ("case/table.txt", 7, 1, "1")
    assert "事業No.1 は 5行目 にもあります" in problem.rule_ja


def test_staging_rejects_folder_path(tmp_path):
    from evaluation.warehouse import PublishRejected, Warehouse

    (tmp_path / "kpi.duckdb").mkdir()
    # a Dagster UI run does not go through the command line's check, so the first staging write checks
    with pytest.raises(PublishRejected, match="はフォルダです"):
        Warehouse(tmp_path / "kpi.duckdb").start_staging("run-1")
    assert list(tmp_path.glob(".kpi.duckdb.*")) == []


def test_unknown_master_unit_stops_run(tmp_path):
    # the master's 単位 written as full-width ％: no range rule would check 150 against 0-100
    rows = [MASTER_ROWS[0], MASTER_ROWS[1].replace(",%,", ",％,")]
    raw = make_strategy(tmp_path / "raw" / "t", rows, {
        "a.csv": f"{SUBMISSION_HEADER}\n2020,0201,150,確定,,山田,,\n",
    })
    outcome = refresh(raw, tmp_path / "out" / "kpi.duckdb", raise_on_error=False)
    messages = _check_messages(outcome, "kpi_unit_known")
    assert not outcome.success
    assert len(messages) == 1
    assert "KPIの単位「％」は既知の単位ではありません" in messages[0]
    assert messages[0].startswith("t/master.csv")


# -- command line: text from input files ---------------------------------------------------------


OTARU_TABLE_NAME = "000_5dbc621b8e05bc0a.txt"


def _edit_otaru_line(raw_dir: Path, line_no: int, edit) -> None:
    """Replace line ``line_no`` (1-based) of the copied Otaru table with ``edit(line)``."""
    table = raw_dir / "otaru" / OTARU_TABLE_NAME
    lines = table.read_text(encoding="utf-8").split("\n")
    lines[line_no - 1] = edit(lines[line_no - 1])
    table.write_text("\n".join(lines), encoding="utf-8")


def test_cli_project_no_twice_named(otaru_raw_dir, tmp_path, monkeypatch, capsys):
    # line 25 is the heading (2) 樽っ子プライド育成プロジェクト, and project (1)'s heading is line 3
    _edit_otaru_line(otaru_raw_dir, 25, lambda line: line.replace("(2)", "(1)"))
    warehouse = tmp_path / "out" / "kpi.duckdb"
    code, err = _cli_run(monkeypatch, capsys, KPI_RAW_DIR=str(otaru_raw_dir), KPI_WAREHOUSE=str(warehouse))
    assert code == 1
    assert (f"  - otaru/{OTARU_TABLE_NAME} 25行目 1列目: 値「(1) 樽っ子プライド育成プロジェクト」: "
            "プロジェクト(1) は 3行目 にもあります。") in err
    assert f" / otaru/{OTARU_TABLE_NAME}, line 25, column 1: value '(1) 樽っ子プライド育成プロジェクト': " in err
    # before the fix, DuckDB's primary key on published_summary stopped the run
    assert "Constraint" not in err
    assert "予期しないエラー" not in err
    assert not warehouse.exists()


def test_cli_carriage_return_printed_as_fffd(otaru_raw_dir, tmp_path, monkeypatch, capsys):
    def insert_cr(line: str) -> str:
        # column 3 of line 7 is business No.1's summary, and the CR goes after its fifth character 老朽化した
        cells = line.split("\t")
        cells[2] = cells[2][:5] + "\r" + cells[2][5:]
        return "\t".join(cells)

    _edit_otaru_line(otaru_raw_dir, 7, insert_cr)
    code, err = _cli_run(monkeypatch, capsys, KPI_RAW_DIR=str(otaru_raw_dir),
                         KPI_WAREHOUSE=str(tmp_path / "out" / "kpi.duckdb"))
    assert code == 1
    assert (f"  - otaru/{OTARU_TABLE_NAME} 7行目 3列目: "
            "値「老朽化した\ufffd市営住宅の改修や建替を計画的に進める事業」: "
            "セルの6文字目に改行か制御の文字 U+000D があります。") in err
    assert "\r" not in err


def test_cli_summary_control_characters_as_fffd(otaru_raw_dir, tmp_path, monkeypatch, capsys):
    from evaluation.reports.safety import TERMINAL_CONTROLS
    from pipelines import cli

    toml = otaru_raw_dir / "otaru" / "strategy.toml"
    text = toml.read_text(encoding="utf-8")
    # TOML escapes: ESC [2J clears the screen, ESC [31m turns text red, CR returns to the line start, BEL rings
    text = text.replace('name = "小樽市まち・ひと・しごと創生総合戦略"',
                        'name = "小樽市\\u001b[2J\\u001b[31m戦略\\r偽\\u0007"')
    # OSC 0 (ESC ] 0 ; title BEL) sets the window title, and U+009B is CSI in one character
    text = text.replace('reason = "公表された', 'reason = "\\u001b]0;title\\u0007\\u009b31m公表された')
    toml.write_text(text, encoding="utf-8")
    monkeypatch.setenv("KPI_RAW_DIR", str(otaru_raw_dir))
    monkeypatch.setenv("KPI_WAREHOUSE", str(tmp_path / "out" / "kpi.duckdb"))

    assert cli.main(["run"]) == 0
    out, err = capsys.readouterr()
    lines = out.split("\n")
    # the strategy's line: municipality, name, strategy_id and its last scored year H31 (FY2019)
    assert "小樽市 小樽市\ufffd[2J\ufffd[31m戦略\ufffd偽\ufffd (otaru-2015) H31年度 (FY2019)" in lines
    # business No.4's exclusion reason, in the published_figures_agree warning on line 10 of the table
    assert any("集計対象外: \ufffd]0;title\ufffd\ufffd31m公表された評価表で集計対象外" in line for line in lines)
    # no control character but the line feeds between lines reaches the terminal
    assert TERMINAL_CONTROLS.search(out.replace("\n", "")) is None
    assert TERMINAL_CONTROLS.search(err.replace("\n", "")) is None


def test_cli_log_lines_replace_controls():
    import logging

    from pipelines.cli import TerminalSafeFormatter

    formatter = TerminalSafeFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("evaluation.sources", logging.WARNING, __file__, 1,
                               "skipped hidden or lock file %s", ("t/.\x1b[2J.csv",), None)
    assert formatter.format(record) == "WARNING skipped hidden or lock file t/.\ufffd[2J.csv"
    # a message of two lines keeps its line feed; the BEL after it does not
    two_lines = logging.LogRecord("evaluation", logging.WARNING, __file__, 1, "1行目\n2行目\x07", None, None)
    assert formatter.format(two_lines) == "WARNING 1行目\n2行目\ufffd"
