"""Change detection checked against the reference evaluator, batch by batch.

Random dynamic segments over a random org; then random change batches and clock
advances. After every step, the `segment.joined` / `segment.left` entries the step
appended to the log must be exactly the membership difference the reference computes
before and after it (at the `now` the server evaluated with), once per
(segment, contact), and the log's sequence numbers must run 1, 2, 3, ... with no gap.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_members
from strategies import (
    CUSTOM_SCHEMA,
    NOW,
    ORG_SCHEMA,
    Org,
    apply_batch,
    change_batches,
    orgs,
    rules,
)
from test_engine_vs_reference import PROPERTY, batch_files, initial_files, service

from bitseg.rules.model import Rule
from bitseg.service import Service
from bitseg.store.changelog import read_after

ORG = "acme"


def members(org: Org, rule: Rule, now: int) -> set[str]:
    return reference_members(rule, org.contacts, org.companies, ORG_SCHEMA, now)


def new_entries(svc: Service, after: int) -> list[dict[str, object]]:
    store = svc._store(ORG)
    with store.read() as txn:
        return list(read_after(store, txn, after, limit=1_000_000))


def expected_changes(
    names: list[str], rule_list: list[Rule], before: Org, after: Org, then: int, now: int
) -> Counter[tuple[str, str, str]]:
    expected: Counter[tuple[str, str, str]] = Counter()
    for name, rule in zip(names, rule_list, strict=True):
        old, new = members(before, rule, then), members(after, rule, now)
        expected.update(("segment.joined", name, cid) for cid in new - old)
        expected.update(("segment.left", name, cid) for cid in old - new)
    return expected


def logged(entries: list[dict[str, object]]) -> Counter[tuple[str, str, str]]:
    return Counter((str(e["type"]), str(e["segment"]), str(e["contact_id"])) for e in entries)


@settings(PROPERTY, max_examples=60)
@given(
    org=orgs(max_contacts=40),
    rule_list=st.lists(rules(max_leaves=6), min_size=1, max_size=5),
    data=st.data(),
)
def test_joined_and_left_equal_the_reference_difference(
    org: Org, rule_list: list[Rule], data: st.DataObject
) -> None:
    names = [f"s{i}" for i in range(len(rule_list))]
    empty = Org()
    with service() as svc:
        svc.ingest(ORG, files=initial_files(org), schema=CUSTOM_SCHEMA, now=NOW)
        seen = 0
        for name, rule in zip(names, rule_list, strict=True):
            svc.create_segment(ORG, name, rule=rule, now=NOW)
        entries = new_entries(svc, seen)
        # Creating a segment logs its first members as joined.
        assert logged(entries) == expected_changes(names, rule_list, empty, org, NOW, NOW)
        seen += len(entries)

        now = NOW
        for step in range(data.draw(st.integers(1, 3), label="steps")):
            if data.draw(st.booleans(), label=f"clock advance {step}"):
                later = now + data.draw(st.sampled_from([1, 3600, 86_400, 40 * 86_400]))
                svc.reevaluate(ORG, later)
                after, then, now = org, now, later
            else:
                batch = data.draw(change_batches(org), label=f"batch {step}")
                svc.ingest(ORG, files=batch_files(batch), records=batch.records, now=now)
                after, then = apply_batch(org, batch), now
            entries = new_entries(svc, seen)
            assert logged(entries) == expected_changes(names, rule_list, org, after, then, now)
            assert max(logged(entries).values(), default=1) == 1  # once per (segment, contact)
            seen += len(entries)
            org = after

        every = new_entries(svc, 0)
        assert [e["seq"] for e in every] == list(range(1, len(every) + 1))  # gap-free


def test_ever_and_membership_at() -> None:
    base = {"id": "a", "country": "DE"}
    with service() as svc:
        svc.ingest(ORG, files=[], records=[("contacts", "upsert", base)], now=NOW)
        svc.create_segment(ORG, "DE", rule=_rule('country = "DE"'), now=NOW)
        svc.ingest(ORG, files=[], records=[("contacts", "patch", {"id": "a", "country": "FR"})],
                   now=NOW + 10)
        assert svc.count(ORG, _rule('in segment "DE"'), NOW + 20)[0] == 0
        assert svc.count(ORG, _rule('ever in segment "DE"'), NOW + 20)[0] == 1
        assert svc.membership_at(ORG, "DE", NOW + 5) == ["a"]
        assert svc.membership_at(ORG, "DE", NOW + 15) == []
        assert svc.membership_at(ORG, "DE", NOW - 5) == []


def _rule(text: str) -> Rule:
    from bitseg.rules import parse_text

    return parse_text(text)
