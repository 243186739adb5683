"""The Watch RPC, `Client.watch` and `bitseg watch` against an in-process server.

Log entries are appended directly with `bitseg.store.changelog.append` on the server's
writer thread (the producer side is tested elsewhere); every expectation is the log
itself, read back from the store, so entries the producer may add do not matter.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import orjson
import pytest
from changes_harness import WAIT, LoopServer, append_offline, entry, read_log
from click.testing import CliRunner

from bitseg.cli import cli
from bitseg.client import BitsegClientError, ChangeEvent, Client

ORG = "acme"
SEG = "seg_00000000000a"


def seqs(events: list[ChangeEvent]) -> list[int]:
    return [e.seq for e in events]


def as_dicts(events: list[ChangeEvent]) -> list[dict[str, object]]:
    return [e.to_dict() for e in events]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LoopServer]:
    with LoopServer(tmp_path / "data") as srv, Client(srv.address) as client:
        client.ingest(ORG, [{"id": "c1"}])  # the org exists from its first ingest
        yield srv


@pytest.fixture()
def client(server: LoopServer) -> Iterator[Client]:
    with Client(server.address, timeout=WAIT) as c:
        yield c


class Collector:
    """Iterate a watch on a thread, handing events over through a queue."""

    def __init__(self, events: Iterator[ChangeEvent]) -> None:
        self.queue: queue.Queue[ChangeEvent | BaseException] = queue.Queue()
        self.events = events
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.events:
                self.queue.put(event)
        except BaseException as e:  # handed to the test thread
            self.queue.put(e)

    def take(self, n: int, timeout: float = WAIT) -> list[ChangeEvent]:
        out: list[ChangeEvent] = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            item = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(item, BaseException):
                raise item
            out.append(item)
        return out


def test_watch_from_zero_from_n_and_no_follow_ends(server: LoopServer, client: Client) -> None:
    server.append(ORG, [entry(SEG, "VIP", f"c{i}", joined=i % 3 != 0) for i in range(1, 8)])
    log = read_log(server.store(ORG))
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))  # gap-free from 1

    everything = list(client.watch(ORG, since=0, follow=False))
    assert as_dicts(everything) == log  # every field, in order
    assert {e.type for e in everything} >= {"segment.joined", "segment.left"}

    last = log[-1]["seq"]
    assert isinstance(last, int)
    assert as_dicts(list(client.watch(ORG, since=3, follow=False))) == log[3:]
    assert list(client.watch(ORG, since=last, follow=False)) == []

    with pytest.raises(BitsegClientError) as e:
        list(client.watch(ORG, since=last + 1, follow=False))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "past the end" in str(e.value)


def test_follow_is_woken_by_commits_not_polling(server: LoopServer, client: Client) -> None:
    server.hub.signals.poll_interval = 60.0  # only the commit wake-up can be in time:
    server.hub.signals.probe_interval = 60.0  # no fallback re-read, no log-end probe
    first = server.append(ORG, [entry(SEG, "VIP", "c1")])
    collector = Collector(client.watch(ORG, since=first - 1))
    assert seqs(collector.take(1)) == [first]  # the backlog, then live

    latencies = []
    for i in range(5):
        started = time.perf_counter()
        seq = server.append(ORG, [entry(SEG, "VIP", f"live{i}"), entry(SEG, "VIP", f"b{i}")])
        got = collector.take(2, timeout=10.0)
        latencies.append(time.perf_counter() - started)
        assert seqs(got) == [seq - 1, seq]
    assert max(latencies) < 10.0
    assert sorted(latencies)[len(latencies) // 2] < 1.0, latencies  # median: a wake-up


def test_reconnect_resumes_without_gap_or_duplicate(server: LoopServer, client: Client) -> None:
    server.append(ORG, [entry(SEG, "VIP", f"a{i}") for i in range(10)])
    seen: list[ChangeEvent] = []
    stream = client.watch(ORG, since=0)
    for event in stream:
        seen.append(event)
        if len(seen) == 4:
            break  # "disconnect": the call is cancelled
    stream.close()
    server.append(ORG, [entry(SEG, "VIP", f"b{i}") for i in range(5)])  # while away

    collector = Collector(client.watch(ORG, since=seen[-1].seq))
    end = len(read_log(server.store(ORG)))
    seen += collector.take(end - len(seen))
    server.append(ORG, [entry(SEG, "VIP", "c-live")])
    seen += collector.take(1)
    assert as_dicts(seen) == read_log(server.store(ORG))
    assert seqs(seen) == list(range(1, len(seen) + 1))


def test_reconnect_across_a_server_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = LoopServer(data).start()
    port = first.port
    try:
        with Client(first.address) as c:
            c.ingest(ORG, [{"id": "c1"}])
        first.append(ORG, [entry(SEG, "VIP", f"a{i}") for i in range(3)])
        client = Client(first.address)
        collector = Collector(client.watch(ORG, reconnect=True, max_backoff=0.5))
        got = collector.take(3)
    finally:
        first.stop()  # the live stream ends with UNAVAILABLE; the client retries
    append_offline(data, ORG, [entry(SEG, "VIP", f"b{i}") for i in range(2)])
    with LoopServer(data, port=port) as second:
        second.append(ORG, [entry(SEG, "VIP", "c-live")])
        got += collector.take(3)
        assert as_dicts(got) == read_log(second.store(ORG))
        assert seqs(got) == list(range(1, 7))
    client.close()


def test_shutdown_ends_live_streams_promptly(tmp_path: Path) -> None:
    srv = LoopServer(tmp_path / "data").start()
    with Client(srv.address) as client:
        client.ingest(ORG, [{"id": "c1"}])
        collector = Collector(client.watch(ORG))
        time.sleep(0.2)  # let the stream reach its wait
        started = time.monotonic()
        srv.stop(grace=10.0)
        assert time.monotonic() - started < 5.0  # not held for the whole grace period
        with pytest.raises(BitsegClientError) as e:
            collector.take(1)
        assert e.value.code == grpc.StatusCode.UNAVAILABLE


def test_unknown_org_and_bad_requests(server: LoopServer, client: Client) -> None:
    for org in ("nobody", "nobody-else"):
        with pytest.raises(BitsegClientError) as e:
            next(client.watch(org, follow=False))
        assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(BitsegClientError) as e:
        next(client.watch("bad org!"))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(BitsegClientError) as e:
        next(client.watch(""))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_cli_watch_no_follow(server: LoopServer) -> None:
    server.append(ORG, [entry(SEG, "VIP", "c1"), entry(SEG, "VIP", "c2", joined=False)])
    log = read_log(server.store(ORG))
    runner = CliRunner()
    args = ["watch", "--org", ORG, "--server", server.address, "--no-follow"]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert [orjson.loads(line) for line in lines] == log

    result = runner.invoke(cli, [*args, "--since", str(len(log) - 1)])
    assert result.exit_code == 0, result.output
    last = log[-1]
    assert f"{last['seq']}\t{last['at']}\tsegment.left\t{SEG}\tVIP\tc2\twrite" in result.stdout

    result = runner.invoke(cli, ["watch", "--org", "nobody", "--server", server.address])
    assert result.exit_code == 1
    assert "NOT_FOUND" in result.output


def test_real_writes_reach_a_live_watcher(server: LoopServer, client: Client) -> None:
    """With the producer in place: a segment save and an ingest, seen live, in order."""
    start = len(read_log(server.store(ORG)))
    collector = Collector(client.watch(ORG, since=start))
    segment = client.create_segment(ORG, "Germans", rule='country = "DE"')
    client.ingest(ORG, [{"id": "d1", "country": "DE"}, {"id": "d2", "country": "FR"}])
    client.ingest(ORG, [{"id": "d1", "country": "FR"}])
    got = collector.take(2)
    assert [(e.type, e.segment_id, e.segment, e.contact_id) for e in got] == [
        ("segment.joined", segment.id, "Germans", "d1"),
        ("segment.left", segment.id, "Germans", "d1"),
    ]
    assert as_dicts(got) == read_log(server.store(ORG), after=start)
