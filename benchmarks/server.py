"""Run the real bitseg server as a subprocess on 127.0.0.1 (port 0) and stop it by pid.

The same protocol as `tests/serverproc.py`: `python -m bitseg.cli serve ... --port 0`
prints `bitseg listening on HOST:PORT` once bound; we wait for that line (bounded),
and on exit send SIGTERM to that pid, then SIGKILL after a bounded wait. With
`workers` > 1 the server runs that many processes on the port (`--workers`); the one
started is the primary, which prints the ready line once all are bound and stops the
others when it is stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import ROOT
from bitseg.server.process import read_ready_address
from bitseg.server.process import stop_process as stop_server_process

START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


@dataclass
class ServerProcess:
    address: str
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def child_env() -> dict[str, str]:
    """The environment for a child Python: this checkout first on its import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def vm_hwm_bytes(pid: int | str = "self") -> int:
    """Peak resident set size (VmHWM) of a live process, from /proc; 0 if unknown."""
    return _status_bytes(pid, "VmHWM:")


def rss_anon_bytes(pid: int | str = "self") -> int:
    """Anonymous resident memory (RssAnon: heap, caches; not LMDB's file-backed pages,
    which the kernel can drop and which count in VmHWM) of a live process; 0 if unknown."""
    return _status_bytes(pid, "RssAnon:")


def _status_bytes(pid: int | str, label: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(label):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextmanager
def start_server(
    data_dir: Path, log_path: Path, timeout: float = START_TIMEOUT, workers: int = 1
) -> Iterator[ServerProcess]:
    """A server over `data_dir` on 127.0.0.1, a free port; stopped (by pid) on exit."""
    args = [
        sys.executable,
        "-m",
        "bitseg.cli",
        "serve",
        "--data",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--grace",
        "2",
        "--log-level",
        "WARNING",
        "--workers",
        str(workers),
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log, text=True, env=child_env(), cwd=ROOT
        )
    try:
        address = read_ready_address(process, timeout)
        yield ServerProcess(address, process, log_path)
    finally:
        stop_process(process)
        if process.stdout is not None:
            process.stdout.close()


def stop_process(process: subprocess.Popen[str], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM the process by its pid, then SIGKILL if it has not exited in `timeout`."""
    return stop_server_process(process, timeout)
