"""The benchmark behind docs/performance.md: `make bench` (`python -m bench.run [--sizes ...]`).

For each size it generates synthetic strategies under data/bench/ (git-ignored),
runs the real annual_refresh job in a fresh process (bench/refresh.py) and
prints per stage the wall time and peak RSS. It also measures, on this
machine and in the same run, the floors the issue compares against:

- the import floor: one process importing dagster, great_expectations, duckdb and pandas;
- the Otaru refresh: `python -m pipelines.cli run` on data/raw/otaru, as `make run` does;
- the bare DuckDB floor of a size: bench/bare.py on the same files;
- the scoring query alone: sql/scores/kpi_score.sql on the refreshed file;
- `dagster definitions validate` beside `python -c "import dagster"`, and the
  same command on an empty `Definitions()`: what the Dagster command costs by itself.

Each start-up figure is the median of REPEATS runs. The results replace the
section between BEGIN_MARK and END_MARK of docs/performance.md, and leave the
rest of the page as it is.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import generate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_ROOT / "data" / "bench"
PERFORMANCE_DOC = PROJECT_ROOT / "docs" / "performance.md"
BEGIN_MARK = "<!-- bench:begin (bench/run.py writes this section) -->"
END_MARK = "<!-- bench:end -->"

DEFAULT_SIZES = (10_000, 1_741_000)
NATIONAL_SIZE = 1_741_000
LARGEST_SIZE = 17_410_000
# peak RSS goals by size, in bytes
MEMORY_GOALS = {NATIONAL_SIZE: 3 * 2**30, LARGEST_SIZE: 8 * 2**30}
REPEATS = 3
STAGES = ("ingest", "validate", "score", "summarize", "publish", "reports")
PYTHON = sys.executable


def median_seconds(command: list[str], env: dict | None = None, repeats: int = REPEATS,
                   check: bool = True) -> float:
    """Run ``command`` ``repeats`` times; return the median wall time in seconds.

    With ``check`` false a failing command is timed too, and the time is returned negative.
    """
    times = []
    failed = False
    for _ in range(repeats):
        started = time.perf_counter()
        completed = subprocess.run(command, check=check, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        failed = failed or completed.returncode != 0
    return -statistics.median(times) if failed else statistics.median(times)


def import_floor() -> float:
    return median_seconds([PYTHON, "-c", "import dagster, great_expectations, duckdb, pandas"])


def otaru_environment(scratch: Path, name: str) -> dict[str, str]:
    """Build the environment of a refresh of data/raw/otaru with its own DAGSTER_HOME and outputs under ``name``."""
    home = scratch / f"{name}_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "pipelines" / "dagster.yaml", home / "dagster.yaml")
    raw = scratch / "otaru-raw"
    shutil.copytree(PROJECT_ROOT / "data" / "raw" / "otaru", raw / "otaru", dirs_exist_ok=True)
    return {**os.environ, "DAGSTER_HOME": str(home), "KPI_RAW_DIR": str(raw),
            "KPI_WAREHOUSE": str(scratch / name / "kpi.duckdb"), "KPI_REPORTS_DIR": str(scratch / name / "reports")}


def otaru_refresh(scratch: Path, engine: str = "duckdb") -> float:
    """Time `python -m pipelines.cli run` on data/raw/otaru, as `make run` runs it, with validation ``engine``."""
    env = {**otaru_environment(scratch, f"otaru_{engine}"), "KPI_VALIDATION_ENGINE": engine}
    return median_seconds([PYTHON, "-m", "pipelines.cli", "run"], env=env)


def executors(scratch: Path) -> dict[str, float]:
    """Time the Otaru refresh from the CLI under the in-process and the multiprocess executor."""
    env = otaru_environment(scratch, "executors")
    from pipelines.partitions import all_fiscal_years_tags

    dagster = str(Path(PYTHON).parent / "dagster")
    tags = json.dumps(all_fiscal_years_tags())  # every fiscal-year partition, as `make run` refreshes
    return {
        job: median_seconds([dagster, "job", "execute", "-f", "bench/executors.py", "-j", job, "--tags", tags],
                            env=env, check=False)
        for job in ("refresh_in_process", "refresh_multiprocess")
    }


def definitions_validate(scratch: Path) -> tuple[float, float, float]:
    """Median seconds of `dagster definitions validate` on this project and on an empty
    ``Definitions()``, and of `python -c "import dagster"`."""
    dagster = str(Path(PYTHON).parent / "dagster")
    validate = median_seconds([dagster, "definitions", "validate", "-m", "pipelines.definitions"])
    empty = scratch / "empty_definitions.py"
    empty.write_text("import dagster as dg\n\ndefs = dg.Definitions()\n", encoding="utf-8")
    empty_validate = median_seconds([dagster, "definitions", "validate", "-f", str(empty)])
    return validate, empty_validate, median_seconds([PYTHON, "-c", "import dagster"])


def run_json(command: list[str]) -> tuple[dict, float]:
    """Run a bench child process; return the JSON it prints and its wall time."""
    started = time.perf_counter()
    completed = subprocess.run(command, check=True, cwd=PROJECT_ROOT, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def scoring_query_seconds(warehouse: Path) -> float:
    """Time sql/scores/kpi_score.sql alone on a refreshed file (median of REPEATS)."""
    import duckdb

    from evaluation.warehouse import create_macros, read_sql

    query = read_sql("scores/kpi_score.sql")
    connection = duckdb.connect(str(warehouse), read_only=True)
    create_macros(connection)
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        connection.execute(f"select count(*) from ({query})").fetchall()
        times.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(times)


def measure_size(kpi_years: int, seed: int) -> dict:
    raw = BENCH_DIR / f"raw-{kpi_years}"
    output = BENCH_DIR / f"out-{kpi_years}"
    started = time.perf_counter()
    layout = generate(raw, kpi_years, seed)
    generated = time.perf_counter() - started
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)

    refresh, process_seconds = run_json([PYTHON, "-m", "bench.refresh", str(raw), str(output)])
    if not refresh["success"]:
        raise RuntimeError(f"the refresh of {kpi_years} KPI-years failed: {refresh['failures']}")
    bare, bare_process = run_json([PYTHON, "-m", "bench.bare", str(raw), str(output / "bare.duckdb")])
    return {
        "kpi_years": layout.kpi_years,
        "strategies": layout.strategies,
        "generate_seconds": generated,
        "refresh": refresh,
        "refresh_process_seconds": process_seconds,
        "bare_seconds": bare["seconds"],
        "scoring_query_seconds": scoring_query_seconds(output / "kpi.duckdb"),
    }


def mebibytes(count: int) -> str:
    return f"{count / 2**20:,.0f}"


def table_lines(results: list[dict], floors: dict) -> list[str]:
    """Write the measurements as markdown lines."""
    lines = [
        "| KPI-years | strategies | " + " | ".join(f"{s} s / MiB" for s in STAGES)
        + " | refresh process s | peak RSS MiB | µs per KPI-year | bare DuckDB s |",
        "| ---: | ---: | " + " | ".join("---:" for _ in STAGES) + " | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        stages = result["refresh"]["stages"]
        cells = [
            f"{stages[s]['seconds']:.2f} / {mebibytes(stages[s]['peak_rss'])}" if stages[s]["steps"] else "—"
            for s in STAGES
        ]
        per_kpi_year = result["refresh_process_seconds"] / result["kpi_years"] * 1e6
        lines.append(
            f"| {result['kpi_years']:,} | {result['strategies']:,} | " + " | ".join(cells)
            + f" | {result['refresh_process_seconds']:.1f} | {mebibytes(result['refresh']['peak_rss'])}"
            f" | {per_kpi_year:,.1f} | {result['bare_seconds']:.2f} |"
        )
    lines += ["", "| measure | measured | goal | goal met |", "| --- | ---: | ---: | --- |"]

    def row(label: str, measured: str, goal: str = "—", met: bool | None = None) -> None:
        lines.append(f"| {label} | {measured} | {goal} | {'—' if met is None else ('yes' if met else 'no')} |")

    otaru_ratio = floors["otaru"] / floors["imports"]
    row(f"Otaru refresh / import floor ({floors['otaru']:.2f} s / {floors['imports']:.2f} s)",
        f"{otaru_ratio:.2f}", "≤ 2.0", otaru_ratio <= 2.0)
    row(f"the same with `KPI_VALIDATION_ENGINE=great_expectations` ({floors['otaru_gx']:.2f} s /"
        f" {floors['imports']:.2f} s)", f"{floors['otaru_gx'] / floors['imports']:.2f}")
    for result in results:
        size = result["kpi_years"]
        floor = floors["imports"] + result["bare_seconds"]
        ratio = result["refresh_process_seconds"] / floor
        national = size == NATIONAL_SIZE
        row(f"refresh of {size:,} / (import floor + bare DuckDB)"
            f" ({result['refresh_process_seconds']:.1f} s / {floor:.2f} s)",
            f"{ratio:.1f}", "≤ 3.0" if national else "—", ratio <= 3.0 if national else None)
        validate = result["refresh"]["stages"]["validate"]
        label = f"validate / scoring query at {size:,} (scoring query {result['scoring_query_seconds']:.3f} s)"
        if validate["steps"]:
            validate_ratio = validate["seconds"] / result["scoring_query_seconds"]
            row(label, f"{validate_ratio:.1f}", "≤ 5" if national else "—", validate_ratio <= 5 if national else None)
        else:
            row(label, "— (no asset check steps)")
        peak = result["refresh"]["peak_rss"]
        memory_goal = MEMORY_GOALS.get(size)
        row(f"peak RSS of {size:,}", f"{mebibytes(peak)} MiB",
            "—" if memory_goal is None else f"< {memory_goal // 2**30} GB",
            None if memory_goal is None else peak < memory_goal)
    multiprocess, in_process = floors["refresh_multiprocess"], floors["refresh_in_process"]
    outcome = "failed after" if multiprocess < 0 else "took"
    row(f"Otaru refresh from `dagster job execute`: multiprocess executor {outcome} {abs(multiprocess):.1f} s,"
        f" in-process {abs(in_process):.1f} s{'' if in_process > 0 else ' (failed)'}",
        f"{abs(multiprocess) / abs(in_process):.1f}")
    validate_cost = floors["validate"] - floors["dagster"]
    row(f"`dagster definitions validate` − `import dagster` ({floors['validate']:.2f} s − {floors['dagster']:.2f} s)",
        f"{validate_cost:.2f} s", "≤ 0.5 s", validate_cost <= 0.5)
    row(f"the same command on an empty `Definitions()` − `import dagster` ({floors['validate_empty']:.2f} s"
        f" − {floors['dagster']:.2f} s)", f"{floors['validate_empty'] - floors['dagster']:.2f} s")
    return lines


def write_doc(lines: list[str], command: str) -> None:
    """Replace the benchmark section of docs/performance.md, keeping every other section."""
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    section = "\n".join([
        BEGIN_MARK,
        f"Measured {today} with `{command}` on this machine ({os.cpu_count()} cores,"
        f" load average {load} when the table was written).",
        "",
        *lines,
        END_MARK,
    ])
    text = PERFORMANCE_DOC.read_text(encoding="utf-8") if PERFORMANCE_DOC.exists() else "# Performance\n\n"
    if BEGIN_MARK in text and END_MARK in text:
        before, rest = text.split(BEGIN_MARK, 1)
        after = rest.split(END_MARK, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    PERFORMANCE_DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the annual refresh on synthetic strategies.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help=f"sizes in KPI-years (default {' '.join(map(str, DEFAULT_SIZES))}; "
                             f"the largest of the issue is {LARGEST_SIZE})")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generator")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/performance.md as it is")
    arguments = parser.parse_args()

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        floors = {"imports": import_floor(), "otaru": otaru_refresh(Path(scratch)),
                  "otaru_gx": otaru_refresh(Path(scratch), "great_expectations"), **executors(Path(scratch))}
        floors["validate"], floors["validate_empty"], floors["dagster"] = definitions_validate(Path(scratch))
    results = []
    for size in arguments.sizes:
        results.append(measure_size(size, arguments.seed))
        print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr, flush=True)  # noqa: T201 (the benchmark's output)

    lines = table_lines(results, floors)
    print("\n".join(lines))  # noqa: T201 (the benchmark's output)
    if not arguments.no_doc:
        write_doc(lines, "make bench SIZES=\"" + " ".join(map(str, arguments.sizes)) + "\"")


if __name__ == "__main__":
    main()
