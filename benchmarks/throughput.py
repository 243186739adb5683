"""Concurrent Count throughput: N client tasks (grpc.aio, one channel each) over loopback.

Each task sends Count requests back to back for a fixed duration (and at most
`max_calls` in total), cycling through its list of rules; the figure is completed
calls per second over the whole run. The client runs in this process on uvloop when
installed, so on a small machine it shares the CPU with the server (as a real client
on the same host would).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from benchmarks.stats import Sample
from bitseg.client import now_text, put_rule
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

T = TypeVar("T")
CALL_TIMEOUT = 10.0


@dataclass
class ThroughputResult:
    tasks: int
    label: str  # which rules
    calls: int
    errors: int
    seconds: float
    latency: Sample = field(default_factory=Sample)
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0


def _requests(org: str, rules: list[dict[str, Any]], now: str) -> list[pb.CountRequest]:
    out = []
    for rule in rules:
        request = pb.CountRequest(org=org, now=now_text(now))
        put_rule(request.rule, rule)
        out.append(request)
    return out


async def _run(address: str, requests: list[pb.CountRequest], tasks: int, duration: float,
               max_calls: int) -> tuple[int, int, float, list[float], str]:
    channels = [grpc.aio.insecure_channel(address) for _ in range(tasks)]
    calls = errors = 0
    latencies: list[float] = []
    first_error = ""
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), timeout=30)
        started = time.perf_counter()
        deadline = started + duration

        async def worker(index: int, channel: grpc.aio.Channel) -> None:
            nonlocal calls, errors, first_error
            stub = pb_grpc.BitsegStub(channel)
            k = index
            while calls + errors < max_calls and time.perf_counter() < deadline:
                request = requests[k % len(requests)]
                k += 1
                t = time.perf_counter()
                try:
                    await stub.Count(request, timeout=CALL_TIMEOUT)
                except grpc.aio.AioRpcError as e:
                    errors += 1
                    first_error = first_error or f"{e.code().name}: {e.details()}"
                    continue
                latencies.append(time.perf_counter() - t)
                calls += 1

        await asyncio.gather(*(worker(i, ch) for i, ch in enumerate(channels)))
        elapsed = time.perf_counter() - started
    finally:
        for channel in channels:
            await channel.close()
    return calls, errors, elapsed, latencies, first_error


def _run_loop(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)  # type: ignore[no-any-return]


def run_throughput(
    address: str,
    org: str,
    now: str,
    workloads: dict[str, list[dict[str, Any]]],
    task_counts: tuple[int, ...] = (1, 4, 16),
    duration: float = 5.0,
    max_calls: int = 2_000_000,
    log: Callable[[str], None] = print,
) -> list[ThroughputResult]:
    """For each workload (label -> rules) and each task count, one bounded run."""
    results = []
    for label, rules in workloads.items():
        requests = _requests(org, rules, now)
        for tasks in task_counts:
            try:
                calls, errors, seconds, lat, first_error = _run_loop(
                    _run(address, requests, tasks, duration, max_calls)
                )
            except Exception as e:  # e.g. no connection: one failed row, not a failed suite
                calls, errors, seconds, lat = 0, 1, 0.0, []
                first_error = f"{type(e).__name__}: {e}"
            r = ThroughputResult(tasks, label, calls, errors, seconds, Sample(lat), first_error)
            results.append(r)
            log(f"  {label:<24} {tasks:>2} tasks: {r.per_second:,.0f} counts/s"
                f" (p50 {r.latency.p50 * 1e3:.2f} ms, errors {errors})")
    return results
