"""The refresh lock: one refresh at a time writes staging files beside a published DuckDB file.

The lock is an exclusive ``fcntl.flock`` on a lock file next to the published
file (``.kpi.duckdb.lock``). The kernel releases it when the holding process
exits, SIGKILL included, so a lock that cannot be taken always belongs to a
live process. The lock file also contains the holder's run id and process id
so that the message of a waiting refresh can name it.

A flock conflicts between two file descriptors even within one process. So the
process keeps a table of the locks it has taken. A second acquire for the same
run returns at once, and a second run in the same process waits as a run in
another process would.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

# Interval between attempts while another refresh holds the lock.
POLL_SECONDS = 0.1


class RefreshLocked(RuntimeError):
    """Another refresh held the lock for the whole wait."""

    def __init__(self, lock_path: Path, holder: str, timeout_seconds: float) -> None:
        self.lock_path = lock_path
        self.holder = holder
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"別の更新が実行中のため、{timeout_seconds:g} 秒待っても開始できませんでした"
            f"(実行中の更新: {holder or '不明'}、ロックファイル: {lock_path})。"
            "実行中の更新が終わってから、もう一度実行してください。"
            f" / Another refresh is running ({holder or 'holder unknown'}, lock file {lock_path});"
            f" timed out after {timeout_seconds:g} s. Run the refresh again once that one has finished."
        )


@dataclass
class _HeldLock:
    run_id: str
    fd: int


# Locks taken by this process, by lock file path. Guarded by _held_guard.
_held_locks: dict[str, _HeldLock] = {}
_held_guard = threading.Lock()


class RefreshLock:
    """The exclusive lock that a run holds from its first staging write until publish or run end."""

    def __init__(self, path: Path, timeout_seconds: float) -> None:
        self.path = path
        self.timeout_seconds = timeout_seconds

    @property
    def _key(self) -> str:
        return str(self.path.resolve())

    def acquire(self, run_id: str) -> bool:
        """Take the lock for ``run_id``, waiting up to ``timeout_seconds``.

        Returns True when this call took the lock and False when the run
        already held it. Raises RefreshLocked when another refresh still holds
        the lock at the end of the wait.
        """
        deadline = time.monotonic() + self.timeout_seconds
        announced = False
        while True:
            with _held_guard:
                held_lock = _held_locks.get(self._key)
                if held_lock is not None and held_lock.run_id == run_id:
                    return False
                if held_lock is None and self._try_take(run_id):
                    log.info("took refresh lock %s for run %s", self.path, run_id)
                    return True

            holder = self.holder()
            if time.monotonic() >= deadline:
                raise RefreshLocked(self.path, holder, self.timeout_seconds)
            if not announced:
                # A warning, so that a quiet command line still says why the refresh is waiting.
                log.warning(
                    "waiting up to %g s for refresh lock %s, held by %s",
                    self.timeout_seconds, self.path, holder or "an unknown process",
                )
                announced = True
            time.sleep(POLL_SECONDS)

    def _try_take(self, run_id: str) -> bool:
        """Flock the lock file without waiting; record the holder on success."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False

        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"run {run_id}, pid {os.getpid()}, started {started}\n".encode(), 0)
        _held_locks[self._key] = _HeldLock(run_id, fd)
        return True

    def release(self, run_id: str) -> bool:
        """Release the lock if ``run_id`` holds it in this process; return whether it did."""
        with _held_guard:
            held_lock = _held_locks.get(self._key)
            if held_lock is None or held_lock.run_id != run_id:
                return False
            del _held_locks[self._key]
            # Emptied before unlocking, so a reader never names a finished run as the holder.
            os.ftruncate(held_lock.fd, 0)
            fcntl.flock(held_lock.fd, fcntl.LOCK_UN)
            os.close(held_lock.fd)
        log.info("released refresh lock %s for run %s", self.path, run_id)
        return True

    def holder(self) -> str:
        """Return the holder line of the lock file ("run …, pid …, started …"), or "" if it is empty."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""
