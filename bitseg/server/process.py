"""Running the server as a child process: waiting for its ready line, stopping it by pid.

`bitseg serve` prints exactly one line `bitseg listening on HOST:PORT` once bound (see
`app.announce`); scripts, tests and benchmarks that start it read that line here and
stop the process by its id (SIGTERM, then SIGKILL after a bounded wait).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time

READY_PREFIX = "bitseg listening on "


def read_ready_address(process: subprocess.Popen[str], timeout: float) -> str:
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


def stop_process(process: subprocess.Popen[str], timeout: float) -> int:
    """SIGTERM the process by its pid, then SIGKILL if it has not exited in `timeout`."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)
    return process.returncode
