"""`bitseg serve --workers 2`: two real server processes sharing one loopback port.

One server (127.0.0.1, port 0) per module; clients open connections until both
workers have answered (`Client.server_info`, each `Client` has a connection of its
own). Then: a write through either worker is counted by both as soon as the write
returned; a Watch opened on one worker sees what was written through the other; a
webhook registered through the non-primary worker is delivered (by the primary) and
deleted through it again; a killed worker is started again; stopping the primary by
pid stops every worker, and killing it outright leaves no orphan. Every loop is
bounded in count and time; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from changes_harness import WAIT, Receiver, wait_until
from serverproc import ROOT, ServerProcess, start_server, stop_process, subprocess_env

from bitseg.client import BitsegClientError, Client, ServerInfo
from bitseg.server.process import read_ready_address
from bitseg.v1 import bitseg_pb2 as pb

ORG = "acme"
MAX_CLIENTS = 64  # connections opened at most while looking for both workers
LIVE = 2.0  # seconds within which a Watch must see a write through the other worker


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def clients_per_worker(address: str, workers: int) -> dict[int, Client]:
    """One open client per worker index, opening at most MAX_CLIENTS connections."""
    found: dict[int, Client] = {}
    for _ in range(MAX_CLIENTS):
        client = Client(address, timeout=WAIT)
        try:
            info = client.server_info()
        except BitsegClientError:
            client.close()
            for other in found.values():
                other.close()
            raise
        if info.worker in found:
            client.close()
        else:
            found[info.worker] = client
            if len(found) == workers:
                return found
    for client in found.values():
        client.close()
    raise AssertionError(f"only workers {sorted(found)} answered {MAX_CLIENTS} connections")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("workers") / "data"
    with start_server(data, ("--workers", "2")) as proc:
        yield proc


@pytest.fixture(scope="module")
def workers(server: ServerProcess) -> Iterator[dict[int, Client]]:
    found = clients_per_worker(server.address, 2)
    found[0].ingest(ORG, [{"id": "c0", "country": "FR"}])  # the org exists from now on
    yield found
    for client in found.values():
        client.close()


def test_two_processes_answer_on_one_port(server: ServerProcess, workers: dict[int, Client]):
    infos: dict[int, ServerInfo] = {i: c.server_info() for i, c in workers.items()}
    assert {info.workers for info in infos.values()} == {2}
    assert infos[0].primary and not infos[1].primary
    assert infos[0].pid == server.pid  # the process that was started is the primary
    assert infos[1].pid != server.pid and alive(infos[1].pid)


def test_a_write_through_one_worker_is_counted_by_every_worker(workers: dict[int, Client]):
    rule = {"field": "country", "op": "eq", "value": "DE"}
    expected = workers[0].count(ORG, rule)
    for i in range(6):  # alternate the worker that writes
        writer = workers[i % 2]
        writer.ingest(ORG, [{"id": f"de{i}", "country": "DE"}])
        expected += 1
        assert [workers[w].count(ORG, rule) for w in (0, 1)] == [expected, expected]
        # a patch (and a delete) too: same answer everywhere right after the write
        writer.ingest(ORG, [{"id": f"de{i}", "op": "patch", "country": "IT"}])
        expected -= 1
        assert [workers[w].count(ORG, rule) for w in (0, 1)] == [expected, expected]
        writer.ingest(ORG, [{"id": f"de{i}", "country": "DE"}])
        expected += 1
    assert workers[1].resolve(ORG, rule) == workers[0].resolve(ORG, rule)


def test_concurrent_writes_through_both_workers_lose_nothing(workers: dict[int, Client]):
    """Custom field declarations and records written through both workers at once."""
    import threading

    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for k in range(5):
                workers[worker].declare_fields(ORG, {f"f{worker}_{k}": "int"})
                workers[worker].ingest(ORG, [{"id": f"w{worker}-{k}", "custom": {"x": "1"}}])
        except BaseException as e:  # handed to the test thread
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 3)
    assert not errors, errors
    for w in (0, 1):
        assert workers[w].count(ORG, {"field": "custom.x", "op": "eq", "value": "1"}) == 10
        for worker in (0, 1):
            for k in range(5):  # every declaration survived: the fields validate as int
                rule = {"field": f"custom.f{worker}_{k}", "op": "gt", "value": 3}
                assert workers[w].count(ORG, rule) == 0


@pytest.mark.parametrize(("watcher", "writer"), [(1, 0), (0, 1)])
def test_watch_sees_writes_through_the_other_worker(
    workers: dict[int, Client], watcher: int, writer: int
) -> None:
    name = f"watch-{watcher}"
    workers[writer].create_segment(ORG, name, rule=f'tags has "{name}"')
    since = max([e.seq for e in workers[watcher].watch(ORG, since=0, follow=False)] or [0])
    # the raw stub, for a deadline on the whole stream (Client.watch has none)
    stream = workers[watcher]._stub.Watch(pb.WatchRequest(org=ORG, since=since), timeout=WAIT)
    try:
        for i in range(3):
            started = time.monotonic()
            workers[writer].ingest(ORG, [{"id": f"{name}-{i}", "tags": [name]}])
            events = list(next(stream).events)
            took = time.monotonic() - started
            assert [(e.type, e.segment, e.contact_id) for e in events] == [
                ("segment.joined", name, f"{name}-{i}")
            ]
            assert took < LIVE, f"the watcher saw the write after {took:.2f} s"
    finally:
        stream.cancel()


def test_webhooks_through_the_other_worker(workers: dict[int, Client]) -> None:
    with Receiver() as receiver:
        other = workers[1]  # not the primary, which delivers
        workers[0].create_segment(ORG, "hooked", rule='tags has "hooked"')
        hook = other.add_webhook(ORG, receiver.url, "secret", segments=["hooked"])
        other.ingest(ORG, [{"id": "h1", "tags": ["hooked"]}])
        wait_until(lambda: len(receiver.delivered()) >= 1, what="a delivery")
        assert [e["contact_id"] for e in receiver.delivered()] == ["h1"]
        assert [h.id for h in other.list_webhooks(ORG)] == [hook]
        other.delete_webhook(ORG, hook)
        time.sleep(1.0)  # the primary notices the deletion within its registry re-read
        workers[0].ingest(ORG, [{"id": "h2", "tags": ["hooked"]}])
        time.sleep(1.0)
        assert [e["contact_id"] for e in receiver.delivered()] == ["h1"]


def test_a_dead_worker_is_started_again(server: ServerProcess) -> None:
    first = clients_per_worker(server.address, 2)
    try:
        old = first[1].server_info().pid
    finally:
        for client in first.values():
            client.close()
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not alive(old), what="the killed worker to be gone")
    deadline = time.monotonic() + WAIT
    while True:
        assert time.monotonic() < deadline, "no new worker answered"
        try:
            again = clients_per_worker(server.address, 2)
        except (AssertionError, BitsegClientError):  # not back yet; a connection that hit
            time.sleep(0.2)  # the dying process's listener is reset
            continue
        try:
            assert again[1].server_info().pid != old
            assert again[1].count(ORG, {"field": "country", "op": "exists"}) >= 1
        finally:
            for client in again.values():
                client.close()
        return


def start(data: Path) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-m", "bitseg.cli", "serve", "--data", str(data), "--host",
            "127.0.0.1", "--port", "0", "--grace", "2", "--workers", "2"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, env=subprocess_env(), cwd=ROOT)
    return process, read_ready_address(process, WAIT)


def worker_pids(address: str) -> list[int]:
    found = clients_per_worker(address, 2)
    try:
        return [found[i].server_info().pid for i in (0, 1)]
    finally:
        for client in found.values():
            client.close()


def test_stopping_the_primary_by_pid_stops_every_worker(tmp_path: Path) -> None:
    process, address = start(tmp_path / "data")
    try:
        pids = worker_pids(address)
        assert pids[0] == process.pid
    finally:
        code = stop_process(process)
        if process.stdout is not None:
            process.stdout.close()
    assert code == 0
    wait_until(lambda: not any(alive(p) for p in pids), timeout=5, what="every worker to stop")


def test_killing_the_primary_leaves_no_orphan(tmp_path: Path) -> None:
    process, address = start(tmp_path / "data")
    try:
        pids = worker_pids(address)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(WAIT)
        wait_until(lambda: not alive(pids[1]), what="the orphaned worker to stop")
    finally:
        stop_process(process)
        if process.stdout is not None:
            process.stdout.close()
        for pid in pids[1:]:
            if alive(pid):  # never leave one behind, even when the test failed
                os.kill(pid, signal.SIGKILL)


def test_a_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [sys.executable, "-m", "bitseg.cli", "serve", "--data", str(tmp_path / "d"),
                "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        done = subprocess.run(args, capture_output=True, text=True, env=subprocess_env(),
                              cwd=ROOT, timeout=WAIT)
    assert done.returncode != 0
    assert "in use" in done.stderr
