"""End to end: deals, campaigns and events through the real server and the real client.

One org is loaded from a folder holding all five files. The SPEC's seed example
"enterprise accounts in Germany that opened our last 3 campaigns but have no deal
created in the last 90 days" is answered as a JSON rule and checked against members
worked out by hand (and against tests/reference.py); `has` / `event` rules round-trip
through their text form; bad rules and a bad events line are refused with
INVALID_ARGUMENT naming the part (file and line) and nothing applied.

"Enterprise accounts in Germany", as written down for this test: contacts whose company
has at least 1,000 employees (`company.size >= 1000`) and is in Germany
(`company.country = "DE"`). "Opened our last 3 campaigns": an `email_opened` event for
each of the 3 campaigns with the latest `sent_at` at or before now (`match: all`). "No
deal created in the last 90 days": not (has a deal with `created_at within_last 90d`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from serverproc import ServerProcess, start_server

from bitseg.client import BitsegClientError, Client
from bitseg.rules.codec import rule_from_json
from bitseg.schema import OrgSchema

try:
    from tests.reference import reference_members
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import reference_members

ORG = "seed"
NOW = "2026-03-15T12:00:00Z"
NOW_EPOCH = 1_773_576_000


def days_ago(days: float) -> str:
    at = datetime(2026, 3, 15, 12, tzinfo=UTC) - timedelta(days=days)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


COMPANIES = [
    {"id": "big-de", "name": "Bigwerk AG", "size": 5000, "country": "DE"},
    {"id": "edge-de", "name": "Grenz GmbH", "size": 1000, "country": "de"},  # exactly 1,000
    {"id": "small-de", "name": "Klein GmbH", "size": 200, "country": "DE"},
    {"id": "big-fr", "name": "Grand SA", "size": 3000, "country": "FR"},
]
CAMPAIGNS = [
    {"id": "jan", "name": "January", "sent_at": days_ago(60)},
    {"id": "feb", "name": "February", "sent_at": days_ago(30)},
    {"id": "mar1", "name": "March 1", "sent_at": days_ago(7)},
    {"id": "mar2", "name": "March 2", "sent_at": days_ago(1)},
    {"id": "apr", "name": "April (scheduled)", "sent_at": days_ago(-3)},  # after now
    {"id": "draft", "name": "Draft"},  # never sent
]
LAST_3 = ("feb", "mar1", "mar2")  # "apr" is scheduled after now, "draft" was never sent

CONTACTS = [
    {"id": "e1", "name": "Opened all, no deal", "company_id": "big-de"},
    {"id": "e2", "name": "Opened all, deal 10 days ago", "company_id": "big-de"},
    {"id": "e3", "name": "Opened all, deal 200 days ago", "company_id": "big-de"},
    {"id": "e4", "name": "Missed feb", "company_id": "big-de"},
    {"id": "e5", "name": "Small company", "company_id": "small-de"},
    {"id": "e6", "name": "French company", "company_id": "big-fr"},
    {"id": "e7", "name": "1,000 employees, deal 91 days ago", "company_id": "edge-de"},
    {"id": "e8", "name": "Deal without created_at", "company_id": "big-de"},
    {"id": "e9", "name": "No company"},
    {"id": "e10", "name": "Clicked mar2, did not open it", "company_id": "big-de"},
    {"id": "e11", "name": "Deal 89 days ago", "company_id": "edge-de"},
]
DEALS = [
    {"id": "d2", "contact_id": "e2", "stage": "qualified", "value": 9000,
     "created_at": days_ago(10)},
    {"id": "d3", "contact_id": "e3", "stage": "closed_won", "value": 5000,
     "created_at": days_ago(200)},
    {"id": "d7", "contact_id": "e7", "stage": "proposal", "created_at": days_ago(91)},
    {"id": "d8", "contact_id": "e8", "stage": "appointment"},
    {"id": "d11", "contact_id": "e11", "stage": "proposal", "created_at": days_ago(89)},
    {"id": "d99", "contact_id": "e1", "stage": "proposal", "created_at": days_ago(5)},
    {"id": "d99", "deleted": True},  # created and deleted again in the same file
]


def opened(contact: str, *campaigns: str, kind: str = "email_opened") -> list[dict[str, str]]:
    return [
        {"contact_id": contact, "type": kind, "at": days_ago(0.5), "campaign_id": c}
        for c in campaigns
    ]


EVENTS = [
    *opened("e1", *LAST_3),
    *opened("e2", *LAST_3),
    *opened("e3", *LAST_3, "jan"),
    *opened("e4", "jan", "mar1", "mar2"),
    *opened("e5", *LAST_3),
    *opened("e6", *LAST_3),
    *opened("e7", *LAST_3, "apr"),
    *opened("e8", *LAST_3),
    *opened("e9", *LAST_3),
    *opened("e10", "feb", "mar1"),
    *opened("e10", "mar2", kind="email_clicked"),
    *opened("e11", *LAST_3),
    {"contact_id": "e1", "type": "activity", "at": days_ago(2)},
    {"contact_id": "e1", "type": "activity", "at": days_ago(3)},
    {"contact_id": "e2", "type": "activity", "at": days_ago(40)},
    {"contact_id": "e3", "type": "webinar_attended", "at": days_ago(1)},  # a custom type
]

SEED_RULE: dict[str, Any] = {
    "all": [
        {"field": "company.size", "op": "gte", "value": 1000},
        {"field": "company.country", "op": "eq", "value": "DE"},
        {"event": "email_opened", "campaign": {"last": 3, "match": "all"}},
        {"not": {"has": "deals",
                 "where": {"field": "created_at", "op": "within_last", "value": "90d"}}},
    ]
}
SEED_MEMBERS = {"e1", "e3", "e7", "e8"}
"""e1: no deal; e3: its deal is 200 days old; e7: 1,000 employees, deal 91 days ago;
e8: its deal has no created_at. Not: e2 (deal 10 days ago), e4 (missed feb), e5 (small),
e6 (French), e9 (no company), e10 (clicked but did not open mar2), e11 (deal 89 days ago)."""


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with start_server(tmp_path_factory.mktemp("data")) as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Client]:
    with Client(server.address, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def loaded(client: Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("seed")
    for name, rows in (("contacts", CONTACTS), ("companies", COMPANIES), ("deals", DEALS),
                       ("campaigns", CAMPAIGNS), ("events", EVENTS)):
        write_jsonl(folder / f"{name}.jsonl", rows)
    return client.load(ORG, folder)


def code_of(excinfo: pytest.ExceptionInfo[BitsegClientError]) -> grpc.StatusCode:
    return excinfo.value.code


def reference(rule: dict[str, Any]) -> set[str]:
    deals: dict[str, dict[str, Any]] = {}
    for line in DEALS:
        if line.get("deleted"):
            deals.pop(line["id"], None)
        else:
            deals[line["id"]] = line
    return reference_members(
        rule_from_json(rule),
        {c["id"]: c for c in CONTACTS},
        {c["id"]: c for c in COMPANIES},
        OrgSchema(),
        NOW_EPOCH,
        deals=deals,
        campaigns={c["id"]: c for c in CAMPAIGNS},
        events=EVENTS,
    )


# ---------------------------------------------------------------------------- load + seed
def test_load_reports_every_kind(loaded: dict[str, Any]) -> None:
    assert loaded["contacts"]["upserted"] == len(CONTACTS)
    assert loaded["companies"]["upserted"] == len(COMPANIES)
    assert loaded["campaigns"]["upserted"] == len(CAMPAIGNS)
    assert loaded["events"]["upserted"] == len(EVENTS)
    assert loaded["deals"]["deleted"] == 1


@pytest.mark.usefixtures("loaded")
def test_seed_example(client: Client) -> None:
    assert reference(SEED_RULE) == SEED_MEMBERS, "the reference agrees with the hand count"
    assert client.count(ORG, SEED_RULE, now=NOW) == len(SEED_MEMBERS)
    assert set(client.resolve(ORG, SEED_RULE, now=NOW)) == SEED_MEMBERS
    preview = client.preview(ORG, SEED_RULE, now=NOW)
    assert {m.id for m in preview.members} == SEED_MEMBERS
    assert {m.company for m in preview.members} == {"Bigwerk AG", "Grenz GmbH"}


@pytest.mark.usefixtures("loaded")
def test_seed_example_parts(client: Client) -> None:
    parts: list[tuple[dict[str, Any], set[str]]] = [
        ({"event": "email_opened", "campaign": {"last": 3, "match": "all"}},
         {"e1", "e2", "e3", "e5", "e6", "e7", "e8", "e9", "e11"}),
        ({"has": "deals", "where": {"field": "created_at", "op": "within_last", "value": "90d"}},
         {"e2", "e11"}),
        ({"has": "deals"}, {"e2", "e3", "e7", "e8", "e11"}),
        ({"event": "email_opened", "campaign": {"last": 3}, "count": {"lt": 3}}, {"e4", "e10"}),
        ({"event": "email_opened", "campaign": "apr"}, {"e7"}),
        ({"event": "email_opened", "campaign": {"in": ["jan", "apr"]}}, {"e3", "e4", "e7"}),
        ({"event": "activity", "within": {"last": "30d"}, "count": {"gte": 2}}, {"e1"}),
        ({"event": "activity", "count": {"eq": 0}},
         {c["id"] for c in CONTACTS} - {"e1", "e2"}),
        ({"event": "webinar_attended", "within": {"since": "-1d"}}, {"e3"}),
        ({"has": "deals", "where": {"field": "stage", "op": "in",
                                    "value": ["proposal", "closed_won"]}}, {"e3", "e7", "e11"}),
    ]
    for rule, members in parts:
        assert reference(rule) == members, rule
        assert set(client.resolve(ORG, rule, now=NOW)) == members, rule
        assert client.count(ORG, rule, now=NOW) == len(members), rule


@pytest.mark.usefixtures("loaded")
def test_last_3_moves_with_now(client: Client) -> None:
    """Four days later "apr" is sent: the last 3 are mar1, mar2, apr; only e7 opened apr."""
    later = "2026-03-19T12:00:00Z"
    rule = {"event": "email_opened", "campaign": {"last": 3, "match": "all"}}
    assert set(client.resolve(ORG, rule, now=later)) == {"e7"}


# ---------------------------------------------------------------------------- text form
TEXT_RULES: list[dict[str, Any]] = [
    SEED_RULE,
    {"has": "deals"},
    {"not": {"has": "deals"}},
    {"has": "deals", "count": {"gte": 2, "lt": 5}},
    {"has": "deals", "where": {"any": [
        {"field": "stage", "op": "eq", "value": "closed_won"},
        {"not": {"field": "value", "op": "between", "value": [100, 1000]}},
    ]}, "count": {"eq": 0}},
    {"event": "email_opened", "campaign": "feb"},
    {"event": "email_clicked", "campaign": {"in": ["feb", "mar1"]}, "count": {"gt": 1}},
    {"event": "email_opened", "campaign": {"last": 3}, "within": {"last": "30d"}},
    {"event": "activity", "within": {"since": "-7d"}, "count": {"gte": 5}},
    {"event": "activity", "within": {"between": ["2026-03-01", "2026-03-14T23:59:59Z"]}},
    {"event": "webinar_attended", "count": {"lte": 2}},
]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("rule", TEXT_RULES, ids=[str(i) for i in range(len(TEXT_RULES))])
def test_text_form_round_trip(client: Client, rule: dict[str, Any]) -> None:
    parsed = client.parse_rule(rule, org=ORG)
    assert orjson.loads(parsed["json"]) == rule
    again = client.parse_rule(parsed["text"], org=ORG)
    assert again == parsed
    assert client.count(ORG, parsed["text"], now=NOW) == client.count(ORG, rule, now=NOW)


@pytest.mark.usefixtures("loaded")
def test_text_form_reads_as_expected(client: Client) -> None:
    parsed = client.parse_rule(
        'event "email_opened" campaign last 3 match all and not has deals '
        'where (created_at within last "90d")'
    )
    assert orjson.loads(parsed["json"]) == {"all": SEED_RULE["all"][2:]}


# ---------------------------------------------------------------------------- errors
BAD_RULES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("unknown campaign id",
     {"all": [{"has": "deals"}, {"event": "email_opened", "campaign": "nope"}]},
     ("all[1].campaign", "nope")),
    ("unknown campaign in a list",
     {"event": "email_opened", "campaign": {"in": ["feb", "nope"]}},
     ("campaign.in[1]", "nope")),
    ("malformed window duration",
     {"all": [{"has": "deals"}, {"event": "activity", "within": {"last": "30x"}}]},
     ("all[1].within.last", "30x")),
    ("window not whole days", {"event": "activity", "within": {"last": "12h"}},
     ("within.last", "12h")),
    ("window with an unknown key", {"event": "activity", "within": {"next": "30d"}},
     ("within",)),
    ("between with one time", {"event": "activity", "within": {"between": ["2026-03-01"]}},
     ("within.between",)),
    ("since a malformed time", {"event": "activity", "within": {"since": "last tuesday"}},
     ("within.since", "last tuesday")),
    ("count with an unknown key", {"has": "deals", "count": {"atleast": 2}},
     ("count.atleast",)),
    ("event count with an unknown key",
     {"not": {"event": "activity", "count": {"gte": 1, "most": 3}}},
     ("not.count.most",)),
    ("where on an unknown deal field",
     {"all": [{"field": "country", "op": "eq", "value": "DE"},
              {"has": "deals", "where": {"field": "amount", "op": "gt", "value": 1}}]},
     ("all[1].where", "amount")),
]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(("rule", "parts"), [c[1:] for c in BAD_RULES],
                         ids=[c[0] for c in BAD_RULES])
def test_bad_activity_rules_are_invalid_argument(
    client: Client, rule: dict[str, Any], parts: tuple[str, ...]
) -> None:
    for call in (lambda: client.count(ORG, rule, now=NOW),
                 lambda: client.resolve(ORG, rule, now=NOW)):
        with pytest.raises(BitsegClientError) as excinfo:
            call()
        assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
        for part in parts:
            assert part in str(excinfo.value), (part, str(excinfo.value))


@pytest.mark.usefixtures("loaded")
def test_bad_events_line_rejects_the_whole_batch(client: Client, tmp_path: Path) -> None:
    everyone = {"all": []}
    activity = {"event": "activity"}
    before = (client.count(ORG, everyone, now=NOW), client.count(ORG, activity, now=NOW),
              client.count(ORG, {"has": "deals"}, now=NOW))
    write_jsonl(tmp_path / "contacts.jsonl", [{"id": "new1", "name": "New"}])
    write_jsonl(tmp_path / "deals.jsonl", [{"id": "d-new", "contact_id": "e1"}])
    good = {"contact_id": "e9", "type": "activity", "at": days_ago(1)}
    bad = {"contact_id": "e9", "type": "activity", "at": "yesterday-ish"}
    write_jsonl(tmp_path / "events.jsonl", [good, good, bad, good])
    with pytest.raises(BitsegClientError) as excinfo:
        client.load(ORG, tmp_path)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert "events.jsonl:3" in str(excinfo.value)
    after = (client.count(ORG, everyone, now=NOW), client.count(ORG, activity, now=NOW),
             client.count(ORG, {"has": "deals"}, now=NOW))
    assert after == before
    assert set(client.resolve(ORG, SEED_RULE, now=NOW)) == SEED_MEMBERS


# ---------------------------------------------------------------------------- gRPC records
def test_activity_over_ingest_records(client: Client) -> None:
    """Deals, campaigns and events sent as records (the gRPC Ingest stream), not files."""
    org = "records-activity"
    client.ingest(org, [{"id": "r1"}, {"id": "r2"}])
    client.ingest(org, [{"id": "x1", "sent_at": days_ago(2)}], kind="campaigns")
    client.ingest(org, [{"id": "k1", "contact_id": "r1", "stage": "proposal"}], kind="deals")
    applied = client.ingest(org, [
        {"contact_id": "r1", "type": "email_opened", "at": days_ago(1), "campaign_id": "x1"},
        {"contact_id": "r2", "type": "activity", "at": days_ago(1)},
    ], kind="events")
    assert applied["events"]["upserted"] == 2
    opened_last = {"event": "email_opened", "campaign": {"last": 1, "match": "all"}}
    assert client.resolve(org, opened_last, now=NOW) == ["r1"]
    assert client.resolve(org, {"has": "deals"}, now=NOW) == ["r1"]
    client.ingest(org, [{"id": "k1", "contact_id": "r2"}], kind="deals", op="patch")
    assert client.resolve(org, {"has": "deals"}, now=NOW) == ["r2"]
    stage = {"has": "deals", "where": {"field": "stage", "op": "eq", "value": "proposal"}}
    assert client.resolve(org, stage, now=NOW) == ["r2"]  # the patch kept the stage
    client.ingest(org, [{"id": "k1"}], kind="deals", op="delete")
    assert client.resolve(org, {"has": "deals"}, now=NOW) == []
    client.ingest(org, [{"contact_id": "r2", "type": "activity", "at": days_ago(0)}],
                  kind="events")
    twice = {"event": "activity", "within": {"last": "2d"}, "count": {"eq": 2}}
    assert client.resolve(org, twice, now=NOW) == ["r2"]
