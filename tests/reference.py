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
- `SegmentRef` (`{"segment": S}`) is looked up in the `segments` mapping given to
  `reference_members` (keyed by id and/or name; a name also matches case-insensitively):
  a dynamic segment (`SegmentDef(rule=...)`) is its rule evaluated the same way, a static
  one (`SegmentDef(members=...)`) its member ids (only contacts that exist count, as with
  every rule). `{"segment": S, "ever": true}` is not covered (NotImplementedError).
- Deals, campaigns and events are read only when their records are passed
  (`deals=` id -> record, `campaigns=` id -> record, `events=` a list: every line one
  event); without them HasDeals / EventRule raise NotImplementedError.
- Deal records {id, contact_id, stage, value, owner, pipeline, created_at, close_date}
  change like contacts (`apply_record_change`). A deal belongs to the contact whose id
  equals its `contact_id`; deals and events of contacts that are not loaded are
  ignored (a contact loaded later gets them).
- `{"has": "deals", "where": R, "count": C}`: n = number of the contact's deals
  satisfying R (every condition of R on that one deal), deal fields typed contact_id
  ref; stage, owner, pipeline keyword; value int; created_at, close_date time, with
  the condition semantics above. No `where`: every deal.
- A count C is the conjunction of its keys (gte, gt, lte, lt, eq) over n; no C is
  `{"gte": 1}`, so `{"eq": 0}` / `{"lt": k}` include contacts with no deal / event.
- Campaign selector: an id or `{"in": [...]}` selects those campaigns (an id with no
  campaign record is a ValueError here; the server answers INVALID_ARGUMENT).
  `{"last": N}`: the N campaigns with the latest `sent_at` <= now, equal `sent_at`
  ordered by id (the larger id is the later one); a campaign without `sent_at` or sent
  after now is never among them; fewer sent -> those. match "any" (default): n =
  events of the type whose campaign_id is selected (each event once, however often
  its campaign is listed); match "all": C must hold for each selected campaign
  separately; with no campaign selected "all" matches nobody ("any" sees n = 0).
- Windows are whole UTC days, day(t) = t // 86400: `{"last": "Nd"}` is days
  [day(now) - N + 1, day(now)]; `{"since": T}` [day(T.lo), day(now)];
  `{"between": [A, B]}` [day(A.lo), day(B.hi)]; no window: every event, even after now.
- `{"event": TYPE, "campaign": S?, "within": W?, "count": C?}`: n = the contact's
  events of exactly that type inside W (and of the campaigns S selects).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bitseg.rules.model import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    SegmentRef,
    WindowBetween,
    WindowLast,
    WindowSince,
)
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


@dataclass(frozen=True)
class SegmentDef:
    """A segment for the reference: dynamic (`rule`) or static (`members`, contact ids)."""

    rule: Rule | None = None
    members: frozenset[str] = frozenset()


Segments = Mapping[str, SegmentDef]


def reference_members(
    rule: Rule,
    contacts: Mapping[str, Record],
    companies: Mapping[str, Record],
    schema: OrgSchema,
    now: int | None,
    segments: Segments | None = None,
    *,
    deals: Mapping[str, Record] | None = None,
    campaigns: Mapping[str, Record] | None = None,
    events: Iterable[Record] | None = None,
) -> set[str]:
    """The ids of the contacts matching `rule`, evaluated one contact at a time.

    >>> from bitseg.rules.model import Condition
    >>> reference_members(Condition("country", "eq", "de"),
    ...     {"a": {"id": "a", "country": "De"}, "b": {"id": "b"}}, {}, OrgSchema(), None)
    {'a'}
    """
    activity = activity_of(deals, campaigns, events)
    return {
        cid
        for cid, contact in contacts.items()
        if _matches(rule, contact, companies, schema, now, segments or {}, activity)
    }


def _matches(
    rule: Rule,
    contact: Record,
    companies: Mapping[str, Record],
    schema: OrgSchema,
    now: int | None,
    segments: Segments,
    activity: Activity | None = None,
) -> bool:
    args = (contact, companies, schema, now, segments, activity)
    if isinstance(rule, AllOf):
        return all(_matches(c, *args) for c in rule.children)
    if isinstance(rule, AnyOf):
        return any(_matches(c, *args) for c in rule.children)
    if isinstance(rule, Not):
        return not _matches(rule.child, *args)
    if isinstance(rule, HasDeals | EventRule):
        activity = activity or activity_of(None, None, None)
        if isinstance(rule, HasDeals):
            return _has_deals(rule, contact, activity, now)
        return _event_rule(rule, contact, activity, now)
    if isinstance(rule, SegmentRef):
        if rule.ever:
            raise NotImplementedError("the reference does not keep segment history")
        segment = _segment(segments, rule.segment)
        if segment.rule is None:
            return contact["id"] in segment.members
        return _matches(segment.rule, *args)
    if isinstance(rule, Condition):
        ftype = schema.field_type(rule.field)
        if ftype is None:
            raise ValueError(f"unknown field {rule.field!r}")
        value = field_value(contact, rule.field, companies)
        return _condition(rule, ftype, value, now)
    raise NotImplementedError(f"the reference does not evaluate {type(rule).__name__} yet")


def _segment(segments: Segments, ref: str) -> SegmentDef:
    if ref in segments:
        return segments[ref]
    for key, segment in segments.items():
        if key.casefold() == ref.strip().casefold():
            return segment
    raise ValueError(f"unknown segment {ref!r}")


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


# ---------------------------------------------------------------- deals, campaigns, events
_DAY = 86_400
DEAL_FIELD_TYPES: dict[str, FieldType] = {
    "contact_id": FieldType.REF,
    "stage": FieldType.KEYWORD,
    "value": FieldType.INT,
    "owner": FieldType.KEYWORD,
    "pipeline": FieldType.KEYWORD,
    "created_at": FieldType.TIME,
    "close_date": FieldType.TIME,
}
"""The deal fields of SPEC.md and their types (written out here, not taken from bitseg)."""

_CMP_KEYS = ("gte", "gt", "lte", "lt", "eq")


@dataclass
class Activity:
    """Deals by owner contact id, campaigns by id, and events by contact id."""

    deals: dict[str, list[Record]] | None
    campaigns: Mapping[str, Record]
    events: dict[str, list[Record]] | None


def activity_of(
    deals: Mapping[str, Record] | None,
    campaigns: Mapping[str, Record] | None,
    events: Iterable[Record] | None,
) -> Activity:
    """Group the records the way the activity rules read them."""
    by_contact: dict[str, list[Record]] | None = None
    if deals is not None:
        by_contact = {}
        for deal in deals.values():
            owner = deal.get("contact_id")
            if owner is not None:
                by_contact.setdefault(str(owner), []).append(deal)
    events_by: dict[str, list[Record]] | None = None
    if events is not None:
        events_by = {}
        for event in events:
            events_by.setdefault(str(event["contact_id"]), []).append(event)
    return Activity(by_contact, campaigns or {}, events_by)


def count_matches(cmp: Any, n: int) -> bool:
    """n against a count comparison (a `Cmp` or a dict); None means at least one.

    >>> count_matches({"gte": 2, "lt": 4}, 3), count_matches(None, 0)
    (True, False)
    """
    if cmp is None:
        return n >= 1
    get = cmp.get if isinstance(cmp, Mapping) else (lambda k: getattr(cmp, k, None))
    checks = {
        "gte": lambda v: n >= v,
        "gt": lambda v: n > v,
        "lte": lambda v: n <= v,
        "lt": lambda v: n < v,
        "eq": lambda v: n == v,
    }
    return all(checks[key](get(key)) for key in _CMP_KEYS if get(key) is not None)


def _has_deals(rule: HasDeals, contact: Record, activity: Activity, now: int | None) -> bool:
    if activity.deals is None:
        raise NotImplementedError("pass deals= to evaluate has deals")
    own = activity.deals.get(str(contact["id"]), [])
    n = sum(1 for deal in own if rule.where is None or _deal_matches(rule.where, deal, now))
    return count_matches(rule.count, n)


def _deal_matches(rule: Rule, deal: Record, now: int | None) -> bool:
    if isinstance(rule, AllOf):
        return all(_deal_matches(c, deal, now) for c in rule.children)
    if isinstance(rule, AnyOf):
        return any(_deal_matches(c, deal, now) for c in rule.children)
    if isinstance(rule, Not):
        return not _deal_matches(rule.child, deal, now)
    if isinstance(rule, Condition):
        ftype = DEAL_FIELD_TYPES.get(rule.field)
        if ftype is None:
            raise ValueError(f"unknown deal field {rule.field!r}")
        return _condition(rule, ftype, deal.get(rule.field), now)
    raise ValueError(f"{type(rule).__name__} cannot filter deals")


def selected_campaigns(
    selector: Any, campaigns: Mapping[str, Record], now: int | None
) -> list[str]:
    """The campaign ids a selector names, in order (`last`: latest first).

    >>> camps = {"a": {"id": "a", "sent_at": 10}, "b": {"id": "b", "sent_at": 10},
    ...          "c": {"id": "c", "sent_at": 5}, "d": {"id": "d", "sent_at": 99},
    ...          "e": {"id": "e"}}
    >>> selected_campaigns(CampaignLast(2), camps, 50)
    ['b', 'a']
    """
    if isinstance(selector, CampaignLast):
        if now is None:
            raise ValueError("the last N campaigns need now")
        sent = [
            (record_epoch(c["sent_at"]), str(cid))
            for cid, c in campaigns.items()
            if c.get("sent_at") is not None and record_epoch(c["sent_at"]) <= now
        ]
        sent.sort(reverse=True)
        return [cid for _, cid in sent[: max(selector.n, 0)]]
    ids = list(selector.ids) if isinstance(selector, CampaignIn) else [selector]
    for cid in ids:
        if cid not in campaigns:
            raise ValueError(f"unknown campaign {cid!r}")
    return ids


def event_days(window: Any, now: int | None) -> tuple[int, int] | None:
    """The inclusive range of UTC day numbers a window covers (None: no window, every day).

    >>> event_days(WindowLast("2d"), 86_400 * 10 + 5)
    (9, 10)
    """
    if window is None:
        return None
    if now is None:
        raise ValueError("an event window needs now")
    today = now // _DAY
    if isinstance(window, WindowLast):
        seconds = duration_seconds(window.duration)
        if seconds % _DAY:
            raise ValueError(f"event windows are whole days, got {window.duration!r}")
        return today - seconds // _DAY + 1, today
    if isinstance(window, WindowSince):
        return rule_interval(window.time, now)[0] // _DAY, today
    if isinstance(window, WindowBetween):
        start, end = rule_interval(window.start, now), rule_interval(window.end, now)
        return start[0] // _DAY, end[1] // _DAY
    raise ValueError(f"unknown window {window!r}")


def _event_rule(rule: EventRule, contact: Record, activity: Activity, now: int | None) -> bool:
    if activity.events is None:
        raise NotImplementedError("pass events= (and campaigns=) to evaluate event rules")
    days = event_days(rule.within, now)
    mine = [
        e
        for e in activity.events.get(str(contact["id"]), [])
        if e.get("type") == rule.type
        and (days is None or days[0] <= record_epoch(e["at"]) // _DAY <= days[1])
    ]
    if rule.campaign is None:
        return count_matches(rule.count, len(mine))
    chosen = selected_campaigns(rule.campaign, activity.campaigns, now)
    per_campaign = {cid: 0 for cid in chosen}
    for event in mine:
        cid = event.get("campaign_id")
        if cid is not None and str(cid) in per_campaign:
            per_campaign[str(cid)] += 1
    if isinstance(rule.campaign, CampaignLast) and rule.campaign.match == "all":
        return bool(chosen) and all(count_matches(rule.count, n) for n in per_campaign.values())
    return count_matches(rule.count, sum(per_campaign.values()))
