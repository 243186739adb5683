"""The throughput benchmark's client processes: tasks spread over processes, calls added up.

A short bounded run against an in-process server on 127.0.0.1 (port 0): with
`processes=2` the tasks run in two spawned client processes that start together, and
every call they made is counted, with no errors.
"""

from __future__ import annotations

from pathlib import Path

from changes_harness import WAIT, LoopServer

from benchmarks.throughput import run_throughput, split_tasks
from bitseg.client import Client

ORG = "acme"
RULE = {"field": "country", "op": "eq", "value": "DE"}


def test_split_tasks() -> None:
    assert split_tasks(16, 1) == [16]
    assert split_tasks(16, 3) == [6, 5, 5]
    assert split_tasks(2, 4) == [1, 1]


def test_tasks_in_two_client_processes(tmp_path: Path) -> None:
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as client:
        client.ingest(ORG, [{"id": "a", "country": "DE"}, {"id": "b", "country": "FR"}])
        results = run_throughput(
            srv.address, ORG, "2026-11-20T12:00:00Z", {"de": [RULE]}, task_counts=(1, 4),
            duration=0.3, max_calls=2_000, log=lambda _: None, processes=2,
        )
    assert [(r.tasks, r.processes) for r in results] == [(1, 1), (4, 2)]
    for r in results:
        assert r.errors == 0, r.first_error
        assert 0 < r.calls <= 2_000
        assert r.latency.n == r.calls
