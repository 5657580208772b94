"""DuckDB reads a KPI master as the Python reader does, or leaves it to the Python reader."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from evaluation.intake import bulk_master
from evaluation.intake.formats import load_intake
from evaluation.sources import discover

STRATEGY_TOML = """
[strategy]
strategy_id = "master-2020"
municipality = "架空市"
name = "架空市総合戦略"
first_fiscal_year = 2020
last_fiscal_year = 2024
"""
HEADER = ("プロジェクトNo.,プロジェクト名,事業No.,事業名,KPIコード,KPI名,単位,方向,"
          "基準年度,基準値,目標年度,目標値,累計,集計対象,除外理由,担当課")
PLAIN = "1,くらし,1,住宅事業,0101,改修棟数,棟,↗,2019,10,2024,30,,対象,,建築課"
SECOND = "2,しごと,2,雇用事業,0201,就業率,%,増加,H31,70.5,R6,80,,対象,,商工課"
SUBMISSION = "年度,KPIコード,担当課,実績値,状態,要因分析,提出者,修正,修正理由\n2020,0101,,18,確定,,山田,,\n"


def write_folder(tmp_path: Path, master_text: str, encoding: str = "utf-8") -> Path:
    folder = tmp_path / "raw" / "master"
    folder.mkdir(parents=True)
    (folder / "strategy.toml").write_text(STRATEGY_TOML, encoding="utf-8")
    (folder / "master.csv").write_bytes(master_text.encode(encoding))
    (folder / "r2.csv").write_text(SUBMISSION, encoding="utf-8")
    return folder.parent


def read_both(raw: Path) -> tuple[list[dict], bool, list[dict], set[str]]:
    """Read one raw folder with both readers: (Python kpi rows, Python found errors, DuckDB kpi rows, ids read)."""
    strategies, files = discover(raw)
    python = load_intake(strategies[0], files)
    connection = duckdb.connect()
    read = bulk_master.read_masters(connection, strategies, files)
    cursor = connection.execute("select * from bulk_kpi order by source_line")
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return python.tables.get("kpi", []), bool(python.errors), rows, read


def comparable(row: dict) -> dict:
    """Return the row with decimal text as Decimal, as DuckDB returns the DECIMAL columns."""
    return {name: Decimal(value) if name.endswith("_value") and value is not None else value
            for name, value in row.items()}


# One KPI row per case, below the plain row. Each master is read by both readers.
CASES = [
    "2,しごと,2,雇用事業,0201,就業率,%,増加,H31,70.5,R6,80,,対象,,商工課",
    "１,くらし,２,学び事業,０２０１,理解度,%,↗,平成31年度,７０．５,令和6年度,８０％,,対象,,学校教育課",
    '1,くらし,2,学び事業,0201,受講者数,人,↘,2019,"1,199人",2024,900,,対象,,学校教育課',
    "1,くらし,2,学び事業,0201,満足度,点,維持,2019,▲5,2024,−5,,対象,,",
    "1,くらし,2,学び事業,0201,累計件数(累計),件,→,2019,10,2024,10,○,対象,,",
    "1,くらし,2,学び事業,0201,累計件数,件,↗,2019,10,2024,20,累計,,,",
    "1,くらし,2,学び事業,0201,廃止事業,件,↗,2019,—,2024,20,×,除外,事業を廃止したため,",
    "1,くらし,2,学び事業,0201,未確定,件,↗,2019,未確定,2024,20,,除外,集計方法を変更,",
    "1,くらし,2,学び事業,0201\u3000,全角空白,件,↗,2019,10,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,概要つき,件,↗,2019,  10  ,2024,20件,,対象,, 建築課 ",
    "※ 単位のない値はKPIの単位で読みます",
    "",
    # Rows the Python reader rejects: the master must be left to it.
    "1,くらし,2,学び事業,0201,除外理由なし,件,↗,2019,10,2024,20,,除外,,",
    "1,くらし,2,学び事業,0201,対象で理由あり,件,↗,2019,10,2024,20,,対象,理由,",
    "1,くらし,2,学び事業,0201,単位違い,件,↗,2019,10人,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,年度が逆,件,↗,2024,10,2019,20,,対象,,",
    "1,くらし,2,学び事業,0201,目標が基準と同じ,件,↗,2019,10,2024,10.0,,対象,,",
    "1,くらし,1,住宅事業,0101,重複,件,↗,2019,10,2024,20,,対象,,",
    "1,くらし,1,別の名前,0201,事業名が違う,件,↗,2019,10,2024,20,,対象,,",
    "2,しごと,1,住宅事業,0201,プロジェクトが違う,件,↗,2019,10,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,方向が読めない,件,上,2019,10,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,,件,↗,2019,10,2024,20,,対象,,",
    "1.5,くらし,2,学び事業,0201,小数の番号,件,↗,2019,10,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,年度が範囲外,件,↗,1900,10,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,空の基準値,件,↗,2019,,2024,20,,対象,,",
    "1,くらし,2,学び事業,0201,桁区切り違い,件,↗,2019,\"1,2,3\",2024,20,,対象,,",
    # Forms the SQL leaves to the Python reader whatever the Python reader decides.
    "99999999999,くらし,2,学び事業,0201,大きな番号,件,↗,2019,10,2024,20,,対象,,",
    '1,くらし,2,学び事業,0201,"改行を含む\nKPI名",件,↗,2019,10,2024,20,,対象,,',
    '1,くらし,2,学び事業,0201,引用符"途中,件,↗,2019,10,2024,20,,対象,,',
]


@pytest.mark.parametrize("line", CASES)
def test_bulk_master_matches_python(tmp_path: Path, line: str):
    master_text = "\n".join([HEADER, PLAIN, line]) + "\n"
    python_rows, python_failed, bulk_rows, read = read_both(write_folder(tmp_path, master_text))

    if python_failed:
        assert read == set()
        assert bulk_rows == []
    elif not read:
        assert bulk_rows == []
    else:
        assert [comparable(r) for r in bulk_rows] == [comparable(r) for r in python_rows]


def test_bulk_master_reads_plain_master(tmp_path: Path):
    # Plain rows, a CP932 file and CRLF line ends: DuckDB reads the master itself and writes the same rows.
    # CP932 has no ↗ and no U+2212 MINUS SIGN, so the rows use the words and ▲.
    third = "2,しごと,2,雇用事業,0202,満足度,点,維持,2019,▲5,2024,－5,,対象,,"
    master_text = "\r\n".join([HEADER, PLAIN.replace("↗", "増加"), SECOND, third]) + "\r\n"
    python_rows, python_failed, bulk_rows, read = read_both(write_folder(tmp_path, master_text, "cp932"))

    assert not python_failed
    assert read == {"master-2020"}
    assert len(bulk_rows) == 3
    assert [comparable(r) for r in bulk_rows] == [comparable(r) for r in python_rows]


@pytest.mark.parametrize(("case", "master_text"), [
    ("title row above the header", "\n".join(["架空市 KPIマスター", HEADER, PLAIN]) + "\n"),
    ("expected-value column", "\n".join([HEADER + ",期待値(R2)", PLAIN + ",15"]) + "\n"),
    ("no KPI rows", HEADER + "\n"),
])
def test_bulk_master_leaves_to_python(tmp_path: Path, case: str, master_text: str):
    _, _, bulk_rows, read = read_both(write_folder(tmp_path, master_text))

    assert read == set(), case
    assert bulk_rows == [], case


def test_bulk_master_leaves_lone_cr_to_python(tmp_path: Path):
    # A lone CR ends the header line: Python's csv module ends the record there, the LF split does not.
    _, _, bulk_rows, read = read_both(write_folder(tmp_path, "\r".join([HEADER, PLAIN]) + "\n" + SECOND + "\n"))

    assert read == set()
    assert bulk_rows == []
