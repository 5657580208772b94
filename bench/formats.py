"""Time the readers of one submission in each file format: `python -m bench.formats`.

Writes 10,000 submission rows (one 10^4 benchmark submission, repeated) as
CSV, .xlsx and Parquet under data/bench/formats/, then prints the median of
REPEATS reads with the Python reader's grid, openpyxl and DuckDB.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from bench.generate import generate
from evaluation.intake.sheets import read_csv, read_workbook

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDER = PROJECT_ROOT / "data" / "bench" / "formats"
REPEATS = 3
COPIES = 100  # of one 100-row submission: 10,000 rows


def median_seconds(read: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        read()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    import openpyxl

    generate(FOLDER / "raw", 10_000)
    source = FOLDER / "raw" / "synth-00001" / "submission_2016.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    rows = [header, *body * COPIES]
    csv_path, xlsx_path, parquet_path = FOLDER / "s.csv", FOLDER / "s.xlsx", FOLDER / "s.parquet"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(xlsx_path)
    connection = duckdb.connect()
    connection.execute(f"copy (select * from read_csv(?, all_varchar = true)) to '{parquet_path}'", [str(csv_path)])

    timings = {
        ".xlsx, openpyxl (read_workbook)": lambda: read_workbook(xlsx_path, xlsx_path.name),
        "CSV, Python grid (read_csv)": lambda: read_csv(csv_path, csv_path.name),
        "CSV, DuckDB read_csv(all_varchar)": lambda: connection.execute(
            "select count(*), max(\"実績値\") from read_csv(?, all_varchar = true)", [str(csv_path)]).fetchall(),
        "Parquet, DuckDB": lambda: connection.execute(
            f"select count(*), max(\"実績値\") from read_parquet('{parquet_path}')").fetchall(),
    }
    for name, read in timings.items():
        print(f"| {name} | {median_seconds(read):.4f} |")  # noqa: T201 (the benchmark's output)


if __name__ == "__main__":
    main()
