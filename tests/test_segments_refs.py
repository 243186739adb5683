"""Segment references end to end: dynamic and static segments referencing each other up to
four levels deep, checked against the reference evaluator (tests/reference.py) before and
after contacts change, a referenced rule changes and a referenced segment is renamed;
cycles (direct, indirect, created by an update), deleting a referenced segment, the
expansion bound and `ever`."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from serverproc import ServerProcess, start_server

from bitseg.client import BitsegClientError, Client
from bitseg.rules import rule_from_json
from bitseg.schema import OrgSchema

try:
    from tests.reference import SegmentDef, apply_record_change, reference_members
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import SegmentDef, apply_record_change, reference_members

ORG = "segrefs"
NOW = "2026-11-20T12:00:00Z"
N_CONTACTS = 3_000
SCHEMA = OrgSchema()

Json = dict[str, Any]


def seg(name: str) -> Json:
    return {"segment": name}


def no(rule: Json) -> Json:
    return {"not": rule}


# name -> dynamic rule, in creation order; "VIP list" and "DE hot list" are static.
DYNAMIC: dict[str, Json] = {
    "DE": {"field": "country", "op": "eq", "value": "DE"},
    "Hot": {"field": "lead_score", "op": "gt", "value": 70},
    "Big companies": {"field": "company.size", "op": "gt", "value": 100},
    "DE hot": {"all": [seg("DE"), seg("Hot")]},
    "VIP or big": {"any": [seg("VIP list"), seg("Big companies")]},
    "Target": {"all": [{"any": [seg("DE hot"), seg("DE hot list")]}, no(seg("VIP or big")),
                       no({"field": "tags", "op": "has", "value": "churned"})]},
    "Diamond": {"any": [seg("DE hot"), seg("VIP or big"), {"all": [seg("Hot"), seg("de")]}]},
    "Top": {"all": [{"any": [seg("Target"), seg("Diamond")]}, no(seg("VIP list"))]},
}


def make_data(seed: int = 7) -> tuple[dict[str, Json], dict[str, Json]]:
    rng = random.Random(seed)
    companies = {f"co{i}": {"id": f"co{i}", "name": f"Company {i}", "size": rng.choice(
        [5, 50, 150, 500, 5000])} for i in range(20)}
    contacts: dict[str, Json] = {}
    for i in range(N_CONTACTS):
        record: Json = {"id": f"p{i:05d}", "name": f"Person {i}",
                        "country": rng.choice(["DE", "FR", "US", "GB"]),
                        "lead_score": rng.randint(0, 100)}
        if rng.random() < 0.8:
            record["company_id"] = f"co{rng.randrange(20)}"
        tags = [t for t in ("vip", "churned", "newsletter") if rng.random() < 0.3]
        if tags:
            record["tags"] = tags
        contacts[record["id"]] = record
    return contacts, companies


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc:
        yield proc


class World:
    """The org as the test knows it: records, and every segment as a reference definition."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.contacts, self.companies = make_data()
        self.defs: dict[str, SegmentDef] = {}
        self.ids: dict[str, str] = {}

    def expected(self, rule: Json) -> set[str]:
        return reference_members(
            rule_from_json(rule), self.contacts, self.companies, SCHEMA, None, self.defs
        )

    def add_dynamic(self, name: str, rule: Json) -> None:
        self.ids[name] = self.client.create_segment(ORG, name, rule=rule).id
        self.defs[name] = SegmentDef(rule=rule_from_json(rule))

    def check(self, name: str) -> None:
        expected = self.expected(seg(name))
        assert self.client.count_segment(ORG, self.ids[name]) == len(expected), name
        assert set(self.client.resolve_segment(ORG, self.ids[name])) == expected, name


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> Iterator[World]:
    with Client(server.address, timeout=60) as client:
        w = World(client)
        client.ingest(ORG, w.companies.values(), kind="companies")
        client.ingest(ORG, w.contacts.values())
        rng = random.Random(11)
        vips = sorted(rng.sample(sorted(w.contacts), 900))
        w.ids["VIP list"] = client.create_segment(ORG, "VIP list", members=vips).id
        w.defs["VIP list"] = SegmentDef(members=frozenset(vips))
        for name in ("DE", "Hot", "Big companies", "DE hot", "VIP or big"):
            w.add_dynamic(name, DYNAMIC[name])
        frozen = client.export_to_list(ORG, "DE hot", name="DE hot list")
        w.ids["DE hot list"] = frozen.id
        w.defs["DE hot list"] = SegmentDef(members=frozenset(w.expected(seg("DE hot"))))
        for name in ("Target", "Diamond", "Top"):
            w.add_dynamic(name, DYNAMIC[name])
        yield w


ALL_NAMES = ["VIP list", "DE hot list", *DYNAMIC]


def test_every_segment_matches_the_reference(world: World) -> None:
    for name in ALL_NAMES:
        world.check(name)
    sizes = [len(world.expected(seg(name))) for name in ALL_NAMES]
    assert all(0 < size < N_CONTACTS for size in sizes)  # every segment is a real test


@pytest.mark.parametrize(
    "rule",
    [
        {"any": [seg("Target"), {"all": [{"field": "country", "op": "eq", "value": "FR"},
                                         no(seg("Hot"))]}]},
        no(seg("Top")),
        {"all": [seg("VIP list"), no(seg("DE hot list")), seg("Diamond")]},
        {"any": [seg("Top"), seg("Diamond"), seg("VIP list")]},
    ],
)
def test_rules_mixing_references_and_conditions(world: World, rule: Json) -> None:
    expected = world.expected(rule)
    assert world.client.count(ORG, rule) == len(expected)
    assert set(world.client.resolve(ORG, rule)) == expected


def test_reference_in_text_form_by_name_and_id(world: World) -> None:
    text = f'in segment "target" or not in segment "{world.ids["Hot"]}"'
    expected = world.expected({"any": [seg("Target"), no(seg("Hot"))]})
    assert world.client.count(ORG, text) == len(expected)


def test_list_members_walks_a_referencing_segment(world: World) -> None:
    seen: list[str] = []
    cursor = ""
    while True:
        page = world.client.list_members(ORG, segment="Top", cursor=cursor, page_size=97)
        seen += page.ids
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and set(seen) == world.expected(seg("Top"))


def test_changes_flow_through_every_level(world: World) -> None:
    client = world.client
    rng = random.Random(5)
    patches = [{"id": cid, "country": rng.choice(["DE", "FR"]), "lead_score": rng.randint(0, 100)}
               for cid in rng.sample(sorted(world.contacts), 400)]
    client.ingest(ORG, patches, op="patch")
    for patch in patches:
        apply_record_change(world.contacts, "patch", patch)
    gone = rng.sample(sorted(world.defs["VIP list"].members), 50)
    client.ingest(ORG, [{"id": cid} for cid in gone], op="delete")
    for cid in gone:
        apply_record_change(world.contacts, "delete", {"id": cid})
    # a referenced rule changes: every referrer follows (dynamic segments are never stale)
    hotter = {"field": "lead_score", "op": "gt", "value": 60}
    client.update_segment(ORG, "Hot", rule=hotter)
    world.defs["Hot"] = SegmentDef(rule=rule_from_json(hotter))
    # a referenced segment is renamed: references are by id, so nothing breaks
    client.update_segment(ORG, "DE", name="Germany")
    world.ids["Germany"] = world.ids["DE"]
    world.defs["Germany"] = world.defs["DE"]
    assert client.get_segment(ORG, "DE hot").rule_text == (
        'in segment "Germany" and in segment "Hot"'
    )
    for name in ALL_NAMES:
        world.check(name)
    # the frozen list kept its members (minus deleted contacts), unlike its source
    assert world.expected(seg("DE hot list")) != world.expected(seg("DE hot"))


# ---------------------------------------------------------------------------- cycles


def refused(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(BitsegClientError) as info:
        call()
    return info.value.code, str(info.value)


def test_direct_cycle_by_update(world: World) -> None:
    client = world.client
    before = client.get_segment(ORG, "Big companies")
    code, message = refused(lambda: client.update_segment(ORG, "Big companies",
                                                          rule=seg("big companies")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "segment cycle: Big companies -> Big companies" in message
    assert client.get_segment(ORG, "Big companies") == before


def test_cycle_through_several_segments_by_update(world: World) -> None:
    client = world.client
    code, message = refused(lambda: client.update_segment(
        ORG, "Hot", rule={"any": [DYNAMIC["Hot"], seg("Top")]}))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith("segment cycle: Hot -> Top -> ")
    assert message.endswith(" -> Hot")
    client.create_segment(ORG, "Ring C", rule={"field": "country", "op": "eq", "value": "FR"})
    client.create_segment(ORG, "Ring B", rule=seg("Ring C"))
    client.create_segment(ORG, "Ring A", rule={"all": [seg("Ring B"), seg("Hot")]})
    code, message = refused(lambda: client.update_segment(ORG, "ring c", rule=seg("Ring A")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "segment cycle: Ring C -> Ring A -> Ring B -> Ring C" in message
    assert client.get_segment(ORG, "Ring C").rule_text == 'country = "FR"'
    # a name that will only exist later cannot be referenced: no cycle can be built that way
    code, _ = refused(lambda: client.create_segment(ORG, "Early", rule=seg("Later")))
    assert code == grpc.StatusCode.NOT_FOUND


def test_self_reference_at_create_is_a_cycle(world: World) -> None:
    code, message = refused(lambda: world.client.create_segment(
        ORG, "Selfish", rule={"any": [seg("Hot"), seg("selfish")]}))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "segment cycle: Selfish -> Selfish" in message


def test_delete_while_referenced_names_the_referrers(world: World) -> None:
    client = world.client
    code, message = refused(lambda: client.delete_segment(ORG, "VIP list"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "Top" in message and "VIP or big" in message and "Diamond" not in message
    client.create_segment(ORG, "Leaf", members=["p00001"])
    client.create_segment(ORG, "Uses leaf", rule=seg("Leaf"))
    code, message = refused(lambda: client.delete_segment(ORG, "Leaf"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "Uses leaf" in message
    client.update_segment(ORG, "Uses leaf", rule={"field": "country", "op": "eq", "value": "DE"})
    client.delete_segment(ORG, "Leaf")
    code, _ = refused(lambda: client.get_segment(ORG, "Leaf"))
    assert code == grpc.StatusCode.NOT_FOUND


def test_a_diamond_chain_is_bounded(world: World) -> None:
    """Each level references the one below twice: expansion doubles, and is refused once it
    passes the bound (10 x the node limit) instead of blowing up."""
    client = world.client
    client.create_segment(ORG, "X0", rule={"field": "country", "op": "eq", "value": "FR"})
    expected = client.count_segment(ORG, "X0")
    level = 1
    while True:
        rule = {"any": [seg(f"X{level - 1}"),
                        {"all": [seg(f"X{level - 1}"),
                                 {"field": "lead_score", "op": "gt", "value": level}]}]}
        try:
            client.create_segment(ORG, f"X{level}", rule=rule)
        except BitsegClientError as e:
            assert e.code == grpc.StatusCode.INVALID_ARGUMENT
            assert "too large once segment references are expanded" in str(e)
            break
        assert client.count_segment(ORG, f"X{level}") == expected
        level += 1
        assert level < 20
    assert level == 13  # sizes 1, 5, 13, ..., 16381, then 32765 > 20000


def test_reference_chains_are_bounded(world: World) -> None:
    client = world.client
    client.create_segment(ORG, "Y0", rule={"field": "country", "op": "eq", "value": "US"})
    for level in range(1, 32):
        client.create_segment(ORG, f"Y{level}", rule=seg(f"Y{level - 1}"))
    assert client.count_segment(ORG, "Y31") == client.count_segment(ORG, "Y0")
    code, message = refused(lambda: client.create_segment(ORG, "Y32", rule=seg("Y31")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "nested more than 32 deep" in message


def test_ever_is_answered_from_change_detection(world: World) -> None:
    client = world.client
    made = client.create_segment(ORG, "Ever hot", rule={"segment": "Hot", "ever": True})
    assert made.rule == {"segment": "Hot", "ever": True}
    assert made.rule_text == 'ever in segment "Hot"'
    # Everyone in Hot now joined it at some point, so is "ever" in it.
    assert set(client.resolve_segment(ORG, "Hot")) <= set(client.resolve_segment(ORG, made.id))
    code, message = refused(lambda: client.delete_segment(ORG, "Hot"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "Ever hot" in message
