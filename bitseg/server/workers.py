"""The primary's side of `bitseg serve --workers N`: start, watch and stop the other workers.

The primary binds host:port with SO_REUSEPORT first (so port 0 becomes a real port),
then starts workers 1 .. N-1 as `python -m bitseg.server.worker ... --port <bound>`
child processes and waits (bounded) for each one's `bitseg listening on` line before
it prints its own: when the ready line appears, every worker accepts connections.
A worker that dies while the server runs is logged and started again (at most once
every RESTART_PAUSE seconds per worker). Stopping the primary (SIGTERM/SIGINT) sends
SIGTERM to every worker by pid, finishes its own graceful stop, then waits for them
(SIGKILL after a bounded wait). Workers also stop by themselves when the primary
dies (Linux parent-death signal, plus a check of their parent pid): no orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bitseg.server.process import read_ready_address

log = logging.getLogger("bitseg.server")

START_TIMEOUT = 120.0
MONITOR_INTERVAL = 0.5
RESTART_PAUSE = 5.0
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent  # the folder holding `bitseg`


def check_port_free(host: str, port: int) -> None:
    """Raise OSError if something already listens on host:port.

    With SO_REUSEPORT a bind succeeds next to any other SO_REUSEPORT listener of the
    same user (another gRPC server, say), so a shared port is checked with a plain bind
    (SO_REUSEADDR only, which Linux refuses while anyone listens there) first."""
    if port == 0:
        return
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    for family, kind, proto, _, address in infos:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:  # e.g. no IPv6 on this host
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    raise OSError(f"cannot listen on {host}:{port}: address in use") from None
                if e.errno != errno.EADDRNOTAVAIL:  # e.g. no IPv6 here: gRPC skips it too
                    raise


def worker_env() -> dict[str, str]:
    """The environment of a worker: ours, with the folder holding this `bitseg` first on
    the import path (so a worker runs the same code as the primary)."""
    env = dict(os.environ)
    paths = [str(_PACKAGE_ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WorkerSet:
    """Workers 1 .. workers-1 of one primary (see the module docstring)."""

    def __init__(
        self,
        data_dir: Path,
        host: str,
        port: int,
        workers: int,
        grace: float,
        log_level: str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.workers = workers
        self.grace = grace
        self.log_level = log_level or logging.getLevelName(logging.getLogger().getEffectiveLevel())
        self.start_timeout = start_timeout
        self.processes: dict[int, subprocess.Popen[str]] = {}
        self._started_at: dict[int, float] = {}
        self._stopping = False
        self._monitor: asyncio.Task[None] | None = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for _, p in sorted(self.processes.items())]

    def command(self, index: int) -> list[str]:
        return [
            sys.executable, "-m", "bitseg.server.worker",
            "--data", str(self.data_dir), "--host", self.host, "--port", str(self.port),
            "--index", str(index), "--workers", str(self.workers),
            "--parent", str(os.getpid()), "--grace", str(self.grace),
            "--log-level", str(self.log_level),
        ]

    def _spawn(self, index: int) -> subprocess.Popen[str]:
        # Started from the event loop's thread: the parent-death signal a worker asks for
        # fires when the *thread* that started it ends, and this one lives as long as we do.
        process = subprocess.Popen(
            self.command(index), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env=worker_env(), close_fds=True,
        )
        self.processes[index] = process
        self._started_at[index] = time.monotonic()
        return process

    async def start(self) -> None:
        """Start every worker and wait until each is bound (raises and stops them if not)."""
        loop = asyncio.get_running_loop()
        started = [self._spawn(i) for i in range(1, self.workers)]
        try:
            await asyncio.gather(*(
                loop.run_in_executor(None, _await_ready, p, self.start_timeout) for p in started
            ))
        except BaseException:
            await self.stop()
            raise
        log.info("workers started: pids %s", ", ".join(map(str, self.pids)))
        self._monitor = asyncio.create_task(self._watch(), name="bitseg-workers")

    async def _watch(self) -> None:
        """Start a worker again when it died (not while stopping)."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await asyncio.sleep(MONITOR_INTERVAL)
            for index, process in list(self.processes.items()):
                code = process.poll()
                if code is None or self._stopping:
                    continue
                if time.monotonic() - self._started_at[index] < RESTART_PAUSE:
                    continue  # a worker that keeps dying is retried slowly
                log.error("worker %d (pid %d) exited with code %s; starting it again",
                          index, process.pid, code)
                fresh = self._spawn(index)
                loop.run_in_executor(None, _await_ready, fresh, self.start_timeout, False)

    def terminate(self) -> None:
        """SIGTERM every live worker (by pid); `wait` then waits for them."""
        self._stopping = True
        if self._monitor is not None:
            self._monitor.cancel()
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)

    async def wait(self, timeout: float) -> None:
        """Wait for every worker to exit; SIGKILL those still running after `timeout`."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _reap, list(self.processes.values()), timeout)

    async def stop(self) -> None:
        self.terminate()
        await self.wait(self.grace + 10.0)


def _await_ready(process: subprocess.Popen[str], timeout: float, strict: bool = True) -> None:
    """Read the worker's ready line, then stop reading its stdout (it writes nothing else)."""
    try:
        read_ready_address(process, timeout)
    except (TimeoutError, RuntimeError) as e:
        if strict:
            raise RuntimeError(f"worker pid {process.pid} did not start: {e}") from None
        log.error("worker pid %d did not start: %s", process.pid, e)
    finally:
        if process.stdout is not None:
            process.stdout.close()


def _reap(processes: list[subprocess.Popen[str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("worker pid %d did not stop in time: killing it", process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait()
