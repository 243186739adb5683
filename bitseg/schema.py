"""The data model of SPEC.md: field names and types per entity, and operators per type.

`OrgSchema` is one org's view of it: the built-in fields plus the custom fields that
org declared. Everything that needs to know "what is `company.size`" asks here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    KEYWORD = "keyword"
    SET = "set"
    TEXT = "text"
    INT = "int"
    TIME = "time"
    BOOL = "bool"
    REF = "ref"  # a reference to another entity's external id (contact.company_id)


K, S, T, N, TM, B = (
    FieldType.KEYWORD,
    FieldType.SET,
    FieldType.TEXT,
    FieldType.INT,
    FieldType.TIME,
    FieldType.BOOL,
)

CONTACT_FIELDS: Mapping[str, FieldType] = {
    "email": T,
    "email_domain": K,  # derived from email, never ingested directly
    "name": T,
    "phone": T,
    "job_title": T,
    "city": T,
    "country": K,
    "language": K,
    "source": K,
    "owner": K,
    "lifecycle_stage": K,
    "engagement_trend": K,
    "conversion_likelihood": K,
    "tags": S,
    "lead_score": N,
    "engagement_score": N,
    "lifetime_value": N,
    "created_at": TM,
    "last_activity_at": TM,
    "last_engaged_at": TM,
    "unsubscribed": B,
    "suppressed": B,
    "company_id": FieldType.REF,
}

COMPANY_FIELDS: Mapping[str, FieldType] = {
    "name": T,
    "domain": K,
    "industry": K,
    "size": N,
    "country": K,
    "revenue": N,
}

DEAL_FIELDS: Mapping[str, FieldType] = {
    "contact_id": FieldType.REF,
    "stage": K,
    "value": N,
    "owner": K,
    "pipeline": K,
    "created_at": TM,
    "close_date": TM,
}

CAMPAIGN_FIELDS: Mapping[str, FieldType] = {"name": T, "sent_at": TM}

EVENT_TYPES: tuple[str, ...] = (
    "email_opened",
    "email_clicked",
    "email_unsubscribed",
    "activity",
    "inbound",
    "purchase",
    "support_ticket",
    "conversation",
)

# Keyword fields whose values are normalised on the way in (records and rules alike).
UPPER_CASE_FIELDS = frozenset({"country", "company.country"})
LOWER_CASE_FIELDS = frozenset({"email_domain", "company.domain"})

DERIVED_FIELDS = frozenset({"email_domain"})
# Contact text fields whose values are (nearly) unique per contact. They are indexed by
# trigrams and the stored value only, without a bitmap per distinct value: that would be
# one bitmap key per contact (60% of all keys of a bulk load) for an `eq` the trigrams
# and one exact check answer as well.
UNKEYED_TEXT_FIELDS = frozenset({"email", "phone"})

OPERATORS: Mapping[FieldType, frozenset[str]] = {
    K: frozenset({"eq", "ne", "in", "not_in", "exists", "not_exists", "starts_with", "contains"}),
    FieldType.REF: frozenset({"eq", "ne", "in", "not_in", "exists", "not_exists"}),
    S: frozenset({"has", "not_has", "has_any", "has_all", "has_none", "exists", "not_exists"}),
    T: frozenset({"eq", "ne", "contains", "starts_with", "ends_with", "exists", "not_exists"}),
    N: frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "between", "exists", "not_exists"}),
    TM: frozenset(
        {
            "eq",
            "ne",
            "gt",
            "gte",
            "lt",
            "lte",
            "between",
            "exists",
            "not_exists",
            "within_last",
            "older_than",
        }
    ),
    B: frozenset({"eq"}),
}

ALL_OPERATORS: frozenset[str] = frozenset().union(*OPERATORS.values())

CUSTOM_TYPES: frozenset[FieldType] = frozenset({K, S, T, N, TM, B})

MAX_KEYWORD_BYTES = 256


@dataclass(frozen=True)
class OrgSchema:
    """One org's fields: the built-ins plus its declared custom fields (name -> type)."""

    custom: Mapping[str, FieldType] = field(default_factory=dict)

    def field_type(self, name: str) -> FieldType | None:
        """The type of a contact-rule field, or None if there is no such field."""
        if name in CONTACT_FIELDS:
            return CONTACT_FIELDS[name]
        prefix, dot, rest = name.partition(".")
        if not dot or not rest:
            return None
        if prefix == "company":
            return COMPANY_FIELDS.get(rest)
        if prefix == "fit_score":
            return N
        if prefix == "custom":
            return self.custom.get(rest, K)
        return None

    def deal_field_type(self, name: str) -> FieldType | None:
        return DEAL_FIELDS.get(name)

    def with_custom(self, declared: Mapping[str, FieldType]) -> OrgSchema:
        merged = dict(self.custom)
        merged.update(declared)
        return OrgSchema(custom=merged)

    def to_json(self) -> dict[str, object]:
        return {"custom": {k: str(v) for k, v in sorted(self.custom.items())}}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> OrgSchema:
        custom = data.get("custom") or {}
        assert isinstance(custom, Mapping)
        return cls(custom={str(k): FieldType(str(v)) for k, v in custom.items()})


def normalise_keyword(field_name: str, value: str) -> str:
    """Keyword values as stored and compared: country codes upper-case, domains lower-case."""
    if field_name in UPPER_CASE_FIELDS:
        return value.upper()
    if field_name in LOWER_CASE_FIELDS:
        return value.lower()
    return value
