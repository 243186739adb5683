"""Segment catalog end to end: every operation and every error, through the real server
(a subprocess on 127.0.0.1, port 0) and the real client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import grpc
import pytest
from serverproc import ServerProcess, start_server

from bitseg.client import BitsegClientError, Client, Segment
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

ORG = "segcat"
NOW = "2026-11-20T12:00:00Z"
CONTACTS = [
    {"id": "c1", "name": "Anna", "email": "anna@a.de", "country": "DE", "lead_score": 90,
     "tags": ["vip"]},
    {"id": "c2", "name": "Bruno", "email": "bruno@b.fr", "country": "FR", "lead_score": 50},
    {"id": "c3", "name": "Clara", "email": "clara@c.de", "country": "DE", "lead_score": 20},
    {"id": "c4", "name": "Dan", "email": "dan@d.us", "country": "US", "lead_score": 95,
     "tags": ["vip"]},
]
DE = {"field": "country", "op": "eq", "value": "DE"}
SEGMENT_ID = re.compile(r"^seg_[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=30) as c:
        c.ingest(ORG, CONTACTS)
        yield c


@pytest.fixture()
def stub(server: ServerProcess) -> Iterator[pb_grpc.BitsegStub]:
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.BitsegStub(channel)


def status_of(fn: object, *args: object, **kwargs: object) -> tuple[grpc.StatusCode, str]:
    """The status code and message of the client error the call raises."""
    with pytest.raises(BitsegClientError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value.code, str(info.value)


# ---------------------------------------------------------------------------- create / get


def test_create_dynamic_and_get_by_id_and_name(client: Client) -> None:
    made = client.create_segment(ORG, "German contacts", rule=DE, description="all of DE")
    assert SEGMENT_ID.match(made.id)
    assert made.type == "dynamic" and made.rule == DE and made.rule_text == 'country = "DE"'
    assert made.description == "all of DE" and not made.archived
    assert made.created_at.endswith("Z") and made.updated_at == made.created_at
    assert client.get_segment(ORG, made.id) == made
    assert client.get_segment(ORG, "german CONTACTS") == made  # names are case-insensitive
    assert client.count_segment(ORG, made.id) == 2
    assert client.count_segment(ORG, "German contacts") == 2


def test_create_static_with_members_reports_unknown_ids(client: Client) -> None:
    made = client.create_segment(ORG, "Picked", members=["c1", "c4", "nobody", "c1"])
    assert made.type == "static" and made.rule is None and made.rule_text == ""
    assert made.unknown_members == ("nobody",)
    assert sorted(client.resolve_segment(ORG, "Picked")) == ["c1", "c4"]


def test_create_empty_static_and_text_rule(client: Client) -> None:
    empty = client.create_segment(ORG, "Empty list")
    assert empty.type == "static" and client.count_segment(ORG, empty.id) == 0
    hot = client.create_segment(ORG, "Hot", rule="lead_score > 80")
    assert hot.rule == {"field": "lead_score", "op": "gt", "value": 80}
    assert sorted(client.resolve_segment(ORG, "hot")) == ["c1", "c4"]


def test_duplicate_names_are_refused_case_insensitively(client: Client) -> None:
    client.create_segment(ORG, "Unique name", rule=DE)
    code, message = status_of(client.create_segment, ORG, "  UNIQUE NAME ", rule=DE)
    assert code == grpc.StatusCode.ALREADY_EXISTS and '"Unique name" already exists' in message
    other = client.create_segment(ORG, "Other name", rule=DE)
    code, _ = status_of(client.update_segment, ORG, other.id, name="unique name")
    assert code == grpc.StatusCode.ALREADY_EXISTS
    # a rename that also changes the rule is refused for the name, not taken as a cycle
    code, _ = status_of(client.update_segment, ORG, other.id, name="unique name",
                        rule={"segment": "Unique name"})
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert client.get_segment(ORG, other.id).name == "Other name"


@pytest.mark.parametrize(
    ("name", "match"),
    [("", "non-empty name"), ("   ", "non-empty name"),
     ("seg_0123456789ab", "shape of a segment id"), ("x" * 201, "at most 200")],
)
def test_bad_names_are_invalid_argument(client: Client, name: str, match: str) -> None:
    code, message = status_of(client.create_segment, ORG, name)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and match in message


def test_rules_are_validated_at_save_time(client: Client) -> None:
    code, message = status_of(client.create_segment, ORG, "Bad", rule={"field": "contry",
                                                                      "op": "eq", "value": "DE"})
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "contry" in message
    code, message = status_of(client.create_segment, ORG, "Bad", rule="lead_score > ")
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(BitsegClientError):
        client.get_segment(ORG, "Bad")  # nothing was saved


def test_rule_and_members_together_are_refused(client: Client, stub: pb_grpc.BitsegStub) -> None:
    with pytest.raises(ValueError):
        client.create_segment(ORG, "Both kinds", rule=DE, members=["c1"])
    request = pb.CreateSegmentRequest(org=ORG, name="Both kinds", members=["c1"])
    request.rule.json = '{"field": "country", "op": "eq", "value": "DE"}'
    with pytest.raises(grpc.RpcError) as info:
        stub.CreateSegment(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_segment_and_unknown_org_are_not_found(client: Client) -> None:
    for call in (
        lambda: client.get_segment(ORG, "no such segment"),
        lambda: client.get_segment(ORG, "seg_000000000000"),
        lambda: client.count_segment(ORG, "no such segment"),
        lambda: client.count(ORG, {"segment": "no such segment"}),
        lambda: client.update_segment(ORG, "no such segment", description="x"),
        lambda: client.delete_segment(ORG, "no such segment"),
        lambda: client.add_members(ORG, "no such segment", ["c1"]),
        lambda: client.create_segment(ORG, "Refers", rule={"segment": "no such segment"}),
        lambda: client.list_segments("no-such-org"),
        lambda: client.create_segment("no-such-org", "x"),
    ):
        code, _ = status_of(call)
        assert code == grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------------------- list / update


def test_list_is_by_name_and_hides_archived(client: Client) -> None:
    a = client.create_segment(ORG, "list-b")
    b = client.create_segment(ORG, "LIST-a", rule=DE)
    names = [s.name for s in client.list_segments(ORG)]
    assert names == sorted(names, key=str.casefold)
    assert names.index("LIST-a") < names.index("list-b")
    archived = client.archive_segment(ORG, a.id)
    assert archived.archived and archived.updated_at >= a.updated_at
    assert a.id not in {s.id for s in client.list_segments(ORG)}
    everything = client.list_segments(ORG, include_archived=True)
    assert {a.id, b.id} <= {s.id for s in everything}
    assert client.count_segment(ORG, a.id) == 0  # an archived segment still works
    assert client.unarchive_segment(ORG, a.id).archived is False
    assert a.id in {s.id for s in client.list_segments(ORG)}


def test_update_name_description_and_rule(client: Client) -> None:
    made = client.create_segment(ORG, "To update", rule=DE)
    renamed = client.update_segment(ORG, "to update", name="Updated", description="now FR")
    assert (renamed.id, renamed.name, renamed.description) == (made.id, "Updated", "now FR")
    assert renamed.rule == DE
    changed = client.update_segment(ORG, made.id, rule='country = "FR"')
    assert changed.rule_text == 'country = "FR"' and changed.name == "Updated"
    assert client.resolve_segment(ORG, made.id) == ["c2"]  # evaluated when asked
    with pytest.raises(BitsegClientError):
        client.get_segment(ORG, "To update")


def test_rule_of_a_static_segment_cannot_be_set(client: Client) -> None:
    made = client.create_segment(ORG, "Static list", members=["c1"])
    code, message = status_of(client.update_segment, ORG, made.id, rule=DE)
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "static" in message


# ---------------------------------------------------------------------------- duplicate


def test_duplicate_dynamic_and_static(client: Client) -> None:
    dyn = client.create_segment(ORG, "Dup source", rule=DE, description="d")
    first = client.duplicate_segment(ORG, dyn.id)
    second = client.duplicate_segment(ORG, "dup source")
    named = client.duplicate_segment(ORG, dyn.id, name="Dup named")
    assert (first.name, second.name, named.name) == (
        "Dup source (copy)", "Dup source (copy 2)", "Dup named")
    assert len({dyn.id, first.id, second.id, named.id}) == 4
    assert first.rule == dyn.rule and first.description == "d" and first.type == "dynamic"
    static = client.create_segment(ORG, "Dup list", members=["c2", "c3"])
    copy = client.duplicate_segment(ORG, static.id)
    assert copy.type == "static" and sorted(client.resolve_segment(ORG, copy.id)) == ["c2", "c3"]
    client.add_members(ORG, copy.id, ["c1"])  # copies are independent
    assert client.count_segment(ORG, static.id) == 2 and client.count_segment(ORG, copy.id) == 3
    code, _ = status_of(client.duplicate_segment, ORG, static.id, name="dup LIST")
    assert code == grpc.StatusCode.ALREADY_EXISTS


# ---------------------------------------------------------------------------- delete


def test_delete(client: Client) -> None:
    made = client.create_segment(ORG, "Doomed", members=["c1", "c2"])
    client.delete_segment(ORG, "doomed")
    code, _ = status_of(client.get_segment, ORG, made.id)
    assert code == grpc.StatusCode.NOT_FOUND
    again = client.create_segment(ORG, "Doomed")  # the name is free again, with no members
    assert again.id != made.id and client.count_segment(ORG, again.id) == 0


# ---------------------------------------------------------------------------- upsert by name


def test_upsert_by_name_is_idempotent_and_ordered(client: Client) -> None:
    existing = client.create_segment(ORG, "Cooldown — Mar 2026", rule=DE)
    names = ["Q1 batch", "cooldown — mar 2026", "Already ran campaign X", "q1 BATCH"]
    ids = client.upsert_segments_by_name(ORG, names)
    assert len(ids) == 4 and ids[1] == existing.id and ids[0] == ids[3]
    assert all(SEGMENT_ID.match(i) for i in ids)
    assert client.upsert_segments_by_name(ORG, names) == ids
    created = client.get_segment(ORG, ids[0])
    assert created.name == "Q1 batch" and created.type == "static"
    assert client.count_segment(ORG, ids[0]) == 0
    assert client.get_segment(ORG, ids[1]).type == "dynamic"  # existing ones untouched
    assert client.upsert_segments_by_name(ORG, []) == []
    code, _ = status_of(client.upsert_segments_by_name, ORG, ["ok", " "])
    assert code == grpc.StatusCode.INVALID_ARGUMENT


# ---------------------------------------------------------------------------- queries by segment


def test_count_preview_resolve_list_by_segment(client: Client) -> None:
    made = client.create_segment(ORG, "Query me", rule="lead_score >= 50")
    assert client.count_segment(ORG, made.id, now=NOW) == 3
    preview = client.preview_segment(ORG, made.id, limit=2)
    assert preview.count == 3 and [m.id for m in preview.members] == ["c1", "c2"]
    assert preview.members[0].name == "Anna" and preview.members[0].email == "anna@a.de"
    assert sorted(client.resolve_segment(ORG, "query me")) == ["c1", "c2", "c4"]
    page = client.list_members(ORG, segment=made.id, page_size=2)
    assert page.ids == ["c1", "c2"] and page.next_cursor
    last = client.list_members(ORG, segment=made.id, page_size=2, cursor=page.next_cursor)
    assert last.ids == ["c4"] and last.next_cursor == ""
    with pytest.raises(ValueError):
        client.list_members(ORG, DE, segment=made.id)


def test_segment_and_rule_together_are_refused(stub: pb_grpc.BitsegStub) -> None:
    request = pb.CountRequest(org=ORG, segment="Hot")
    request.rule.text = 'country = "DE"'
    with pytest.raises(grpc.RpcError) as info:
        stub.Count(request)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_segment_fields_on_the_wire(stub: pb_grpc.BitsegStub, client: Client) -> None:
    made = client.create_segment(ORG, "Wire", rule=DE)
    message = stub.GetSegment(pb.GetSegmentRequest(org=ORG, segment=made.id))
    assert message.type == pb.SEGMENT_TYPE_DYNAMIC
    assert message.rule_json == '{"field":"country","op":"eq","value":"DE"}'
    assert isinstance(made, Segment)
