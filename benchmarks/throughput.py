"""Concurrent Count throughput: N client tasks (grpc.aio, one connection each) over loopback.

Each task sends Count requests back to back for a fixed duration (and at most
`max_calls` in total), cycling through its list of rules; the figure is completed
calls per second over the whole run. Every task's channel has a connection of its own
(`grpc.use_local_subchannel_pool`; otherwise all channels of a process to one address
share one connection), so the kernel spreads them over the server's workers when it
runs several (`bitseg serve --workers N`, SO_REUSEPORT).

The tasks run in `processes` client processes (default 1: all in this process), as
evenly spread as they divide; with several, the processes connect first and then start
together at one agreed instant, and their calls are added up. Clients run on uvloop
when installed, so on a small machine they share the CPU with the server (as a real
client on the same host would).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import grpc

from benchmarks.stats import Sample
from bitseg.client import now_text, put_rule
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

T = TypeVar("T")
CALL_TIMEOUT = 10.0
CONNECT_TIMEOUT = 30.0
START_DELAY = 0.3  # seconds between "everyone is connected" and the common start
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]


@dataclass
class ThroughputResult:
    tasks: int
    label: str  # which rules
    calls: int
    errors: int
    seconds: float
    latency: Sample = field(default_factory=Sample)
    first_error: str = ""
    processes: int = 1  # client processes the tasks ran in
    server_workers: int = 1  # server processes (bitseg serve --workers)

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Outcome:
    calls: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""


def _requests(org: str, rules: list[dict[str, Any]], now: str) -> list[pb.CountRequest]:
    out = []
    for rule in rules:
        request = pb.CountRequest(org=org, now=now_text(now))
        put_rule(request.rule, rule)
        out.append(request)
    return out


async def _run(
    address: str,
    requests: list[pb.CountRequest],
    tasks: int,
    duration: float,
    max_calls: int,
    offset: int = 0,
    connected: Callable[[], Awaitable[None]] | None = None,
) -> _Outcome:
    """`tasks` tasks for `duration` s; `connected()` is awaited once every channel is ready
    (a client process waits there for the common start)."""
    channels = [grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) for _ in range(tasks)]
    out = _Outcome()
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), timeout=CONNECT_TIMEOUT)
        if connected is not None:
            await connected()
        started = time.perf_counter()
        deadline = started + duration

        async def worker(index: int, channel: grpc.aio.Channel) -> None:
            stub = pb_grpc.BitsegStub(channel)
            k = index
            while out.calls + out.errors < max_calls and time.perf_counter() < deadline:
                request = requests[k % len(requests)]
                k += 1
                t = time.perf_counter()
                try:
                    await stub.Count(request, timeout=CALL_TIMEOUT)
                except grpc.aio.AioRpcError as e:
                    out.errors += 1
                    out.first_error = out.first_error or f"{e.code().name}: {e.details()}"
                    continue
                out.latencies.append(time.perf_counter() - t)
                out.calls += 1

        await asyncio.gather(*(worker(offset + i, ch) for i, ch in enumerate(channels)))
        out.seconds = time.perf_counter() - started
    finally:
        for channel in channels:
            await channel.close()
    return out


def _run_loop(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)  # type: ignore[no-any-return]


def _client_process(
    conn: Connection, address: str, raw: list[bytes], tasks: int, duration: float,
    max_calls: int, offset: int,
) -> None:
    """One client process: connect, report ready, wait for the start instant, run, report."""
    requests = [pb.CountRequest.FromString(r) for r in raw]

    async def connected() -> None:
        conn.send("ready")
        start_at = conn.recv()  # time.time() of the common start (blocks before any call)
        await asyncio.sleep(max(0.0, start_at - time.time()))

    try:
        out = _run_loop(_run(address, requests, tasks, duration, max_calls, offset, connected))
    except Exception as e:  # reported as one failed share, not a hung parent
        out = _Outcome(errors=1, first_error=f"{type(e).__name__}: {e}")
    conn.send(out)
    conn.close()


def split_tasks(tasks: int, processes: int) -> list[int]:
    """`tasks` spread over at most `processes` processes (none gets 0).

    >>> split_tasks(16, 3)
    [6, 5, 5]
    """
    processes = max(1, min(processes, tasks))
    base, extra = divmod(tasks, processes)
    return [base + (1 if i < extra else 0) for i in range(processes)]


def _run_processes(
    address: str, requests: list[pb.CountRequest], tasks: int, duration: float,
    max_calls: int, processes: int,
) -> _Outcome:
    shares = split_tasks(tasks, processes)
    context = multiprocessing.get_context("spawn")  # no fork of a process that runs gRPC
    raw = [r.SerializeToString() for r in requests]
    children = []
    offset = 0
    for share in shares:
        parent, child = context.Pipe()
        process = context.Process(
            target=_client_process,
            args=(child, address, raw, share, duration, max(1, max_calls // len(shares)), offset),
            daemon=True,
        )
        process.start()
        child.close()
        children.append((process, parent))
        offset += share
    total = _Outcome()
    try:
        ready = [p.poll(CONNECT_TIMEOUT + 30) and p.recv() for _, p in children]
        if not all(r == "ready" for r in ready):
            raise RuntimeError("a client process did not connect in time")
        start_at = time.time() + START_DELAY
        for _, parent in children:
            parent.send(start_at)
        for _, parent in children:
            if not parent.poll(duration + CALL_TIMEOUT + 60):
                raise RuntimeError("a client process did not report in time")
            out: _Outcome = parent.recv()
            total.calls += out.calls
            total.errors += out.errors
            total.seconds = max(total.seconds, out.seconds)
            total.latencies += out.latencies
            total.first_error = total.first_error or out.first_error
    finally:
        for process, parent in children:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(10)
            parent.close()
    return total


def run_throughput(
    address: str,
    org: str,
    now: str,
    workloads: dict[str, list[dict[str, Any]]],
    task_counts: tuple[int, ...] = (1, 4, 16),
    duration: float = 5.0,
    max_calls: int = 2_000_000,
    log: Callable[[str], None] = print,
    processes: int = 1,
    server_workers: int = 1,
) -> list[ThroughputResult]:
    """For each workload (label -> rules) and each task count, one bounded run, its tasks
    spread over up to `processes` client processes."""
    results = []
    for label, rules in workloads.items():
        requests = _requests(org, rules, now)
        for tasks in task_counts:
            used = len(split_tasks(tasks, processes))
            try:
                if used > 1:
                    out = _run_processes(address, requests, tasks, duration, max_calls, used)
                else:
                    out = _run_loop(_run(address, requests, tasks, duration, max_calls))
            except Exception as e:  # e.g. no connection: one failed row, not a failed suite
                out = _Outcome(errors=1, first_error=f"{type(e).__name__}: {e}")
            r = ThroughputResult(tasks, label, out.calls, out.errors, out.seconds,
                                 Sample(out.latencies), out.first_error, used, server_workers)
            results.append(r)
            log(f"  {label:<24} {tasks:>2} tasks in {used} process(es), {server_workers} server "
                f"worker(s): {r.per_second:,.0f} counts/s (p50 {r.latency.p50 * 1e3:.2f} ms, "
                f"errors {out.errors})")
    return results
