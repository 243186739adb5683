"""Build, run and stop the gRPC server: gRPC on a thread pool, the change log on uvloop.

RPCs are served by grpcio's threaded server (`grpc.server` over a pool of up to
BITSEG_RPC_THREADS threads, default 256, running at most BITSEG_RPC_ACTIVE calls at once,
default 2, none held back by a call running longer than BITSEG_RPC_OVERFLOW_MS, default
30: bitseg.server.pool): it costs less per call than `grpc.aio`, whose every completion
crosses from gRPC's poller thread to the event loop through a socket (one client's
Count: 0.44 ms end to end instead of 0.50 on the 2-core benchmark machine). The event
loop (uvloop, the calling thread) runs what is asynchronous: live Watch followers and
webhook deliveries (bitseg.changes), the time-based re-evaluation, signals and the
worker processes. Handlers reach it through the change hub (`ChangeHub.call` /
`iterate`).

`serve()` runs a server until SIGINT/SIGTERM: once bound it prints exactly one line,
`bitseg listening on HOST:PORT` (the real port when asked for port 0), and on a signal
it shuts down gracefully: health NOT_SERVING, the change hub stopped (live Watch
streams end with UNAVAILABLE, webhook workers are cancelled), `server.stop(grace)`,
a wait for the handler threads, then `Service.close()` on the writer thread.
`ServerThread` runs the same server on a background thread of the calling process
(the CLI's demo uses it).

With `workers` > 1 (`bitseg serve --workers N`) this process is the primary of N
processes sharing host:port through SO_REUSEPORT (bitseg.server.role, .workers): it
binds first, starts the others, prints the ready line once all of them are bound, and
alone runs the time-based re-evaluation and the webhook deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bitseg.changes import ChangeHub
from bitseg.rules.limits import Limits
from bitseg.server.errors import MappedServer
from bitseg.server.pool import ActivePool
from bitseg.server.process import READY_PREFIX
from bitseg.server.role import ServerRole
from bitseg.server.scheduler import interval_from_env, reevaluate_forever
from bitseg.server.servicer import BitsegServicer
from bitseg.server.workers import WorkerSet, check_port_free
from bitseg.service import Service
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

log = logging.getLogger("bitseg.server")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Bitseg"].full_name  # "bitseg.v1.Bitseg"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 50051
DEFAULT_GRACE = 5.0
PARENT_CHECK_INTERVAL = 0.5
DEFAULT_THREADS = 256  # idle threads cost little; each held Watch or CountStream holds one
RESERVED_THREADS = 16  # never taken by live Watch or CountStream streams (each holds a thread)
DEFAULT_ACTIVE = 2  # calls running at once: one waits for gRPC's poller, one computes
OVERFLOW_SECONDS = 0.03  # a call running longer no longer holds back queued ones
DRAIN_TIMEOUT = 30.0  # after stop: wait this long for handler threads before closing


def threads_from_env() -> int:
    """$BITSEG_RPC_THREADS: the gRPC server's threads (at least RESERVED_THREADS + 1)."""
    return max(RESERVED_THREADS + 1, _int_env("BITSEG_RPC_THREADS", DEFAULT_THREADS))


def active_from_env() -> int:
    """$BITSEG_RPC_ACTIVE: calls running at once per process (0: as many as threads)."""
    return max(0, _int_env("BITSEG_RPC_ACTIVE", DEFAULT_ACTIVE))


def overflow_from_env() -> float:
    """$BITSEG_RPC_OVERFLOW_MS: after this long a running call no longer holds back others."""
    ms = _int_env("BITSEG_RPC_OVERFLOW_MS", 0)
    return ms / 1000 if ms > 0 else OVERFLOW_SECONDS


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def rpc_pool(threads: int, active: int) -> Executor:
    """The server's thread pool: at most `active` calls at once (see bitseg.server.pool),
    or with `active` 0 a thread per call."""
    if active <= 0:
        return ThreadPoolExecutor(threads, thread_name_prefix="bitseg-rpc")
    return ActivePool(threads, active, overflow_from_env(), thread_name_prefix="bitseg-rpc")

ReadyCallback = Callable[[str, int], None]


class BitsegServer:
    """One gRPC server over one data folder: start, then stop exactly once."""

    def __init__(
        self,
        data_dir: str | Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        limits: Limits | None = None,
        role: ServerRole | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.limits = limits or Limits()
        self.role = role or ServerRole()
        self.bound_port = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bitseg-writer")
        self._service: Service | None = None
        self._server: grpc.Server | None = None
        self._threads = threads_from_env()
        self._pool = rpc_pool(self._threads, active_from_env())
        self._health = health.HealthServicer()
        self._stopped = False
        self._changes: ChangeHub | None = None  # watchers and webhook workers
        self._clock: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.bound_port}"

    async def start(self) -> None:
        """Open the service, bind and start serving (raises OSError if the port is taken)."""
        loop = asyncio.get_running_loop()
        # the service is opened on the writer thread, which owns every write transaction
        self._service = await loop.run_in_executor(
            self._writer, Service, self.data_dir, self.limits
        )
        max_bytes = self.limits.max_message_bytes
        server = grpc.server(
            self._pool,
            options=[
                ("grpc.max_receive_message_length", max_bytes),
                ("grpc.max_send_message_length", max(max_bytes, 64 << 20)),
                # one process: refuse a taken port; several: they share it
                ("grpc.so_reuseport", 1 if self.role.shared_port else 0),
            ],
        )
        servicer = BitsegServicer(self._service, self.limits, self._writer, self.role)
        servicer.changes = self._changes = ChangeHub(
            self._service, self._writer, deliver=self.role.primary  # webhooks: the primary
        )
        servicer.stream_slots = threading.BoundedSemaphore(self._threads - RESERVED_THREADS)
        if isinstance(self._pool, ActivePool):  # held streams stop counting as active calls
            servicer.step_aside = self._pool.step_aside
        # errors -> statuses (bitseg.server.errors); health and reflection map their own
        pb_grpc.add_BitsegServicer_to_server(servicer, MappedServer(server))
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME),
            server,
        )
        try:
            self.bound_port = server.add_insecure_port(f"{self._bind_host()}:{self.port}")
        except RuntimeError as e:
            raise OSError(f"cannot listen on {self.host}:{self.port}: {e}") from None
        if not self.bound_port:
            raise OSError(f"cannot listen on {self.host}:{self.port}")
        await self._changes.start()  # commit wake-ups, then a worker per webhook endpoint
        server.start()
        self._server = server
        for name in ("", SERVICE_NAME):
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self.role.primary:  # time passing is logged once, by the primary
            self._clock = asyncio.create_task(
                reevaluate_forever(self._service, self._writer, interval_from_env())
            )
        self._warming = loop.run_in_executor(self._writer, self._service.warm)  # id tables

    def _bind_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    async def stop(self, grace: float = DEFAULT_GRACE) -> None:
        """Graceful shutdown: NOT_SERVING, let calls finish within `grace`, close the store."""
        if self._stopped:
            return
        self._stopped = True
        if self._clock is not None:
            self._clock.cancel()
        self._health.enter_graceful_shutdown()
        if self._changes is not None:  # end live Watch streams, stop webhook deliveries
            await self._changes.stop()
        loop = asyncio.get_running_loop()
        if self._server is not None:
            stopped = self._server.stop(grace)
            await loop.run_in_executor(None, stopped.wait)
        # handler threads may still be finishing (a cancelled call's thread runs on):
        # the store is closed only once none can touch it any more
        drained = loop.run_in_executor(None, self._pool.shutdown, True)
        try:
            await asyncio.wait_for(asyncio.shield(drained), DRAIN_TIMEOUT)
        except TimeoutError:
            log.error("server threads still busy %g s after stop: the store stays open",
                      DRAIN_TIMEOUT)
            self._writer.shutdown(wait=False)
            return
        if self._service is not None:
            await loop.run_in_executor(self._writer, self._service.close)
        self._writer.shutdown(wait=True)

    async def wait(self) -> None:
        if self._server is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, self._server.wait_for_termination
            )


def announce(host: str, port: int) -> None:
    """The one line tests and scripts wait for."""
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(f"{READY_PREFIX}{shown}:{port}\n")
    sys.stdout.flush()


async def serve_async(
    data_dir: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    limits: Limits | None = None,
    ready: ReadyCallback | None = None,
    stop_event: asyncio.Event | None = None,
    grace: float = DEFAULT_GRACE,
    workers: int = 1,
    role: ServerRole | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve until `stop_event` is set, or SIGINT/SIGTERM (on the main thread).

    `workers` > 1: this process is the primary of that many (see the module docstring).
    `role` and `parent_pid` are given to the other workers by `python -m
    bitseg.server.worker`; such a worker also stops when its parent is gone."""
    role = role or ServerRole(0, workers)
    if role.primary and role.shared_port:
        check_port_free(host, port)
    server = BitsegServer(data_dir, host, port, limits, role)
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop_event.set)
                handled.append(sig)
    others: WorkerSet | None = None
    orphan_check = (
        asyncio.create_task(_stop_when_orphaned(parent_pid, stop_event))
        if parent_pid is not None else None
    )
    try:
        await server.start()
        if role.primary and role.shared_port:
            others = WorkerSet(Path(data_dir), host, server.bound_port, role.workers, grace)
            await others.start()
        (ready or announce)(host, server.bound_port)
        log.info("serving %s on %s (worker %d of %d, pid %d)", server.data_dir, server.address,
                 role.index, role.workers, os.getpid())
        await stop_event.wait()
        log.info("shutting down")
    finally:
        if others is not None:
            others.terminate()  # they stop gracefully alongside this one
        if orphan_check is not None:
            orphan_check.cancel()
        try:
            await server.stop(grace)
        finally:
            if others is not None:
                await others.wait(grace + 10.0)
            for sig in handled:
                loop.remove_signal_handler(sig)


async def _stop_when_orphaned(parent_pid: int, stop_event: asyncio.Event) -> None:
    """A worker's safety net: stop once the primary is gone (our parent changes)."""
    while os.getppid() == parent_pid:
        await asyncio.sleep(PARENT_CHECK_INTERVAL)
    log.warning("the primary (pid %d) is gone: stopping", parent_pid)
    stop_event.set()


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on uvloop when it is installed, else asyncio's loop."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows
        asyncio.run(main)
        return
    if hasattr(uvloop, "run"):
        uvloop.run(main)
    else:  # older uvloop
        uvloop.install()
        asyncio.run(main)


def serve(
    data_dir: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    limits: Limits | None = None,
    ready: ReadyCallback | None = None,
    grace: float = DEFAULT_GRACE,
    workers: int = 1,
    role: ServerRole | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. `ready(host, port)` replaces the `bitseg listening` line;
    `workers` > 1 serves from that many processes (see the module docstring)."""
    run_loop(serve_async(data_dir, host, port, limits, ready, grace=grace, workers=workers,
                         role=role, parent_pid=parent_pid))


class ServerThread:
    """The server on a background thread of this process: `start()` returns once bound."""

    def __init__(
        self,
        data_dir: str | Path,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        limits: Limits | None = None,
    ) -> None:
        self.data_dir, self.host, self.port, self.limits = data_dir, host, port, limits
        self.bound_port = 0
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="bitseg-server", daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.bound_port}"

    def start(self, timeout: float = 60.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        run_loop(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(host: str, port: int) -> None:
            self.bound_port = port
            self._ready.set()

        try:
            await serve_async(self.data_dir, self.host, self.port, self.limits, ready, self._stop)
        except BaseException as e:  # handed to the thread that called start()
            self._error = e
        finally:
            self._ready.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully and wait for the thread to end."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
