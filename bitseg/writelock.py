"""One writer at a time per data folder, across threads and processes.

LMDB serialises write transactions across processes, but some writes read before
their transaction begins: `Service.ingest` reads the org's schema and declares new
custom fields against it, and creates or removes an org's folder around its first
batch. In one process these are serialised by the single writer thread; with several
server processes over one data folder (`bitseg serve --workers N`) or another program
writing it, they must be serialised across processes too. `FolderWriteLock` is an
exclusive `flock` on `<data>/.write.lock` held around every such write, plus a
re-entrant thread lock (a flock is shared by the threads of one process).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # not POSIX: one process per data folder only
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".write.lock"


class FolderWriteLock:
    """Exclusive across processes (flock) and threads (RLock); re-entrant in one thread."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> FolderWriteLock:
        self._thread_lock.acquire()
        try:
            if self._depth == 0 and fcntl is not None:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._depth == 0:
                os.close(self._fd)
                self._fd = None
