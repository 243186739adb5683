"""Reading and changing segment members end to end, over 100,000 contacts: static members
added and removed by id (unknown ids reported), the ListMembers cursor walking every member
exactly once (also while members change), resolve, CSV export and export to list."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from serverproc import ServerProcess, start_server

from bitseg import client as client_module
from bitseg.client import BitsegClientError, Client
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

ORG = "segmembers"
NOW = "2026-11-20T12:00:00Z"
N = 100_000
COUNTRIES = ("DE", "FR", "US")
SPECIAL = {  # contacts whose fields need CSV quoting, or are missing
    "p0000003": {"name": 'Zoë "Z" Müller, Jr.', "email": "zoe@mueller.de", "company_id": "co1"},
    "p0000005": {"name": "Line\nbreak", "company_id": "co2"},
    "p0000007": {"email": "only@email.fr"},
}
COMPANIES = [{"id": "co1", "name": "Acme, Inc."}, {"id": "co2", "name": 'The "Best" Co'}]


def contact(i: int) -> dict[str, Any]:
    cid = f"p{i:07d}"
    if cid in SPECIAL:
        return {"id": cid, "country": "DE", **SPECIAL[cid]}
    return {"id": cid, "name": f"Person {i}", "email": f"p{i}@example.com",
            "country": COUNTRIES[i % 3]}


def ids(*numbers: int) -> list[str]:
    return [f"p{i:07d}" for i in numbers]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    folder = tmp_path_factory.mktemp("contacts")
    with (folder / "contacts.jsonl").open("wb") as f:
        f.writelines(orjson.dumps(contact(i)) + b"\n" for i in range(N))
    (folder / "companies.jsonl").write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in COMPANIES))
    with Client(server.address, timeout=60) as c:
        c.load(ORG, folder)
        yield c


@pytest.fixture(scope="module")
def everyone(client: Client) -> str:
    """A static segment of all 100,000 contacts."""
    made = client.create_segment(ORG, "Everyone", members=ids(*range(N)))
    assert made.unknown_members == ()
    return made.id


@pytest.fixture()
def stub(server: ServerProcess) -> Iterator[pb_grpc.BitsegStub]:
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.BitsegStub(channel)


def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(BitsegClientError) as info:
        call()
    return info.value.code


def walk(client: Client, segment: str, page_size: int = 1000) -> Iterator[list[str]]:
    cursor = ""
    while True:
        page = client.list_members(ORG, segment=segment, cursor=cursor, page_size=page_size)
        yield page.ids
        cursor = page.next_cursor
        if not cursor:
            return


# ---------------------------------------------------------------------------- add / remove


def test_add_and_remove_members(client: Client) -> None:
    made = client.create_segment(ORG, "Hand picked")
    added = client.add_members(ORG, made.id, [*ids(1, 2, 3, 2), "ghost", "", "p9999999"])
    assert (added.changed, added.unchanged) == (3, 0)
    assert added.unknown == ["ghost", "", "p9999999"] and added.unknown_count == 3
    again = client.add_members(ORG, "hand picked", ids(3, 4))
    assert (again.changed, again.unchanged, again.unknown) == (1, 1, [])
    assert sorted(client.resolve_segment(ORG, made.id)) == ids(1, 2, 3, 4)
    removed = client.remove_members(ORG, made.id, [*ids(1, 9), "ghost"])
    assert (removed.changed, removed.unchanged, removed.unknown) == (1, 1, ["ghost"])
    assert client.count_segment(ORG, made.id) == 3
    nothing = client.add_members(ORG, made.id, [])
    assert (nothing.changed, nothing.unchanged, nothing.unknown_count) == (0, 0, 0)


def test_many_unknown_ids_are_counted_and_some_listed(client: Client) -> None:
    made = client.create_segment(ORG, "Mostly unknown")
    result = client.add_members(ORG, made.id, [f"x{i}" for i in range(2_500)] + ids(10))
    assert result.changed == 1 and result.unknown_count == 2_500
    assert result.unknown == [f"x{i}" for i in range(1_000)]


def test_many_members_travel_in_several_requests(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MEMBER_BATCH", 1_000)
    wanted = [*ids(*range(50_000, 55_500)), "ghost-1", "ghost-2"]
    made = client.create_segment(ORG, "Batched", members=wanted)
    assert made.unknown_members == ("ghost-1", "ghost-2")
    assert client.count_segment(ORG, made.id) == 5_500
    removed = client.remove_members(ORG, made.id, ids(*range(50_000, 52_500)))
    assert removed.changed == 2_500 and client.count_segment(ORG, made.id) == 3_000


def test_member_changes_on_a_dynamic_segment_are_refused(client: Client) -> None:
    client.create_segment(ORG, "Germans", rule='country = "DE"')
    for call in (lambda: client.add_members(ORG, "Germans", ids(1)),
                 lambda: client.remove_members(ORG, "Germans", ids(1))):
        with pytest.raises(BitsegClientError, match="dynamic") as info:
            call()
        assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION


def test_deleted_contacts_leave_static_segments(client: Client) -> None:
    extra = ["temp-1", "temp-2", "temp-3"]
    client.ingest(ORG, [{"id": i, "country": "DE"} for i in extra])
    made = client.create_segment(ORG, "Will shrink", members=extra)
    client.ingest(ORG, [{"id": "temp-2"}], op="delete")
    assert sorted(client.resolve_segment(ORG, made.id)) == ["temp-1", "temp-3"]
    assert client.count_segment(ORG, made.id) == 2
    result = client.add_members(ORG, made.id, ["temp-2"])  # a deleted contact is unknown
    assert result.unknown == ["temp-2"]
    client.ingest(ORG, [{"id": i} for i in ("temp-1", "temp-3")], op="delete")


# ---------------------------------------------------------------------------- cursor walks


def test_cursor_walk_over_100k_members_returns_each_once(client: Client, everyone: str) -> None:
    pages = list(walk(client, everyone))
    assert len(pages) == 100 and all(len(p) == 1000 for p in pages)
    seen = [i for page in pages for i in page]
    assert len(seen) == N and set(seen) == set(ids(*range(N)))


def test_cursor_walk_over_a_dynamic_segment(client: Client) -> None:
    made = client.create_segment(ORG, "French", rule='country = "FR"')
    seen = [i for page in walk(client, made.id, page_size=777) for i in page]
    expected = {c["id"] for c in map(contact, range(N)) if c["country"] == "FR"}
    assert len(seen) == len(expected) and set(seen) == expected


def test_cursor_is_stable_while_members_change(client: Client) -> None:
    made = client.create_segment(ORG, "Moving", members=ids(*range(0, 30_000, 3)))
    pages = walk(client, made.id, page_size=500)
    seen = [*next(pages), *next(pages)]  # the first 1,000 members
    walked, ahead = ids(0, 3, 6), ids(29_997, 29_994)
    client.remove_members(ORG, made.id, walked + ahead)
    client.add_members(ORG, made.id, ids(1, 29_998))  # one behind the cursor, one ahead
    seen += [i for page in pages for i in page]
    assert len(seen) == len(set(seen))
    throughout = set(ids(*range(0, 30_000, 3))) - set(walked) - set(ahead)
    assert throughout <= set(seen)
    assert not set(ahead) & set(seen) and ids(29_998)[0] in seen and ids(1)[0] not in seen


def test_a_page_after_the_last_is_empty(client: Client) -> None:
    made = client.create_segment(ORG, "Three", members=ids(40, 41, 42))
    first = client.list_members(ORG, segment=made.id, page_size=2)
    assert first.ids == ids(40, 41) and first.next_cursor
    client.remove_members(ORG, made.id, ids(42))
    after = client.list_members(ORG, segment=made.id, page_size=2, cursor=first.next_cursor)
    assert after.ids == [] and after.next_cursor == ""


def test_page_size_and_cursor_are_checked(client: Client, everyone: str) -> None:
    assert code_of(lambda: client.list_members(ORG, segment=everyone, page_size=1001)) == (
        grpc.StatusCode.INVALID_ARGUMENT)
    assert code_of(lambda: client.list_members(ORG, segment=everyone, cursor="bogus")) == (
        grpc.StatusCode.INVALID_ARGUMENT)
    assert len(client.list_members(ORG, segment=everyone, page_size=0).ids) == 100


# ---------------------------------------------------------------------------- resolve / preview


def test_resolve_100k_static_members_is_fast(client: Client, everyone: str) -> None:
    client.resolve_segment(ORG, everyone)  # warm the server's id table
    started = time.perf_counter()
    resolved = client.resolve_segment(ORG, "everyone")
    elapsed = time.perf_counter() - started
    assert len(resolved) == N and len(set(resolved)) == N
    assert elapsed < 1.0, f"resolving {N:,} members took {elapsed:.2f} s"


def test_preview_by_segment_has_names_emails_and_companies(client: Client) -> None:
    made = client.create_segment(ORG, "Special", members=list(SPECIAL))
    preview = client.preview_segment(ORG, made.id, limit=2)
    assert preview.count == 3 and [m.id for m in preview.members] == list(SPECIAL)[:2]
    zoe = preview.members[0]
    assert (zoe.name, zoe.email, zoe.company) == ('Zoë "Z" Müller, Jr.', "zoe@mueller.de",
                                                  "Acme, Inc.")


# ---------------------------------------------------------------------------- CSV export


EXPECTED_SPECIAL_CSV = [
    ["id", "name", "email", "company"],
    ["p0000003", 'Zoë "Z" Müller, Jr.', "zoe@mueller.de", "Acme, Inc."],
    ["p0000005", "Line\nbreak", "", 'The "Best" Co'],
    ["p0000007", "", "only@email.fr", ""],
    ["p0000010", "Person 10", "p10@example.com", ""],
]


def test_csv_export_quotes_and_leaves_missing_fields_empty(client: Client, tmp_path: Path) -> None:
    made = client.create_segment(ORG, "CSV me", members=[*SPECIAL, *ids(10)])
    data = client.export_csv(ORG, made.id)
    assert isinstance(data, bytes) and data.startswith(b"id,name,email,company\r\n")
    assert list(csv.reader(io.StringIO(data.decode(), newline=""))) == EXPECTED_SPECIAL_CSV
    assert client.export_csv(ORG, "csv me", tmp_path / "out.csv") == 4
    assert (tmp_path / "out.csv").read_bytes() == data
    sink = io.BytesIO()
    assert client.export_csv(ORG, made.id, sink) == 4 and sink.getvalue() == data


def test_csv_export_by_rule_and_of_nobody(client: Client) -> None:
    data = client.export_csv(ORG, rule={"field": "email", "op": "eq", "value": "only@email.fr"})
    assert data == b"id,name,email,company\r\np0000007,,only@email.fr,\r\n"
    empty = client.create_segment(ORG, "Nobody")
    assert client.export_csv(ORG, empty.id) == b"id,name,email,company\r\n"
    assert code_of(lambda: client.export_csv(ORG, "no such segment")) == (
        grpc.StatusCode.NOT_FOUND)


def test_csv_export_streams_100k_rows_in_chunks(stub: pb_grpc.BitsegStub, everyone: str) -> None:
    chunks = list(stub.ExportMembersCsv(pb.ExportMembersCsvRequest(org=ORG, segment=everyone)))
    assert len(chunks) > 1 and chunks[0].total == N and chunks[0].eval_micros > 0
    assert all(c.data.endswith(b"\r\n") for c in chunks)
    rows = list(csv.reader(io.StringIO(b"".join(c.data for c in chunks).decode(), newline="")))
    assert len(rows) == N + 1 and rows[1][0] == "p0000000" and rows[-1][0] == ids(N - 1)[0]


# ---------------------------------------------------------------------------- export to list


def test_export_to_list_freezes_current_members(client: Client) -> None:
    client.create_segment(ORG, "Scored", rule="lead_score >= 50")
    client.ingest(ORG, [{"id": i, "lead_score": 60} for i in ids(100, 101, 102)], op="patch")
    frozen = client.export_to_list(ORG, "Scored", now=NOW)
    assert frozen.type == "static" and frozen.name == "Scored (list 2026-11-20)"
    assert sorted(client.resolve_segment(ORG, frozen.id)) == ids(100, 101, 102)
    second = client.export_to_list(ORG, "Scored", now=NOW)
    assert second.name == "Scored (list 2026-11-20 2)"
    named = client.export_to_list(ORG, "Scored", name="Scored snapshot")
    assert named.name == "Scored snapshot"
    client.ingest(ORG, [{"id": i, "lead_score": 10} for i in ids(101, 102)], op="patch")
    client.ingest(ORG, [{"id": i, "lead_score": 99} for i in ids(103)], op="patch")
    assert client.resolve_segment(ORG, "Scored") == ids(100, 103)  # dynamic: follows the data
    assert sorted(client.resolve_segment(ORG, frozen.id)) == ids(100, 101, 102)  # frozen
    copy = client.export_to_list(ORG, frozen.id)  # a list of a list is a copy
    assert client.count_segment(ORG, copy.id) == 3
