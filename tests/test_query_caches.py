"""Per-call caches of the query path stay exact, and the threaded server's Watch limit.

A rule's decoded tree is kept by its wire form and its plan per org, data generation
and `now` (bitseg.server.rulecache, bitseg.plancache): repeating a rule must give the
answer a fresh evaluation gives after writes, segment changes and a different `now`,
and a bad rule must fail every time. Live Watch streams each hold a server thread:
beyond the limit they are refused while counts go on being served.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from changes_harness import WAIT, LoopServer

from bitseg.client import BitsegClientError, Client
from bitseg.v1 import bitseg_pb2 as pb

ORG = "acme"


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[Client]:
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [
            {"id": "a", "country": "DE", "created_at": "2026-11-01T00:00:00Z"},
            {"id": "b", "country": "DE", "created_at": "2026-11-15T00:00:00Z"},
            {"id": "c", "country": "FR", "created_at": "2026-11-19T00:00:00Z"},
        ])
        yield c


def test_relative_times_follow_now(client: Client) -> None:
    rule = 'created_at within last "7d"'
    assert client.count(ORG, rule, now="2026-11-20T12:00:00Z") == 2  # b, c
    assert client.count(ORG, rule, now="2026-11-05T12:00:00Z") == 1  # a
    assert client.count(ORG, rule, now="2026-11-20T12:00:00Z") == 2  # kept plan, same now


def test_writes_are_seen_by_a_repeated_rule(client: Client) -> None:
    rule = {"field": "country", "op": "eq", "value": "DE"}
    assert client.count(ORG, rule) == 2
    client.ingest(ORG, [{"id": "d", "country": "DE"}])
    assert client.count(ORG, rule) == 3
    client.ingest(ORG, [{"id": "a"}], op="delete")
    assert client.count(ORG, rule) == 2
    assert client.preview(ORG, rule).count == 2
    assert sorted(client.resolve(ORG, rule)) == ["b", "d"]


def test_schema_changes_are_seen_by_a_repeated_rule(client: Client) -> None:
    rule = {"field": "custom.seats", "op": "gt", "value": 3}
    with pytest.raises(BitsegClientError) as first:  # undeclared: a keyword, no `gt`
        client.count(ORG, rule)
    assert first.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(BitsegClientError) as again:  # errors are not kept, but repeated
        client.count(ORG, rule)
    assert str(again.value) == str(first.value)
    client.declare_fields(ORG, {"seats": "int"})
    client.ingest(ORG, [{"id": "a", "custom": {"seats": 5}}], op="patch")
    assert client.count(ORG, rule) == 1


def test_segment_changes_are_seen_through_references(client: Client) -> None:
    client.create_segment(ORG, "Germans", rule='country = "DE"')
    rule = 'in segment "Germans"'
    assert client.count(ORG, rule) == 2
    assert client.count_segment(ORG, "Germans") == 2
    client.update_segment(ORG, "Germans", rule='country = "FR"')
    assert client.count(ORG, rule) == 1
    assert client.count_segment(ORG, "Germans") == 1


def test_every_wire_form_gives_the_same_answer(client: Client) -> None:
    forms: list[object] = [
        'country = "DE"',
        {"field": "country", "op": "eq", "value": "DE"},
        pb.Rule(json='{"field": "country", "op": "eq", "value": "DE"}'),
    ]
    for _ in range(2):
        assert [client.count(ORG, form) for form in forms] == [2, 2, 2]


def test_watch_streams_beyond_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BITSEG_RPC_THREADS", "18")  # 16 reserved: 2 Watch streams at most
    with LoopServer(tmp_path / "data") as srv, Client(srv.address, timeout=WAIT) as c:
        c.ingest(ORG, [{"id": "a", "country": "DE"}])
        c.create_segment(ORG, "Germans", rule='country = "DE"')  # log entry 1: a joined
        clients = [Client(srv.address, timeout=WAIT) for _ in range(3)]
        streams = [cl._stub.Watch(pb.WatchRequest(org=ORG), timeout=WAIT) for cl in clients[:2]]
        try:
            for stream in streams:  # live (entry 1 arrived), each holding its slot
                assert [e.seq for e in next(stream).events] == [1]
            with pytest.raises(grpc.RpcError) as refused:
                list(clients[2]._stub.Watch(pb.WatchRequest(org=ORG), timeout=WAIT))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
            assert c.count(ORG, 'country = "DE"') == 1  # other calls are still served
            streams[0].cancel()
            for _ in range(100):  # the cancelled stream's slot comes back (bounded wait)
                try:
                    once = clients[2]._stub.Watch(pb.WatchRequest(org=ORG, follow=False),
                                                  timeout=WAIT)
                    assert [e.seq for m in once for e in m.events] == [1]
                    break
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
                    time.sleep(0.05)
            else:
                raise AssertionError("the slot of a cancelled Watch stream was not given back")
        finally:
            for stream in streams:
                stream.cancel()
            for cl in clients:
                cl.close()
