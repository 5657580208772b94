"""The DuckDB bulk reader writes what the Python reader writes, or hands the strategy back to it."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.intake import bulk
from evaluation.intake.formats import load_intake
from evaluation.sources import discover

SUBMISSION_HEADER = "年度,KPIコード,担当課,実績値,状態,要因分析,提出者,修正,修正理由"
STRATEGY_TOML = """
[strategy]
strategy_id = "bulk-2020"
municipality = "架空市"
name = "架空市総合戦略"
first_fiscal_year = 2020
last_fiscal_year = 2024
"""
MASTER = """\
プロジェクトNo.,プロジェクト名,事業No.,事業名,KPIコード,KPI名,単位,方向,\
基準年度,基準値,目標年度,目標値,累計,集計対象,除外理由,担当課
1,くらし,1,住宅事業,0101,改修棟数,棟,↗,2019,10,2024,30,,対象,,建築課
1,くらし,2,学び事業,0201,理解度,%,増加,H31,70.5,R6,80,,対象,,学校教育課
"""
COMPARED = ("kpi_id", "fiscal_year", "value", "unit", "value_status", "value_text", "source_file", "source_line",
            "source_column", "note", "report_status", "comment", "submitted_by", "is_correction",
            "correction_reason")


def read_both(raw: Path) -> tuple[list[dict], bool, list[dict], set[str]]:
    """Read one raw folder with both readers: (Python rows, Python found errors, bulk rows, unsure strategies)."""
    strategies, files = discover(raw)
    python = load_intake(strategies[0], files)
    connection = duckdb.connect()
    masters = bulk.read_masters(strategies, files)
    result = bulk.load_bulk(connection, strategies, files, masters)
    cursor = connection.execute("select * from bulk_kpi_value")
    names = [column[0] for column in cursor.description]
    bulk_rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return python.tables["kpi_value"], bool(python.errors), bulk_rows, result.unsure


def comparable(row: dict) -> tuple:
    value = row["value"]
    return tuple(Decimal(value) if name == "value" and value is not None else row[name] for name in COMPARED)


def write_folder(tmp_path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    folder = tmp_path / "raw" / "bulk"
    folder.mkdir(parents=True)
    (folder / "strategy.toml").write_text(STRATEGY_TOML, encoding="utf-8")
    (folder / "master.csv").write_text(MASTER, encoding="utf-8")
    (folder / "r2.csv").write_text("\n".join([SUBMISSION_HEADER, *lines]) + "\n", encoding=encoding)
    return folder.parent


# One submission row per case: (KPI code, 実績値, 状態). Each is read by both readers.
CASES = [
    ("0101", "18", "確定"),
    ("0101", '"1,199"', "確定"),  # quoted, as CSV writers quote a grouped number
    ("0101", '"1,199棟"', "確定"),
    ("0101", "１，１９９", "確定"),  # full-width digits and comma, folded by NFKC
    ("0101", "−5", "確定"),  # U+2212 MINUS SIGN
    ("0101", "▲5", "速報"),
    ("0101", "△5", "確定"),
    ("0101", "12.5", "確定"),
    ("0101", "  12.5  ", "確定"),
    ("0201", "75.85%", "確定"),
    ("0201", "７５．８５％", "確定"),
    ("0101", "", "未確定"),
    ("0101", "—", "未確定"),  # U+2014, the published table's mark: no note
    ("0101", "―", "未確定"),  # U+2015: a note names it
    ("0101", "ー", "未確定"),
    ("0101", "－", "未確定"),  # U+FF0D: the note names it as written, not as folded
    ("0101", "未確定", "未確定"),
    ("0101", "(後日報告)", "後日報告"),
    ("0101", "（後日報告）棟", "後日報告"),
    ("0101", "", "(後日報告)"),
    # Rows the Python reader rejects: the bulk reader must hand the strategy back.
    ("0101", "1,2,3", "確定"),  # misplaced thousands separators
    ("0101", "1.1234567", "確定"),  # seven decimal places
    ("0101", "5人", "確定"),  # another unit than the KPI's 棟
    ("0101", "75.85%", "確定"),  # a percentage for a 棟 KPI
    ("0101", "", "確定"),  # confirmed without a value
    ("0101", "5", "未確定"),  # undetermined with a value
    ("0101", "5", "済み"),  # not a status word
    ("9999", "5", "確定"),  # not in the master
    # Forms the SQL does not fold: the Python reader reads them either way.
    ("0101", "5\u3000棟", "確定"),  # an ideographic space
    ("0101", "５㎡", "確定"),  # NFKC turns ㎡ into m2
    ("0101", "\u00a05", "確定"),  # a leading no-break space
]


@pytest.mark.parametrize(("kpi_id", "actual", "status"), CASES)
def test_bulk_row_matches_python(tmp_path: Path, kpi_id: str, actual: str, status: str):
    line = f"2020,{kpi_id},,{actual},{status},,山田,,"
    python_rows, python_failed, bulk_rows, unsure = read_both(write_folder(tmp_path, [line]))

    if python_failed:
        assert unsure == {"bulk-2020"}
        assert bulk_rows == []
    elif unsure:
        assert bulk_rows == []  # the Python reader reads it; nothing was written twice
    else:
        assert [comparable(r) for r in bulk_rows] == [comparable(r) for r in python_rows]


def test_bulk_reads_plain_rows_itself(tmp_path: Path):
    # Three plain rows: the bulk reader keeps the strategy (no fallback) and writes the same three values.
    lines = ["2020,0101,建築課,18,確定,,山田,,", "R3,0101,建築課,19棟,速報,\"着工, 遅れ\",山田,,",
             "2021,0201,,75.85%,確定,,佐藤,,"]
    python_rows, python_failed, bulk_rows, unsure = read_both(write_folder(tmp_path, lines))

    assert not python_failed
    assert unsure == set()
    assert sorted(comparable(r) for r in bulk_rows) == sorted(comparable(r) for r in python_rows)
    assert len(bulk_rows) == 3


def test_bulk_resolves_correction_like_python(tmp_path: Path):
    # A provisional 18 in line 2, then a correction to 20 in line 3: both readers keep 20 as current.
    lines = ["2020,0101,,18,速報,,山田,,", "2020,0101,,20,確定,,山田,修正,集計漏れ"]
    python_rows, _, bulk_rows, unsure = read_both(write_folder(tmp_path, lines))

    assert unsure == set()
    assert [comparable(r) for r in bulk_rows] == [comparable(r) for r in python_rows]
    assert bulk_rows[0]["value"] == Decimal("20")


def test_bulk_hands_back_conflict(tmp_path: Path):
    # Two confirmed values that differ, no correction mark: the Python reader writes the message.
    lines = ["2020,0101,,18,確定,,山田,,", "2020,0101,,20,確定,,山田,,"]
    _, python_failed, bulk_rows, unsure = read_both(write_folder(tmp_path, lines))

    assert python_failed
    assert unsure == {"bulk-2020"}
    assert bulk_rows == []


def test_bulk_reads_cp932_and_bom(tmp_path: Path):
    # The same row as CP932 and as UTF-8 with a byte order mark gives the Python reader's row.
    for number, encoding in enumerate(("cp932", "utf-8-sig")):
        raw = write_folder(tmp_path / str(number), ["令和2年度,0101,建築課,①の結果 18棟,確定,,髙橋,,",
                                                    "2021,0101,建築課,18棟,確定,①の結果,髙橋,,"], encoding)
        python_rows, python_failed, bulk_rows, unsure = read_both(raw)

        assert python_failed  # "①の結果 18棟" is not a value
        assert unsure == {"bulk-2020"}
        raw = write_folder(tmp_path / f"{number}-ok", ["2021,0101,建築課,18棟,確定,①の結果,髙橋,,"], encoding)
        python_rows, python_failed, bulk_rows, unsure = read_both(raw)

        assert not python_failed
        assert unsure == set()
        assert [comparable(r) for r in bulk_rows] == [comparable(r) for r in python_rows]


INGEST_IMPORT_PROBE = """
import importlib, pkgutil, sys
import evaluation.intake
for module in pkgutil.iter_modules(evaluation.intake.__path__):
    importlib.import_module("evaluation.intake." + module.name)
import assets.normalized.kpi_tables, assets.normalized.strategy, assets.raw.source_file
import evaluation.normalize, evaluation.sources
print("pandas" in sys.modules)
"""


def test_ingest_modules_import_without_pandas():
    completed = subprocess.run([sys.executable, "-c", INGEST_IMPORT_PROBE], cwd=Path(__file__).parent.parent,
                               capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "False"


ROWS = ["2020,0101,建築課,18,確定,,山田,,", "2020,0201,学校教育課,75.5%,確定,,佐藤,,"]
WHOLE = "\n".join([SUBMISSION_HEADER, *ROWS]) + "\n"


# Files whose records Python's csv module does not end at each LF, or cannot read at all.
# The bulk reader splits lines at LF, so it must hand each of these strategies back.
@pytest.mark.parametrize(("case", "text"), [
    ("CR line ends (Excel for Mac's CSV)", WHOLE.replace("\n", "\r")),
    ("a lone CR ends the header line", WHOLE.replace("\n", "\r", 1)),
    ("a quote left open in the header line", WHOLE.replace(SUBMISSION_HEADER, SUBMISSION_HEADER + ',"メモ', 1)),
    ("a CR inside a blank row", "\n".join([SUBMISSION_HEADER, ",,,,\r,,,,", *ROWS]) + "\n"),
    # below the 31 records that recognizing a file parses, so discover() does not see it
    ("a field over csv.field_size_limit()", "\n".join([SUBMISSION_HEADER, *[ROWS[1]] * 40,
                                                       ROWS[0].replace("山田", "x" * 140_000)]) + "\n"),
])
def test_bulk_hands_back_lines_csv_splits_otherwise(tmp_path: Path, case: str, text: str):
    folder = write_folder(tmp_path, [])
    (folder / "bulk" / "r2.csv").write_bytes(text.encode("utf-8"))
    _, _, bulk_rows, unsure = read_both(folder)

    assert unsure == {"bulk-2020"}, case
    assert bulk_rows == [], case
