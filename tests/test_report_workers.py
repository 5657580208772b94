"""Worker processes of the per-strategy reports end when the refresh that started them is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

from tests.conftest import PROJECT_ROOT

# A module the spawned workers can import by name: each batch records its worker's pid, then sleeps.
SLOW_BATCH_MODULE = """
import os
import time
from pathlib import Path


def slow_batch(pids: Path, warehouse: Path, strategy_ids: list[str]):
    with open(pids, "a") as handle:
        handle.write(f"{os.getpid()}\\n")
    time.sleep(600)
"""

PARENT = """
import sys
from functools import partial
from pathlib import Path

from evaluation.reports.per_strategy import write_per_strategy
from slow_batch import slow_batch

list(write_per_strategy(Path(sys.argv[1]), partial(slow_batch, Path(sys.argv[2])), batch_size=1, workers=2))
"""


def alive(pid: int) -> bool:
    """Return whether ``pid`` is running; an exited worker not yet reaped (a zombie) counts as ended."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_exit_after_parent_killed(tmp_path: Path):
    warehouse = tmp_path / "kpi.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create table strategy (strategy_id varchar, municipality varchar, strategy_name varchar,"
                           " first_fiscal_year integer, last_fiscal_year integer)")
        connection.execute("insert into strategy select 's' || i, 'm', 'n', 2015, 2019 from range(4) t(i)")
    (tmp_path / "slow_batch.py").write_text(textwrap.dedent(SLOW_BATCH_MODULE), encoding="utf-8")
    pids = tmp_path / "pids"
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{PROJECT_ROOT}"}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(warehouse), str(pids)], cwd=PROJECT_ROOT,
                              env=environment)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(pids.read_text().split() if pids.exists() else []) < 2:
        time.sleep(0.1)
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 2  # two batches started, one in each worker
    assert all(alive(pid) for pid in workers)

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    # each worker checks for its parent once a second (PARENT_CHECK_SECONDS)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
