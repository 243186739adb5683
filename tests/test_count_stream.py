"""CountStream: many counts over one held gRPC stream, each exactly a unary Count.

Random orgs and rules (tests/strategies.py) are counted over a stream against the
reference evaluator and the unary Count; refused requests (unknown field, unknown org,
a message nested too deeply to decode, rule and segment both given) are answered with
their error and the stream goes on; answers stay in order when requests are sent
ahead and when threads share one stream; writes are seen by the next count; held
streams take the same limited slots as Watch streams.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from changes_harness import WAIT, LoopServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitseg.client import BitsegClientError, Client, count_request
from bitseg.rules.model import Rule
from bitseg.v1 import bitseg_pb2 as pb

try:
    from tests.reference import reference_members
    from tests.strategies import CUSTOM_SCHEMA, NOW, NOW_TEXT, ORG_SCHEMA, Org, orgs, rules
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import reference_members
    from strategies import CUSTOM_SCHEMA, NOW, NOW_TEXT, ORG_SCHEMA, Org, orgs, rules

ORG = "acme"
DE = 'country = "DE"'
_orgs = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopServer]:
    with LoopServer(tmp_path_factory.mktemp("count-stream") / "data") as srv:
        with Client(srv.address, timeout=WAIT) as c:
            c.ingest(ORG, [{"id": "a", "country": "DE"}, {"id": "b", "country": "DE"},
                           {"id": "c", "country": "FR"}])
            c.create_segment(ORG, "Germans", rule=DE)
        yield srv


@pytest.fixture(scope="module")
def client(server: LoopServer) -> Iterator[Client]:
    with Client(server.address, timeout=WAIT) as c:
        yield c


def _load(client: Client, model: Org) -> str:
    org = f"random{next(_orgs)}"
    client.declare_fields(org, CUSTOM_SCHEMA)
    if model.companies:
        client.ingest(org, list(model.companies.values()), kind="companies")
    if model.contacts:
        client.ingest(org, list(model.contacts.values()))
    return org


@settings(deadline=None, max_examples=25,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(model=orgs(), rule_list=st.lists(rules(), min_size=1, max_size=8))
def test_stream_counts_equal_the_reference_and_unary_count(
    client: Client, model: Org, rule_list: list[Rule]
) -> None:
    org = _load(client, model)
    with client.count_stream(timeout=WAIT) as stream:
        for rule in rule_list:
            expected = len(reference_members(rule, model.contacts, model.companies,
                                             ORG_SCHEMA, NOW))
            assert stream.count(org, rule, now=NOW_TEXT) == expected, rule
            assert client.count(org, rule, now=NOW_TEXT) == expected, rule


def _deep_node() -> pb.RuleNode:
    """A rule tree deeper than protobuf's own parser decodes."""
    node = pb.RuleNode()
    leaf = node
    for _ in range(200):
        leaf.logic = pb.LOGIC_NOT
        leaf = leaf.children.add()
    leaf.condition.field, leaf.condition.op = "country", "exists"
    return node


def test_refused_requests_are_answered_and_the_stream_goes_on(client: Client) -> None:
    bad: list[tuple[object, grpc.StatusCode, str]] = [
        ('colour = "red"', grpc.StatusCode.INVALID_ARGUMENT, "colour"),
        ({"field": "country", "op": "gt", "value": 3}, grpc.StatusCode.INVALID_ARGUMENT, "gt"),
        (_deep_node(), grpc.StatusCode.INVALID_ARGUMENT, "deep"),
    ]
    with client.count_stream(timeout=WAIT) as stream:
        for rule, code, named in bad:
            with pytest.raises(BitsegClientError) as refused:
                stream.count(ORG, rule)
            assert refused.value.code == code
            assert named in str(refused.value)
            assert stream.count(ORG, DE) == 2  # the stream is still usable
        with pytest.raises(BitsegClientError) as unknown_org:
            stream.count("no-such-org", DE)
        assert unknown_org.value.code == grpc.StatusCode.NOT_FOUND
        with pytest.raises(BitsegClientError) as unknown_segment:
            stream.count_segment(ORG, "no such segment")
        assert unknown_segment.value.code == grpc.StatusCode.NOT_FOUND
        assert stream.count_segment(ORG, "Germans") == 2
        count, micros = stream.count_with_time(ORG, DE)
        assert (count, stream.last_eval_micros) == (2, micros)


def test_requests_sent_ahead_are_answered_in_order(client: Client) -> None:
    rules_sent = [DE, 'colour = "x"', 'country = "FR"', "", 'country in ("DE", "FR")'] * 20
    requests = [count_request(ORG, rule, None) for rule in rules_sent]
    requests[3] = pb.CountRequest(org=ORG, segment="Germans", rule=pb.Rule(text=DE))  # both
    # (the other requests at i % 5 == 3 carry an empty rule: refused as well)
    answers = list(client._stub.CountStream(iter(requests), timeout=WAIT))
    assert len(answers) == len(requests)
    for i, answer in enumerate(answers):
        expected = {0: (2, ""), 1: (0, "INVALID_ARGUMENT"), 2: (1, ""),
                    3: (0, "INVALID_ARGUMENT"), 4: (3, "")}[i % 5]
        assert (answer.count, answer.error_code) == expected, (i, answer)
        assert bool(answer.error) == bool(answer.error_code)


def test_threads_sharing_a_stream_get_their_own_answers(client: Client) -> None:
    mistakes: list[str] = []
    with client.count_stream(timeout=WAIT) as stream:
        def ask(rule: str, expected: int) -> None:
            for _ in range(100):
                try:
                    got = stream.count(ORG, rule)
                except Exception as e:  # any failure in a thread is a mistake
                    mistakes.append(f"{rule}: {type(e).__name__}: {e}")
                    return
                if got != expected:
                    mistakes.append(f"{rule}: {got} != {expected}")
        threads = [threading.Thread(target=ask, args=args)
                   for args in ((DE, 2), ('country = "FR"', 1), ('country in ("DE", "FR")', 3))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        assert not any(t.is_alive() for t in threads)
    assert mistakes == []


def test_writes_are_seen_by_the_next_count(tmp_path: Path) -> None:
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": "a", "country": "DE"}])
        with c.count_stream(timeout=WAIT) as stream:
            assert stream.count(ORG, DE) == 1
            c.ingest(ORG, [{"id": "b", "country": "DE"}])
            assert stream.count(ORG, DE) == 2
            c.ingest(ORG, [{"id": "a"}], op="delete")
            assert stream.count(ORG, DE) == 1


def test_a_closed_stream_refuses_counts(client: Client) -> None:
    stream = client.count_stream(timeout=WAIT)
    assert stream.count(ORG, DE) == 2
    stream.close()
    stream.close()  # idempotent
    with pytest.raises(BitsegClientError) as closed:
        stream.count(ORG, DE)
    assert closed.value.code == grpc.StatusCode.CANCELLED


def test_held_streams_share_the_limited_slots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BITSEG_RPC_THREADS", "18")  # 16 reserved: 2 held streams at most
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": "a", "country": "DE"}])
        c.create_segment(ORG, "Germans", rule=DE)  # a log entry for the Watch stream
        watch = c._stub.Watch(pb.WatchRequest(org=ORG), timeout=WAIT)
        assert [e.seq for e in next(watch).events] == [1]  # live, holding a slot
        held = c.count_stream(timeout=WAIT)
        try:
            assert held.count(ORG, DE) == 1  # the second slot
            with c.count_stream(timeout=WAIT) as third, pytest.raises(BitsegClientError) as no:
                third.count(ORG, DE)
            assert no.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert c.count(ORG, DE) == 1  # unary calls are still served
            held.close()
            _open_when_free(c)  # the closed stream's slot comes back
        finally:
            held.close()
            watch.cancel()


def _open_when_free(c: Client) -> None:
    """Count over a new stream as soon as the one slot is free again (bounded wait)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with c.count_stream(timeout=WAIT) as again:
                assert again.count(ORG, DE) == 1
            return
        except BitsegClientError as e:
            assert e.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() < deadline, "an ended stream kept its slot"
            time.sleep(0.02)


def _blocked_requests() -> Iterator[pb.IngestRequest]:
    yield pb.IngestRequest(org=ORG)
    time.sleep(WAIT)  # ends with the test's client (the call is cancelled first)


def test_closing_or_cancelling_a_stream_is_not_a_server_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BITSEG_RPC_THREADS", "17")  # 16 reserved: one held stream at most
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": "a", "country": "DE"}])
        with caplog.at_level("ERROR", logger="bitseg.server"):
            stream = c.count_stream(timeout=WAIT)
            assert stream.count(ORG, DE) == 1
            stream.close()  # the server ends the stream: its slot is free at once
            with c.count_stream(timeout=WAIT) as next_one:
                assert next_one.count(ORG, DE) == 1
            cancelled = c.count_stream(timeout=WAIT)
            assert cancelled.count(ORG, DE) == 1
            cancelled._responses.cancel()  # as a client that goes away mid-stream
            _open_when_free(c)
            cancelled.close()
            ingest = c._stub.Ingest.future(_blocked_requests(), timeout=WAIT)
            time.sleep(0.2)  # the server is reading the (never ending) upload
            ingest.cancel()  # a client-streamed call cancelled: no error either
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == []


def test_a_held_stream_does_not_keep_the_server_from_stopping(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    srv = LoopServer(tmp_path / "data").start()
    try:
        with Client(srv.address, timeout=WAIT) as c:
            c.ingest(ORG, [{"id": "a", "country": "DE"}])
            stream = c.count_stream(timeout=WAIT)
            assert stream.count(ORG, DE) == 1
            with caplog.at_level("ERROR", logger="bitseg.server"):
                started = time.monotonic()
                srv.stop(grace=0.5)  # the held stream is cancelled after the grace period
                assert time.monotonic() - started < 10
            with pytest.raises(BitsegClientError) as gone:
                stream.count(ORG, DE)
            assert gone.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
            stream.close()
    finally:
        srv.stop()
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_stream_dropped_without_close_lets_its_threads_go(client: Client) -> None:
    before = set(threading.enumerate())
    streams = [client.count_stream(timeout=WAIT) for _ in range(5)]
    assert [s.count(ORG, DE) for s in streams] == [2] * 5
    feeders = [t for t in set(threading.enumerate()) - before  # the server's are in-process
               if not t.name.startswith(("bitseg-", "asyncio"))]
    assert len(feeders) >= 5  # grpc's threads feeding each stream's requests
    del streams
    gc.collect()
    deadline = time.monotonic() + WAIT
    while any(t.is_alive() for t in feeders):
        assert time.monotonic() < deadline, "request-feeding threads outlived their streams"
        time.sleep(0.02)


def test_an_unexpected_server_error_ends_the_stream_as_internal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": "a", "country": "DE"}])
        stream = c.count_stream(timeout=WAIT)
        assert stream.count(ORG, DE) == 1

        def broken(*args: object, **kwargs: object) -> tuple[int, float]:
            raise RuntimeError("a bug")

        monkeypatch.setattr(srv.server._service, "count", broken)
        with caplog.at_level("ERROR", logger="bitseg.server"), \
                pytest.raises(BitsegClientError) as failed:
            stream.count(ORG, DE)
        assert failed.value.code == grpc.StatusCode.INTERNAL
        assert any("CountStream" in r.getMessage() for r in caplog.records)
        with pytest.raises(BitsegClientError) as closed:  # the stream has ended
            stream.count(ORG, DE)
        assert closed.value.code == grpc.StatusCode.CANCELLED
        stream.close()


def test_a_held_stream_does_not_take_one_of_the_active_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BITSEG_RPC_ACTIVE", "1")  # one call at a time per process
    monkeypatch.setenv("BITSEG_RPC_OVERFLOW_MS", str(int(WAIT * 3000)))  # never ages out
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": "a", "country": "DE"}])
        with c.count_stream() as held, c.count_stream(timeout=5) as other:
            assert held.count(ORG, DE) == 1  # open, then waiting for its next request
            assert other.count(ORG, DE) == 1  # (would wait for `held` to end: 5 s deadline)
            started = time.monotonic()
            assert c.count(ORG, DE) == 1  # not queued behind the two held streams
            assert time.monotonic() - started < 5
