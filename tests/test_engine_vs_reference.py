"""The engine against the reference evaluator, through the `Service` facade.

Random small orgs are ingested (JSON Lines, and CSV for contacts), random rules are
answered by `count`, `resolve` and paged `list_members`, and every answer must equal
`tests/reference.py` over the same records. A random change batch (upserts, patches,
deletes, company changes) is then applied by a second ingest and everything is
checked again: that exercises the incremental write path. One slow test places
~1.05M contacts across the 2^20-column shard boundary (marked `slow`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bitseg.rules.model import AllOf, AnyOf, Condition, Not, Rule
from bitseg.schema import OrgSchema
from bitseg.service import Service, SourceFile

try:
    from tests.reference import reference_members
    from tests.strategies import (
        CUSTOM_SCHEMA,
        NOW,
        ORG_SCHEMA,
        ChangeBatch,
        Org,
        apply_batch,
        change_batches,
        orgs,
        presence_rules,
        rules,
        to_csv,
        to_jsonl,
    )
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import reference_members
    from strategies import (
        CUSTOM_SCHEMA,
        NOW,
        ORG_SCHEMA,
        ChangeBatch,
        Org,
        apply_batch,
        change_batches,
        orgs,
        presence_rules,
        rules,
        to_csv,
        to_jsonl,
    )

ORG = "acme"
PROPERTY = settings(
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def service() -> Iterator[Service]:
    """A Service over a fresh temporary data folder (hypothesis reruns forbid tmp_path)."""
    with tempfile.TemporaryDirectory(prefix="bitseg-test-") as tmp:
        svc = Service(Path(tmp))
        try:
            yield svc
        finally:
            svc.close()


def initial_files(org: Org, contacts_fmt: str = "jsonl") -> list[SourceFile]:
    """The org's records as one contacts file (JSONL or CSV) and one companies.jsonl."""
    contacts = list(org.contacts.values())
    data = to_csv(contacts) if contacts_fmt == "csv" else to_jsonl(contacts)
    return [
        SourceFile("contacts", f"contacts.{contacts_fmt}", contacts_fmt, data),
        SourceFile("companies", "companies.jsonl", "jsonl", to_jsonl(org.companies.values())),
    ]


def batch_files(batch: ChangeBatch) -> list[SourceFile]:
    """The batch's file lines as contacts.jsonl / companies.jsonl (only the non-empty ones)."""
    lines = {"contacts": batch.contact_lines, "companies": batch.company_lines}
    return [
        SourceFile(kind, f"{kind}.jsonl", "jsonl", to_jsonl(records))
        for kind, records in lines.items()
        if records
    ]


def resolved(svc: Service, org: str, rule: Rule, chunk_size: int = 7) -> list[str]:
    chunks, _seconds = svc.resolve(org, rule, NOW, chunk_size=chunk_size)
    return [cid for chunk in chunks for cid in chunk]


def paged(svc: Service, org: str, rule: Rule, page_size: int) -> list[str]:
    """Every member id, walking `list_members` with its cursor."""
    ids: list[str] = []
    cursor = ""
    for _ in range(10_000):
        page, cursor, _seconds = svc.list_members(org, rule, NOW, cursor, page_size)
        assert len(page) <= page_size
        ids.extend(page)
        if not cursor:
            return ids
    raise AssertionError("list_members never returned an empty cursor")


def check_counts(svc: Service, org: str, model: Org, rule_list: list[Rule]) -> None:
    """Only `count` of every rule equals the reference (for many cheap rules)."""
    for rule in rule_list:
        expected = reference_members(rule, model.contacts, model.companies, ORG_SCHEMA, NOW)
        assert svc.count(org, rule, NOW)[0] == len(expected), rule


def check_rules(
    svc: Service, org: str, model: Org, rule_list: list[Rule], page_size: int
) -> None:
    """count, resolve and list_members of every rule equal the reference."""
    for rule in rule_list:
        expected = reference_members(rule, model.contacts, model.companies, ORG_SCHEMA, NOW)
        count, _seconds = svc.count(org, rule, NOW)
        assert count == len(expected), rule
        ids = resolved(svc, org, rule)
        assert len(ids) == len(set(ids)), f"duplicate ids from resolve: {rule}"
        assert set(ids) == expected, rule
        pages = paged(svc, org, rule, page_size)
        assert len(pages) == len(set(pages)), f"duplicate ids from list_members: {rule}"
        assert set(pages) == expected, rule


@PROPERTY
@given(
    org=orgs(),
    rule_list=st.lists(rules(), min_size=1, max_size=8),
    page_size=st.integers(1, 9),
    data=st.data(),
)
def test_engine_matches_reference(
    org: Org, rule_list: list[Rule], page_size: int, data: st.DataObject
) -> None:
    with service() as svc:
        svc.ingest(ORG, files=initial_files(org), schema=CUSTOM_SCHEMA)
        check_rules(svc, ORG, org, rule_list, page_size)
        check_counts(svc, ORG, org, presence_rules())

        batch = data.draw(change_batches(org), label="batch")
        svc.ingest(ORG, files=batch_files(batch), records=batch.records)
        after = apply_batch(org, batch)
        more = data.draw(st.lists(rules(), min_size=1, max_size=4), label="more rules")
        check_rules(svc, ORG, after, rule_list + more, page_size)
        check_counts(svc, ORG, after, presence_rules())


@settings(PROPERTY, max_examples=40)
@given(org=orgs(), rule_list=st.lists(rules(), min_size=1, max_size=8))
def test_csv_ingest_gives_same_answers_as_jsonl(org: Org, rule_list: list[Rule]) -> None:
    with service() as svc:
        svc.ingest("viajsonl", files=initial_files(org, "jsonl"), schema=CUSTOM_SCHEMA)
        svc.ingest("viacsv", files=initial_files(org, "csv"), schema=CUSTOM_SCHEMA)
        for rule in rule_list:
            expected = reference_members(rule, org.contacts, org.companies, ORG_SCHEMA, NOW)
            assert set(resolved(svc, "viacsv", rule)) == expected, rule
            assert set(resolved(svc, "viajsonl", rule)) == expected, rule
            assert svc.count("viacsv", rule, NOW)[0] == len(expected), rule


# ---------------------------------------------------------------- shard boundary
SHARD = 1 << 20
BIG = SHARD + 1_700
BIG_TAGS = np.array(["vip", "newsletter", "churned", "hot-lead", "webinar-2026", "partner"])
BIG_COUNTRIES = np.array(["DE", "US", "FR", "GB", "BR"])


def _big_columns() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ids, tags, countries and scores of ~1.05M tiny contacts (deterministic)."""
    rng = np.random.default_rng(7)
    ids = np.array([f"c{i}" for i in range(BIG)])
    tags = rng.integers(0, len(BIG_TAGS), BIG)
    countries = rng.integers(0, len(BIG_COUNTRIES), BIG)
    scores = rng.integers(0, 101, BIG)
    return ids, tags, countries, scores


def _big_jsonl(
    ids: np.ndarray, tags: np.ndarray, countries: np.ndarray, scores: np.ndarray
) -> bytes:
    tag_names, country_names = BIG_TAGS[tags].tolist(), BIG_COUNTRIES[countries].tolist()
    lines = [
        f'{{"id":"{i}","tags":["{t}"],"country":"{c}","lead_score":{s}}}\n'
        for i, t, c, s in zip(ids.tolist(), tag_names, country_names, scores.tolist(), strict=True)
    ]
    return "".join(lines).encode()


def _check_big(svc: Service, ids: np.ndarray, cases: list[tuple[Rule, np.ndarray]]) -> None:
    for rule, mask in cases:
        count, _seconds = svc.count(ORG, rule, NOW)
        assert count == int(mask.sum()), rule
        got = resolved(svc, ORG, rule, chunk_size=65_536)
        assert len(got) == count, rule
        assert set(got) == set(ids[mask].tolist()), rule


def _big_cases(
    tags: np.ndarray, countries: np.ndarray, scores: np.ndarray, live: np.ndarray
) -> list[tuple[Rule, np.ndarray]]:
    vip, de = tags == 0, countries == 0
    high = scores > 90
    return [
        (AllOf(()), live),
        (Condition("tags", "has", "vip"), live & vip),
        (Condition("country", "eq", "de"), live & de),
        (Condition("lead_score", "gt", 90), live & high),
        (Condition("lead_score", "between", (10, 12)), live & (scores >= 10) & (scores <= 12)),
        (Not(Condition("tags", "has", "vip")), live & ~vip),
        (AllOf((Condition("country", "eq", "DE"), Not(Condition("lead_score", "gt", 90)))),
         live & de & ~high),
        (AnyOf((Condition("tags", "has", "vip"), Condition("country", "in", ("FR", "GB")))),
         live & (vip | (countries == 2) | (countries == 3))),
    ]


@pytest.mark.slow
def test_shard_boundary() -> None:
    """~1.05M contacts: bitmaps in two shards, answers and an incremental batch across both."""
    ids, tags, countries, scores = _big_columns()
    live = np.ones(BIG, dtype=bool)
    with service() as svc:
        data = _big_jsonl(ids, tags, countries, scores)
        svc.ingest(ORG, files=[SourceFile("contacts", "contacts.jsonl", "jsonl", data)])
        _check_big(svc, ids, _big_cases(tags, countries, scores, live))

        # One batch touching both sides of the boundary: patches, an upsert, deletes.
        touched = [5, SHARD - 1, SHARD, SHARD + 3, BIG - 1]
        records: list[tuple[str, str, dict[str, object]]] = []
        for n, i in enumerate(touched):
            if n % 2:
                records.append(("contacts", "delete", {"id": f"c{i}"}))
                live[i] = False
            else:
                records.append(("contacts", "patch", {"id": f"c{i}", "lead_score": 99}))
                scores[i] = 99
        records.append(("contacts", "upsert", {"id": "c7", "country": "FR"}))
        tags[7], countries[7], scores[7] = -1, 2, -1  # no tag, no score
        svc.ingest(ORG, files=[], records=records)
        _check_big(svc, ids, _big_cases(tags, countries, scores, live))


def test_reference_schema_matches_declared_schema() -> None:
    """The schema given to the reference is the one declared to the Service."""
    assert OrgSchema.from_json({"custom": CUSTOM_SCHEMA}) == ORG_SCHEMA
