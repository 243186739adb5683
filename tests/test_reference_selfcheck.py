"""Hand-written cases for the reference evaluator, so the checker is itself checked.

Each case is tiny data and an expected member set worked out by hand from SPEC.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from bitseg.rules.model import AllOf, AnyOf, Condition, HasDeals, Not, Rule, SegmentRef
from bitseg.schema import FieldType, OrgSchema

try:
    from tests.reference import SegmentDef, apply_record_change, reference_members
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import SegmentDef, apply_record_change, reference_members

NOW = 1_773_576_000  # 2026-03-15T12:00:00Z
SCHEMA = OrgSchema(
    custom={"seats": FieldType.INT, "trial": FieldType.BOOL, "features": FieldType.SET}
)

CONTACTS: dict[str, dict[str, Any]] = {
    "a": {
        "id": "a", "email": "Ana.Silva@Acme.IO", "name": "Ana Silva", "country": "de",
        "source": "Webinar", "tags": ["vip", "newsletter"], "lead_score": 81,
        "created_at": "2026-03-01T00:00:00Z", "last_activity_at": "2026-03-14T12:00:00Z",
        "company_id": "co1", "fit_score": {"crm": 70}, "custom": {"seats": 12, "plan": "pro"},
        "unsubscribed": True,
    },
    "b": {
        "id": "b", "email": "bob@gmail.com", "name": "BOB smith", "country": "US",
        "source": "webinar", "tags": [], "lead_score": -5,
        "created_at": "2026-03-01T23:59:59Z", "last_activity_at": "2026-01-01T00:00:00Z",
        "company_id": "co9", "custom": {"trial": True, "features": ["sso"]},
    },
    "c": {
        "id": "c", "email": "no-at-sign", "tags": ["VIP"], "lead_score": 100,
        "created_at": "2026-03-02T00:00:00+01:00", "last_activity_at": "2026-02-13T12:00:00",
        "company_id": "co2", "unsubscribed": False,
    },
    "d": {"id": "d"},
}
COMPANIES: dict[str, dict[str, Any]] = {
    "co1": {"id": "co1", "name": "Acme GmbH", "domain": "ACME.io", "size": 250, "country": "de"},
    "co2": {"id": "co2", "name": "Beta AG", "size": 10},
}

ALL = {"a", "b", "c", "d"}
C = Condition

CASES: list[tuple[str, Rule, set[str]]] = [
    ("empty all / any", AnyOf((AllOf(()), AnyOf(()))), ALL),
    ("empty any is nobody", AnyOf(()), set()),
    ("country normalised both sides", C("country", "in", ("DE", "fr")), {"a"}),
    ("keyword eq is exact", C("source", "eq", "webinar"), {"b"}),
    ("keyword starts_with ignores case", C("source", "starts_with", "WEB"), {"a", "b"}),
    ("ne includes missing", C("country", "ne", "US"), {"a", "c", "d"}),
    ("text eq ignores case", C("name", "eq", "bob SMITH"), {"b"}),
    ("text ends_with", C("name", "ends_with", "SILVA"), {"a"}),
    ("email_domain derived, lower", C("email_domain", "eq", "acme.io"), {"a"}),
    ("email_domain missing without @", C("email_domain", "not_exists"), {"c", "d"}),
    ("set has is case-sensitive", C("tags", "has", "vip"), {"a"}),
    ("empty tag list is missing", C("tags", "not_exists"), {"b", "d"}),
    ("has_none includes missing", C("tags", "has_none", ("vip", "x")), {"b", "c", "d"}),
    ("has_all of nothing = exists", C("tags", "has_all", ()), {"a", "c"}),
    ("int gt skips missing", C("lead_score", "gt", 0), {"a", "c"}),
    ("int not gt includes missing", Not(C("lead_score", "gt", 0)), {"b", "d"}),
    ("between inclusive", C("lead_score", "between", (-5, 81)), {"a", "b"}),
    ("between lo > hi is empty", C("lead_score", "between", (81, -5)), set()),
    ("date eq is the whole day", C("created_at", "eq", "2026-03-01"), {"a", "b", "c"}),
    ("date gt is after the day", C("created_at", "gt", "2026-02-28"), {"a", "b", "c"}),
    ("date lt is before the day", C("created_at", "lt", "2026-03-02"), {"a", "b", "c"}),
    ("instant gt", C("created_at", "gt", "2026-03-01T00:00:00Z"), {"b", "c"}),
    ("date lte", C("created_at", "lte", "2026-03-01"), {"a", "b", "c"}),
    ("time ne includes missing", C("created_at", "ne", "2026-03-01T23:59:59Z"), {"a", "c", "d"}),
    ("within_last 30d", C("last_activity_at", "within_last", "30d"), {"a", "c"}),
    ("older_than 30d", C("last_activity_at", "older_than", "30d"), {"b"}),
    ("relative gte", C("last_activity_at", "gte", "-1d"), {"a"}),
    ("between relative", C("last_activity_at", "between", ("2026-01-01", "-30d")), {"b", "c"}),
    ("bool missing is false", C("unsubscribed", "eq", False), {"b", "c", "d"}),
    ("company field", C("company.size", "gte", 10), {"a", "c"}),
    ("company keyword normalised", C("company.domain", "eq", "acme.IO"), {"a"}),
    ("unknown company is missing", C("company.name", "not_exists"), {"b", "d"}),
    ("company_id is the string", C("company_id", "in", ("co9", "co2")), {"b", "c"}),
    ("fit_score", C("fit_score.crm", "gte", 70), {"a"}),
    ("custom int", C("custom.seats", "lt", 20), {"a"}),
    ("custom bool", C("custom.trial", "eq", True), {"b"}),
    ("custom set", C("custom.features", "has_any", ("sso", "api")), {"b"}),
    ("undeclared custom is keyword", C("custom.plan", "contains", "R"), {"a"}),
    (
        "nested",
        AllOf((
            AnyOf((C("country", "eq", "DE"), C("tags", "exists"))),
            Not(C("company.country", "eq", "DE")),
        )),
        {"c"},
    ),
]


@pytest.mark.parametrize(("rule", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reference_case(rule: Rule, expected: set[str]) -> None:
    assert reference_members(rule, CONTACTS, COMPANIES, SCHEMA, NOW) == expected


def test_not_is_complement_within_contacts() -> None:
    rule = C("lead_score", "gte", 81)
    members = reference_members(rule, CONTACTS, COMPANIES, SCHEMA, NOW)
    assert reference_members(Not(rule), CONTACTS, COMPANIES, SCHEMA, NOW) == ALL - members


def test_relative_time_needs_now() -> None:
    with pytest.raises(ValueError, match="needs now"):
        reference_members(C("created_at", "gt", "-1d"), CONTACTS, COMPANIES, SCHEMA, None)


@pytest.mark.parametrize("rule", [HasDeals(), SegmentRef("s1", ever=True)])
def test_not_yet_covered_rules_raise(rule: Rule) -> None:
    with pytest.raises(NotImplementedError):
        reference_members(rule, CONTACTS, COMPANIES, SCHEMA, NOW)


def test_segment_references_resolve_through_definitions() -> None:
    segments = {
        "Hot": SegmentDef(rule=C("lead_score", "gte", 81)),
        "picked": SegmentDef(members=frozenset({"b", "c", "gone"})),
        "Both": SegmentDef(rule=AllOf((SegmentRef("hot"), SegmentRef("Picked")))),
    }
    hot = reference_members(C("lead_score", "gte", 81), CONTACTS, COMPANIES, SCHEMA, NOW)
    assert reference_members(SegmentRef("Hot"), CONTACTS, COMPANIES, SCHEMA, NOW, segments) == hot
    picked = reference_members(SegmentRef("picked"), CONTACTS, COMPANIES, SCHEMA, NOW, segments)
    assert picked == {"b", "c"}  # a member that is no contact never counts
    both = reference_members(SegmentRef("Both"), CONTACTS, COMPANIES, SCHEMA, NOW, segments)
    assert both == hot & {"b", "c"}
    with pytest.raises(ValueError, match="unknown segment"):
        reference_members(SegmentRef("nope"), CONTACTS, COMPANIES, SCHEMA, NOW, segments)


def test_record_changes() -> None:
    model = {k: dict(v) for k, v in CONTACTS.items()}
    apply_record_change(model, "patch", {"id": "a", "country": None, "lead_score": 1})
    apply_record_change(model, "upsert", {"id": "b", "country": "FR"})
    apply_record_change(model, "upsert", {"id": "c", "deleted": True})
    apply_record_change(model, "delete", {"id": "d"})
    assert set(model) == {"a", "b"}
    assert "country" not in model["a"] and model["a"]["lead_score"] == 1
    assert model["b"] == {"id": "b", "country": "FR"}
    assert reference_members(C("country", "eq", "fr"), model, COMPANIES, SCHEMA, NOW) == {"b"}
