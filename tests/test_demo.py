"""The demo dataset generator: deterministic bytes, honest counts, well-formed records."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from bitseg.demo import demo_schema, generate_org
from bitseg.schema import COMPANY_FIELDS, CONTACT_FIELDS, DERIVED_FIELDS, FieldType

NOW = "2026-11-20T12:00:00Z"
KINDS = ("contacts", "companies", "deals", "campaigns", "events")
PY_TYPES: dict[FieldType, type] = {
    FieldType.TEXT: str, FieldType.KEYWORD: str, FieldType.REF: str, FieldType.INT: int,
    FieldType.TIME: str, FieldType.BOOL: bool, FieldType.SET: list,
}


def _read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _epoch(text: str) -> float:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text).timestamp()


def _check_typed(record: dict[str, Any], fields: dict[str, FieldType]) -> None:
    for key, value in record.items():
        if key == "id":
            assert isinstance(value, str) and value
            continue
        ftype = fields[key]
        expected = PY_TYPES[ftype]
        assert isinstance(value, expected), (key, value)
        if expected is int:
            assert not isinstance(value, bool), (key, value)
        if ftype == FieldType.TIME:
            _epoch(value)
        if ftype == FieldType.SET:
            assert value and all(isinstance(v, str) for v in value), (key, value)


@pytest.fixture(scope="module")
def small_org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("demo")
    return folder, generate_org(folder, contacts=2_000, seed=3, now=NOW, activity=True)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_org(tmp_path / "a", contacts=700, seed=5, activity=True)
    b = generate_org(tmp_path / "b", contacts=700, seed=5, activity=True)
    c = generate_org(tmp_path / "c", contacts=700, seed=6, activity=True)
    assert a == b
    for kind in KINDS:
        assert (tmp_path / "a" / f"{kind}.jsonl").read_bytes() == (
            tmp_path / "b" / f"{kind}.jsonl"
        ).read_bytes()
    assert c["contacts"] == a["contacts"]
    assert (tmp_path / "a" / "contacts.jsonl").read_bytes() != (
        tmp_path / "c" / "contacts.jsonl"
    ).read_bytes()


def test_counts_match_files(small_org: tuple[Path, dict[str, int]]) -> None:
    folder, counts = small_org
    assert set(counts) == set(KINDS)
    assert counts["contacts"] == 2_000 and counts["companies"] == 200
    assert 90 <= counts["campaigns"] <= 120
    assert 20 * 2_000 <= counts["events"] <= 40 * 2_000  # ~30 a contact on average
    assert 0 < counts["deals"] < 2_000
    for kind in KINDS:
        assert len((folder / f"{kind}.jsonl").read_bytes().splitlines()) == counts[kind]


def test_without_activity_only_contacts_and_companies(tmp_path: Path) -> None:
    counts = generate_org(tmp_path, contacts=50, seed=1)
    assert counts == {"contacts": 50, "companies": 5, "deals": 0, "campaigns": 0, "events": 0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["companies.jsonl", "contacts.jsonl"]


def test_contacts_are_well_formed(small_org: tuple[Path, dict[str, int]]) -> None:
    folder, _ = small_org
    contacts = _read(folder / "contacts.jsonl")
    company_ids = {c["id"] for c in _read(folder / "companies.jsonl")}
    fields = {k: v for k, v in CONTACT_FIELDS.items() if k not in DERIVED_FIELDS}
    custom_types = {k: FieldType(v) for k, v in demo_schema().items()}
    assert len({c["id"] for c in contacts}) == len(contacts)
    for contact in contacts:
        fit, custom = contact.pop("fit_score", {}), contact.pop("custom", {})
        _check_typed(contact, fields)
        assert set(fit) <= {"crm", "ads"} and all(0 <= v <= 100 for v in fit.values())
        _check_typed(custom, custom_types)
        assert contact.get("company_id", next(iter(company_ids))) in company_ids
        assert 0 <= contact.get("lead_score", 0) <= 100
        assert contact.get("country", "DE").isupper()
        if "email" in contact:
            assert contact["email"].count("@") == 1 and contact["email"] == contact["email"].lower()
    countries = Counter(c.get("country") for c in contacts)
    assert countries.most_common(1)[0][0] == "DE"  # Zipf-like skew
    unsubscribed = sum(c["unsubscribed"] for c in contacts) / len(contacts)
    assert 0.01 < unsubscribed < 0.06
    assert any("tags" not in c for c in contacts) and any("phone" not in c for c in contacts)


def test_companies_are_well_formed(small_org: tuple[Path, dict[str, int]]) -> None:
    folder, _ = small_org
    companies = _read(folder / "companies.jsonl")
    assert len({c["id"] for c in companies}) == len(companies)
    assert len({c["domain"] for c in companies}) == len(companies)
    for company in companies:
        _check_typed(company, dict(COMPANY_FIELDS))
        assert company["domain"] == company["domain"].lower()


def test_activity_is_well_formed(small_org: tuple[Path, dict[str, int]]) -> None:
    folder, _ = small_org
    now = _epoch(NOW)
    contact_ids = {c["id"] for c in _read(folder / "contacts.jsonl")}
    campaigns = _read(folder / "campaigns.jsonl")
    assert all(set(c) == {"id", "name", "sent_at"} for c in campaigns)
    sent = {c["id"]: _epoch(c["sent_at"]) for c in campaigns}
    assert 1 <= sum(t > now for t in sent.values()) <= 3  # a couple scheduled
    deal_keys = {"id", "contact_id", "stage", "value", "owner", "pipeline", "created_at",
                 "close_date"}
    for deal in _read(folder / "deals.jsonl"):
        assert set(deal) == deal_keys and deal["contact_id"] in contact_ids
        assert isinstance(deal["value"], int) and _epoch(deal["created_at"]) <= now
        assert _epoch(deal["created_at"]) <= _epoch(deal["close_date"])
    for event in _read(folder / "events.jsonl"):
        assert set(event) - {"campaign_id"} == {"contact_id", "type", "at"}
        assert event["contact_id"] in contact_ids and _epoch(event["at"]) <= now
        if event["type"].startswith("email_"):
            assert sent[event["campaign_id"]] <= _epoch(event["at"])
        else:
            assert "campaign_id" not in event


def test_small_run_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    generate_org(tmp_path, contacts=2_000, seed=9, activity=True)
    assert time.perf_counter() - start < 3.0


def test_demo_schema_types_are_custom_types() -> None:
    assert {FieldType(t) for t in demo_schema().values()} <= {
        FieldType.KEYWORD, FieldType.SET, FieldType.TEXT, FieldType.INT, FieldType.TIME,
        FieldType.BOOL,
    }
