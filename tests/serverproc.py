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
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bitseg.server.process import read_ready_address
from bitseg.server.process import stop_process as stop_server_process

ROOT = Path(__file__).resolve().parent.parent
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
        address = read_ready_address(process, timeout)
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


def stop_process(process: subprocess.Popen[str], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM the process by its pid, then SIGKILL if it has not exited in `timeout`."""
    return stop_server_process(process, timeout)
