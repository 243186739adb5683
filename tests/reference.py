"""The slow, obvious reference evaluator: which contacts match a rule, in plain Python.

Used only by tests, to check the bitmap engine (like FeatureBase's `roaring/naive.go`).
It walks the ORIGINAL rule tree contact by contact over the final records (plain dicts
in the ingest format of SPEC.md) and shares no code with bitseg's normaliser, engine,
store or indexer: times are parsed here with `datetime`, values compared with `==`.
It also holds the record model the tests keep in step with the server
(`apply_record_change`: upsert = full replace, patch = merge, delete).

Semantics (the contract the engine is checked against):

- `AllOf(())` is every contact, `AnyOf(())` is nobody, `Not(r)` is the complement of
  `r` within the contacts.
- Missing values: eq, in, has, has_any, has_all, contains, starts_with, ends_with, the
  comparisons (gt, gte, lt, lte, between), within_last and older_than never match a
  contact with no value. ne, not_in, not_has, has_none and not_exists are the exact
  complements of eq, in, has, has_any and exists, so they include contacts with no
  value. A set field holding an empty list counts as missing (`exists` is false), so
  `has_all ()` matches exactly the contacts whose set is non-empty. A bool field that
  is missing is false; `eq true` / `eq false`.
- keyword and ref: eq / in are exact string equality, after normalising `country` and
  `company.country` to upper case and `email_domain` and `company.domain` to lower
  case on both sides; starts_with / contains compare lower-cased strings.
- text (email, name, phone, job_title, city, company.name, custom text fields): eq, ne,
  contains, starts_with, ends_with compare `str.lower()` of both sides.
- set: exact string membership (no case folding).
- int: plain integer comparisons; `between [lo, hi]` is inclusive (empty if lo > hi).
- time: record values are ISO-8601 strings (no offset means UTC; a date alone is its
  midnight UTC; an int is epoch seconds), stored to the second (fractions dropped).
  A rule time is an inclusive interval [lo, hi]: a date "2026-03-01" is the whole UTC
  day, a date-time is the instant, "now" / "-30d" / "+1d" (units s, m, h, d, w) are
  instants relative to `now`. eq V: lo <= t <= hi; ne: complement of eq; gt V:
  t > V.hi; gte V: t >= V.lo; lt V: t < V.lo; lte V: t <= V.hi; between [A, B]:
  A.lo <= t <= B.hi; within_last "30d": now - 30d <= t <= now; older_than "60d":
  t < now - 60d.
- `email_domain` is derived from `email`: the lower-cased part after the last "@"
  (no "@": missing).
- `fit_score.<product>` is the int under that key of the record's `fit_score` map;
  `custom.<name>` is the value under that key of the `custom` map, typed by the org
  schema (undeclared: keyword).
- `company.<field>` is that field of the contact's company record; missing when the
  contact has no `company_id`, the company does not exist, or lacks the field.
- `company_id` (ref) is the contact's own `company_id` string, whether or not that
  company exists.
- HasDeals, EventRule and SegmentRef are not covered yet (NotImplementedError).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bitseg.rules.model import AllOf, AnyOf, Condition, Not, Rule
from bitseg.schema import FieldType, OrgSchema

Record = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION_RE = re.compile(r"^(\d+)([smhdw])$")
_RELATIVE_RE = re.compile(r"^([+-])(\d+)([smhdw])$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_UPPER = frozenset({"country", "company.country"})
_LOWER = frozenset({"email_domain", "company.domain"})

# Operators that are the complement of another one (including contacts with no value).
_COMPLEMENT = {
    "ne": "eq",
    "not_in": "in",
    "not_has": "has",
    "has_none": "has_any",
    "not_exists": "exists",
}


def reference_members(
    rule: Rule,
    contacts: Mapping[str, Record],
    companies: Mapping[str, Record],
    schema: OrgSchema,
    now: int | None,
) -> set[str]:
    """The ids of the contacts matching `rule`, evaluated one contact at a time.

    >>> from bitseg.rules.model import Condition
    >>> reference_members(Condition("country", "eq", "de"),
    ...     {"a": {"id": "a", "country": "De"}, "b": {"id": "b"}}, {}, OrgSchema(), None)
    {'a'}
    """
    return {
        cid
        for cid, contact in contacts.items()
        if _matches(rule, contact, companies, schema, now)
    }


def _matches(
    rule: Rule,
    contact: Record,
    companies: Mapping[str, Record],
    schema: OrgSchema,
    now: int | None,
) -> bool:
    if isinstance(rule, AllOf):
        return all(_matches(c, contact, companies, schema, now) for c in rule.children)
    if isinstance(rule, AnyOf):
        return any(_matches(c, contact, companies, schema, now) for c in rule.children)
    if isinstance(rule, Not):
        return not _matches(rule.child, contact, companies, schema, now)
    if isinstance(rule, Condition):
        ftype = schema.field_type(rule.field)
        if ftype is None:
            raise ValueError(f"unknown field {rule.field!r}")
        value = field_value(contact, rule.field, companies)
        return _condition(rule, ftype, value, now)
    raise NotImplementedError(f"the reference does not evaluate {type(rule).__name__} yet")


def field_value(contact: Record, name: str, companies: Mapping[str, Record]) -> Any:
    """The raw record value a rule field reads for this contact, or None when missing."""
    if name == "email_domain":
        email = contact.get("email")
        if not isinstance(email, str) or "@" not in email:
            return None
        return email.rsplit("@", 1)[1].lower()
    prefix, dot, rest = name.partition(".")
    if not dot:
        return contact.get(name)
    if prefix == "company":
        company_id = contact.get("company_id")
        company = companies.get(company_id) if isinstance(company_id, str) else None
        return None if company is None else company.get(rest)
    if prefix in ("fit_score", "custom"):
        nested = contact.get(prefix)
        return nested.get(rest) if isinstance(nested, Mapping) else None
    raise ValueError(f"unknown field {name!r}")


def _condition(cond: Condition, ftype: FieldType, value: Any, now: int | None) -> bool:
    op = cond.op
    if op in _COMPLEMENT:
        positive = Condition(cond.field, _COMPLEMENT[op], cond.value)
        return not _condition(positive, ftype, value, now)
    if ftype == FieldType.BOOL:
        if op != "eq":
            raise ValueError(f"bool field {cond.field!r} has no operator {op!r}")
        return (value is True) == (cond.value is True)
    if ftype == FieldType.SET:
        return _set_condition(op, _as_set(value), cond.value)
    if value is None:
        return False  # every remaining positive operator needs a value
    if op == "exists":
        return True
    if ftype in (FieldType.KEYWORD, FieldType.REF):
        return _keyword_condition(cond.field, op, str(value), cond.value)
    if ftype == FieldType.TEXT:
        return _text_condition(op, str(value), cond.value)
    if ftype == FieldType.INT:
        return _int_condition(op, int(value), cond.value)
    if ftype == FieldType.TIME:
        return _time_condition(op, record_epoch(value), cond.value, now)
    raise ValueError(f"unknown field type {ftype!r}")


def _as_set(value: Any) -> set[str] | None:
    if not value:
        return None
    return {str(v) for v in value}


def _set_condition(op: str, values: set[str] | None, arg: Any) -> bool:
    if values is None:
        return False
    if op == "exists":
        return True
    if op == "has":
        return arg in values
    if op == "has_any":
        return any(a in values for a in arg)
    if op == "has_all":
        return all(a in values for a in arg)
    raise ValueError(f"set operator {op!r}")


def _norm(field: str, text: str) -> str:
    if field in _UPPER:
        return text.upper()
    if field in _LOWER:
        return text.lower()
    return text


def _keyword_condition(field: str, op: str, value: str, arg: Any) -> bool:
    value = _norm(field, value)
    if op == "eq":
        return value == _norm(field, arg)
    if op == "in":
        return any(value == _norm(field, a) for a in arg)
    if op == "starts_with":
        return value.lower().startswith(arg.lower())
    if op == "contains":
        return arg.lower() in value.lower()
    raise ValueError(f"keyword operator {op!r}")


def _text_condition(op: str, value: str, arg: Any) -> bool:
    value, needle = value.lower(), str(arg).lower()
    if op == "eq":
        return value == needle
    if op == "contains":
        return needle in value
    if op == "starts_with":
        return value.startswith(needle)
    if op == "ends_with":
        return value.endswith(needle)
    raise ValueError(f"text operator {op!r}")


def _int_condition(op: str, value: int, arg: Any) -> bool:
    if op == "between":
        lo, hi = arg
        return lo <= value <= hi
    return _compare(op, value, arg, arg)


def _compare(op: str, value: int, lo: int, hi: int) -> bool:
    """`value` against the inclusive interval [lo, hi] (an int rule value has lo == hi)."""
    if op == "eq":
        return lo <= value <= hi
    if op == "gt":
        return value > hi
    if op == "gte":
        return value >= lo
    if op == "lt":
        return value < lo
    if op == "lte":
        return value <= hi
    raise ValueError(f"comparison operator {op!r}")


def _time_condition(op: str, t: int, arg: Any, now: int | None) -> bool:
    if op == "between":
        start, end = arg
        return rule_interval(start, now)[0] <= t <= rule_interval(end, now)[1]
    if op in ("within_last", "older_than"):
        if now is None:
            raise ValueError(f"{op} needs now")
        since = now - duration_seconds(arg)
        return since <= t <= now if op == "within_last" else t < since
    lo, hi = rule_interval(arg, now)
    return _compare(op, t, lo, hi)


def duration_seconds(text: str) -> int:
    """Seconds in "30d", "12h", "2w", "15m", "45s".

    >>> duration_seconds("2w")
    1209600
    """
    m = _DURATION_RE.match(text)
    if not m:
        raise ValueError(f"malformed duration {text!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def _epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(seconds=1)


def record_epoch(value: Any) -> int:
    """Epoch seconds of a record time (ISO-8601 string, a date = its midnight UTC, or an int).

    >>> record_epoch("2026-03-01T12:00:00.9Z")
    1772366400
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if _DATE_RE.match(text):
        return _epoch(datetime.combine(date.fromisoformat(text), datetime.min.time()))
    return _epoch(datetime.fromisoformat(text))


def rule_interval(text: str, now: int | None) -> tuple[int, int]:
    """The inclusive interval of epoch seconds a rule time value stands for.

    >>> rule_interval("1970-01-02", None)
    (86400, 172799)
    >>> rule_interval("-1h", 7200)
    (3600, 3600)
    """
    text = text.strip()
    if text == "now" or _RELATIVE_RE.match(text):
        if now is None:
            raise ValueError(f"relative time {text!r} needs now")
        m = _RELATIVE_RE.match(text)
        if m is None:
            return now, now
        offset = int(m.group(2)) * _UNITS[m.group(3)]
        t = now + offset if m.group(1) == "+" else now - offset
        return t, t
    if _DATE_RE.match(text):
        lo = record_epoch(text)
        return lo, lo + 86_400 - 1
    t = record_epoch(text)
    return t, t


def apply_record_change(
    records: dict[str, Record], op: str, record: Mapping[str, Any]
) -> None:
    """Apply one upsert / patch / delete to an id -> record model, in place.

    A file line `{"id": x, "deleted": true}` is a delete; a patch merges top-level keys
    and a None value removes that key.

    >>> m = {"a": {"id": "a", "city": "Berlin", "tags": ["vip"]}}
    >>> apply_record_change(m, "patch", {"id": "a", "tags": None, "lead_score": 3})
    >>> m
    {'a': {'id': 'a', 'city': 'Berlin', 'lead_score': 3}}
    """
    rid = str(record["id"])
    if op == "delete" or (op == "upsert" and record.get("deleted") is True):
        records.pop(rid, None)
    elif op == "upsert":
        records[rid] = dict(record)
    elif op == "patch":
        merged = dict(records.get(rid, {"id": rid}))
        for key, val in record.items():
            if val is None:
                merged.pop(key, None)
            else:
                merged[key] = val
        records[rid] = merged
    else:
        raise ValueError(f"unknown change op {op!r}")
