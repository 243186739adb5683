"""Start the real bitseg server as a subprocess for end-to-end tests.

`start_server(data_dir)` runs `python -m bitseg.cli serve --data DIR --port 0`, waits
(bounded) for its `bitseg listening on HOST:PORT` line and yields a `ServerProcess`;
on exit it stops the process by its pid: SIGTERM, then SIGKILL after a bounded wait.
Test modules wrap it in a fixture of the scope they need:

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        with start_server(tmp_path_factory.mktemp("data")) as proc:
            yield proc
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_PREFIX = "bitseg listening on "
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class ServerProcess:
    """A running server: its address ("127.0.0.1:PORT"), process and log file."""

    address: str
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def subprocess_env() -> dict[str, str]:
    """The environment for a child Python: this checkout first on its import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _read_ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The address from the ready line; raises if the process exits or time runs out."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {READY_PREFIX!r} line within {timeout:.0f} s")
            if not selector.select(left):
                continue
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited with code {process.wait()} before it was ready")
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :].strip()


def stop_process(process: subprocess.Popen[str], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM the process by its pid, then SIGKILL if it has not exited in `timeout`."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)
    return process.returncode


@contextmanager
def start_server(
    data_dir: Path, extra_args: tuple[str, ...] = (), timeout: float = START_TIMEOUT
) -> Iterator[ServerProcess]:
    """Run a server on 127.0.0.1, port 0, over `data_dir`; stop it on exit."""
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    args = [sys.executable, "-m", "bitseg.cli", "serve", "--data", str(data_dir)]
    args += ["--host", "127.0.0.1", "--port", "0", "--grace", "2", *extra_args]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log, text=True, env=subprocess_env(), cwd=ROOT
        )
    try:
        address = _read_ready_line(process, timeout)
        yield ServerProcess(address, process, log_path)
    except BaseException:
        stop_process(process)
        sys.stderr.write(log_path.read_text(errors="replace"))
        raise
    else:
        stop_process(process)
    finally:
        if process.stdout is not None:
            process.stdout.close()
