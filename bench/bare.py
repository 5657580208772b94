"""The floor of a refresh: load, score, summarize and write the same files with DuckDB alone.

`python -m bench.bare RAW OUT` prints the seconds after import. It reads every
KPI master and submission CSV under RAW with DuckDB's CSV reader, converts the
actuals with one regular expression (no full cell rules, no merge, no
messages), scores progress and achievement, averages per project and year, and
writes the two tables to a DuckDB file. CP932 files are decoded by Python
into UTF-8 copies first, because DuckDB reads CP932 only through an extension
that is downloaded on first use.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# Fold full-width digits and signs, drop thousands separators, read ▲ △ − as minus.
NUMBER_SQL = r"""
try_cast(nullif(regexp_extract(
    replace(replace(replace(replace(translate(trim({column}), '０１２３４５６７８９，．％－', '0123456789,.%-'),
        ',', ''), '▲', '-'), '△', '-'), '−', '-'),
    '^(-?[0-9]+(\.[0-9]+)?)', 1), '') as decimal(18, 6))
"""

SCORE_SQL = f"""
create table kpi_score as
with master as (
    select
        regexp_extract(filename, '([^/]+)/[^/]+$', 1) as strategy_id,
        "KPIコード" as kpi_id,
        try_cast("プロジェクトNo." as integer) as project_no,
        "方向" as direction,
        {NUMBER_SQL.format(column='"基準値"')} as baseline_value,
        {NUMBER_SQL.format(column='"目標値"')} as target_value
    from master_csv
),
actual as (
    select
        regexp_extract(filename, '([^/]+)/[^/]+$', 1) as strategy_id,
        "KPIコード" as kpi_id,
        "年度" as fiscal_year_text,
        {NUMBER_SQL.format(column='"実績値"')} as value
    from submission_csv
    where "状態" in ('確定', '速報')
),
final as (
    select
        actual.strategy_id,
        actual.kpi_id,
        actual.fiscal_year_text,
        master.project_no,
        case
            when master.direction in ('→', '維持') then round(actual.value * 100 / master.target_value, 2)
            else round((actual.value - master.baseline_value) * 100
                       / nullif(master.target_value - master.baseline_value, 0), 2)
        end as raw_score
    from actual
    join master using (strategy_id, kpi_id)
)
select * from final
"""

SUMMARY_SQL = """
create table project_summary as
select strategy_id, project_no, fiscal_year_text, count(*) as kpis, round(avg(greatest(-100, least(100, raw_score))), 2)
from kpi_score
group by all
"""


def utf8_copies(paths: list[Path], folder: Path) -> list[str]:
    """Return paths DuckDB can read as UTF-8, writing a copy of each file that is not."""
    readable = []
    for number, path in enumerate(paths):
        data = path.read_bytes()
        try:
            data.decode("utf-8")
            readable.append(str(path))
        except UnicodeDecodeError:
            copy = folder / path.parent.name / f"{number}.csv"
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(data.decode("cp932"), encoding="utf-8")
            readable.append(str(copy))
    return readable


def main(raw_dir: Path, output: Path) -> float:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        masters = utf8_copies(sorted(raw_dir.glob("*/kpi_master.csv")), Path(scratch))
        submissions = utf8_copies(sorted(raw_dir.glob("*/submission_*.csv")), Path(scratch))
        output.unlink(missing_ok=True)
        connection = duckdb.connect(str(output))
        for name, files in (("master_csv", masters), ("submission_csv", submissions)):
            connection.execute(
                f"create temp table {name} as select * from read_csv(?, all_varchar = true, header = true, "
                "filename = true, union_by_name = true)", [files])
        connection.execute(SCORE_SQL)
        connection.execute(SUMMARY_SQL)
        connection.close()
    return time.perf_counter() - started


if __name__ == "__main__":
    print(json.dumps({"seconds": main(Path(sys.argv[1]), Path(sys.argv[2]))}))  # noqa: T201 (the benchmark's output)
