"""Hypothesis strategies: small random orgs, valid rules over them, and change batches.

Values come from SMALL vocabularies, so that random rules match often and hit the
edges: mixed-case country codes and text, shared substrings, day boundaries
(00:00:00 / 23:59:59) and instants exactly at `now - 30d`, empty tag lists, missing
fields, contacts whose company does not exist, numeric-looking contact ids ("7",
"007", "1048576") next to ordinary ones.

Record format (what `to_jsonl` / `to_csv` write and `tests/reference.py` reads): one
dict per record in the ingest format of SPEC.md; never an empty string; a change batch
never touches one contact id both in its file lines and in its `records`, patches and
deletes only name live records, and a patch of the `fit_score` / `custom` maps always
carries every key the old map had (so shallow replace and deep merge agree).

Deals, campaigns and events (`activity_orgs`, `activity_batches`, `activity_rules`):
deals owned by loaded contacts, by contacts not (yet) loaded or by nobody; campaign
timelines with ties, campaigns sent after `now` and never sent; events of a few busy
contacts at times on both sides of UTC midnight near every window edge, queried at
`QUERY_NOWS` (noon, midnight, 23:59:59).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import strategies as st

from bitseg.rules.model import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    CampaignSelector,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    Window,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.schema import FieldType, OrgSchema

try:
    from tests.reference import Record, apply_record_change
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import Record, apply_record_change

NOW_TEXT = "2026-03-15T12:00:00Z"
NOW = 1_773_576_000
"""The fixed `now` of every generated org and query (epoch seconds of NOW_TEXT)."""

CUSTOM_SCHEMA: dict[str, str] = {
    "plan": "keyword",
    "seats": "int",
    "features": "set",
    "notes": "text",
    "renewal_at": "time",
    "trial": "bool",
}
"""The declared custom fields; `custom.region` also appears in records, undeclared (keyword)."""

ORG_SCHEMA = OrgSchema(custom={k: FieldType(v) for k, v in CUSTOM_SCHEMA.items()})


def _iso(epoch: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


_DAY = 86_400

# ---------------------------------------------------------------- vocabularies
COUNTRIES = ("DE", "de", "De", "US", "us", "FR", "GB", "gb", "BR")
LANGUAGES = ("de", "en", "EN", "fr", "pt-BR")
SOURCES = ("webinar", "Webinar", "web-form", "ads", "referral")
OWNERS = ("u1", "u2", "U1", "u10", "42", "007")
STAGES = ("SUBSCRIBER", "LEAD", "MQL", "SQL", "CUSTOMER")
TRENDS = ("RISING", "STABLE", "DECLINING")
LIKELIHOODS = ("LOW", "POSSIBLE", "LIKELY", "VERY_LIKELY")
TAGS = ("vip", "VIP", "newsletter", "churned", "hot-lead", "webinar-2026")
NAMES = (
    "Ana Silva", "ana silva", "Anna Smith", "ANA SMITH-JONES", "O'Neil, Bob", "Bob",
    "Jürgen Müller", "Zoë Ann",
)
EMAILS = (
    "Ana.Silva@Acme.io", "ana@acme.IO", "anna.smith@sub.acme.io", "bob@gmail.com",
    "BOB@Gmail.Com", "j.mueller@beta.de", "no-at-sign", "a@b@Acme.io",
)
PHONES = ("+49 30 1234", "+49 30 9999", "+1 555 0100", "0049301234")
JOB_TITLES = ("Head of Sales", "head of marketing", "Sales Manager", "CTO", "VP Sales")
CITIES = ("Berlin", "berlin", "Bern", "São Paulo", "Paris", "New York")
PLANS = ("pro", "Pro", "free", "enterprise", "pro-plus")
FEATURES = ("sso", "SSO", "api", "audit")
NOTES = ("Call back Monday", "call BACK later", "VIP customer", "needs demo")
REGIONS = ("emea", "EMEA", "apac")
COMPANY_NAMES = ("Acme GmbH", "acme inc", "ACME Labs", "Beta AG", "Gamma Ltd")
DOMAINS = ("acme.io", "ACME.io", "beta.de", "gamma.co.uk", "gmail.com")
INDUSTRIES = ("Software", "software", "Healthcare", "Finance", "Retail")

NUMERIC_IDS = ("0", "1", "7", "007", "42", "1048575", "1048576", "4294967295")
CONTACT_IDS = tuple(f"c{i}" for i in range(80)) + NUMERIC_IDS
COMPANY_IDS = tuple(f"co{i}" for i in range(10))
REFERENCED_COMPANY_IDS = (*COMPANY_IDS, "co10", "co11")  # co10 and co11 never exist

RECORD_TIMES = (
    _iso(NOW), _iso(NOW - 1), _iso(NOW + 1), _iso(NOW - 12 * 3600), _iso(NOW - _DAY),
    _iso(NOW - 14 * _DAY), _iso(NOW - 30 * _DAY), _iso(NOW - 30 * _DAY - 1),
    _iso(NOW - 60 * _DAY), _iso(NOW - 60 * _DAY - 1), _iso(NOW + _DAY),
    "2026-03-01T00:00:00Z", "2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z",
    "2026-02-28T23:59:59Z", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z",
    "2026-03-01T12:00:00",  # no offset: UTC
    "2026-03-02T01:00:00+02:00",  # = 2026-03-01T23:00:00Z
    "2026-03-01T23:59:59.750Z",  # stored to the second: 23:59:59
    "2026-03-02",  # a date in a record: its midnight UTC
)
RULE_TIMES = (
    "2026-03-01", "2026-03-02", "2026-02-28", "2025-12-31", "2026-03-15", "2026-02-13",
    "2026-03-01T00:00:00Z", "2026-03-01T23:59:59Z", "2026-03-01T12:00:00Z",
    "2026-03-01T01:00:00+01:00", "2026-03-15T12:00:00", _iso(NOW - 30 * _DAY),
    "now", "-1s", "-12h", "-1d", "-2w", "-30d", "-60d", "+1d",
)
DURATIONS = ("45s", "15m", "12h", "1d", "14d", "2w", "30d", "60d")

SCORES = st.integers(-3, 12)
FIT = st.integers(-2, 5)
BIG_INTS = st.sampled_from((0, -1, 1, 99, 250_000, 3_000_000_000, -3_000_000_000))
SIZES = st.sampled_from((1, 10, 50, 100, 101, 250, 5000))
REVENUES = st.sampled_from((0, 1_000_000, 12_000_000, 3_000_000_000))

_BOOL = FieldType.BOOL


@dataclass(frozen=True)
class FieldSpec:
    """A rule field: its type, the values records hold, and how records draw them."""

    type: FieldType
    pool: tuple[Any, ...] = ()
    record: st.SearchStrategy[Any] | None = None


def _kw(pool: tuple[str, ...]) -> FieldSpec:
    return FieldSpec(FieldType.KEYWORD, pool, st.sampled_from(pool))


def _text(pool: tuple[str, ...]) -> FieldSpec:
    return FieldSpec(FieldType.TEXT, pool, st.sampled_from(pool))


def _int(ints: st.SearchStrategy[int], pool: tuple[int, ...]) -> FieldSpec:
    return FieldSpec(FieldType.INT, pool, ints)


_TIME = FieldSpec(FieldType.TIME, RULE_TIMES, st.sampled_from(RECORD_TIMES))
_SCORE_POOL = (-3, -1, 0, 1, 5, 10, 12)

CONTACT_SPECS: dict[str, FieldSpec] = {
    "email": _text(EMAILS),
    "name": _text(NAMES),
    "phone": _text(PHONES),
    "job_title": _text(JOB_TITLES),
    "city": _text(CITIES),
    "country": _kw(COUNTRIES),
    "language": _kw(LANGUAGES),
    "source": _kw(SOURCES),
    "owner": _kw(OWNERS),
    "lifecycle_stage": _kw(STAGES),
    "engagement_trend": _kw(TRENDS),
    "conversion_likelihood": _kw(LIKELIHOODS),
    "tags": FieldSpec(FieldType.SET, TAGS, st.lists(st.sampled_from(TAGS), max_size=4)),
    "lead_score": _int(SCORES, _SCORE_POOL),
    "engagement_score": _int(SCORES, _SCORE_POOL),
    "lifetime_value": _int(BIG_INTS, (0, 1, 250_000, 3_000_000_000, -3_000_000_000)),
    "created_at": _TIME,
    "last_activity_at": _TIME,
    "last_engaged_at": _TIME,
    "unsubscribed": FieldSpec(_BOOL, (), st.booleans()),
    "suppressed": FieldSpec(_BOOL, (), st.booleans()),
    "company_id": FieldSpec(
        FieldType.REF, (*REFERENCED_COMPANY_IDS, "CO1"), st.sampled_from(REFERENCED_COMPANY_IDS)
    ),
}
COMPANY_SPECS: dict[str, FieldSpec] = {
    "name": _text(COMPANY_NAMES),
    "domain": _kw(DOMAINS),
    "industry": _kw(INDUSTRIES),
    "size": _int(SIZES, (1, 50, 100, 101, 5000)),
    "country": _kw(COUNTRIES),
    "revenue": _int(REVENUES, (0, 12_000_000, 3_000_000_000)),
}
FIT_SPEC = _int(FIT, (-2, 0, 1, 3, 5))
CUSTOM_SPECS: dict[str, FieldSpec] = {
    "plan": _kw(PLANS),
    "seats": _int(st.integers(-1, 20) | st.just(1000), (-1, 0, 5, 12, 1000)),
    "features": FieldSpec(FieldType.SET, FEATURES, st.lists(st.sampled_from(FEATURES), max_size=3)),
    "notes": _text(NOTES),
    "renewal_at": _TIME,
    "trial": FieldSpec(_BOOL, (), st.booleans()),
    "region": _kw(REGIONS),  # undeclared: a keyword
}

RULE_FIELDS: dict[str, FieldSpec] = {
    **CONTACT_SPECS,
    "email_domain": _kw(("acme.io", "ACME.IO", "sub.acme.io", "gmail.com", "beta.de", "io")),
    **{f"company.{k}": v for k, v in COMPANY_SPECS.items()},
    "fit_score.crm": FIT_SPEC,
    "fit_score.ads": FIT_SPEC,
    "fit_score.seo": FIT_SPEC,  # a product no record has
    **{f"custom.{k}": v for k, v in CUSTOM_SPECS.items()},
    "custom.nothing": _kw(("x",)),  # undeclared and never present
}
"""Every field a generated rule may name, with the values its conditions draw from."""


# ---------------------------------------------------------------- records
def contact_bodies() -> st.SearchStrategy[Record]:
    """A contact record without its id: any subset of the fields, including the maps."""
    optional: dict[str, st.SearchStrategy[Any]] = {
        name: spec.record for name, spec in CONTACT_SPECS.items() if spec.record is not None
    }
    optional["fit_score"] = st.fixed_dictionaries({}, optional={"crm": FIT, "ads": FIT})
    optional["custom"] = custom_maps()
    return st.fixed_dictionaries({}, optional=optional)


def custom_maps() -> st.SearchStrategy[dict[str, Any]]:
    """A `custom` map: any subset of the declared fields plus the undeclared `region`."""
    return st.fixed_dictionaries(
        {}, optional={k: s.record for k, s in CUSTOM_SPECS.items() if s.record is not None}
    )


def company_bodies() -> st.SearchStrategy[Record]:
    """A company record without its id."""
    return st.fixed_dictionaries(
        {}, optional={k: s.record for k, s in COMPANY_SPECS.items() if s.record is not None}
    )


@dataclass
class Org:
    """The final records of one org: contacts and companies by id."""

    contacts: dict[str, Record] = field(default_factory=dict)
    companies: dict[str, Record] = field(default_factory=dict)

    def copy(self) -> Org:
        return Org(
            {k: dict(v) for k, v in self.contacts.items()},
            {k: dict(v) for k, v in self.companies.items()},
        )


@st.composite
def orgs(draw: st.DrawFn, max_contacts: int = 60, max_companies: int = 10) -> Org:
    """0..60 contacts and 0..10 companies; contacts may reference missing companies."""
    n = draw(st.integers(0, max_contacts))  # drawn first, so that big orgs are common
    ids = draw(st.lists(st.sampled_from(CONTACT_IDS), unique=True, min_size=n, max_size=n))
    contacts = {cid: {"id": cid, **draw(contact_bodies())} for cid in ids}
    n_companies = draw(st.integers(0, max_companies))
    companies = {f"co{i}": {"id": f"co{i}", **draw(company_bodies())} for i in range(n_companies)}
    return Org(contacts, companies)


# ---------------------------------------------------------------- change batches
@dataclass
class ChangeBatch:
    """One incremental ingest: file lines (upserts and deletes) plus ordered records."""

    contact_lines: list[Record] = field(default_factory=list)
    company_lines: list[Record] = field(default_factory=list)
    records: list[tuple[str, str, Record]] = field(default_factory=list)


def apply_batch(org: Org, batch: ChangeBatch) -> Org:
    """The org after `batch`: contact file lines, company file lines, then the records."""
    after = org.copy()
    for line in batch.contact_lines:
        apply_record_change(after.contacts, "upsert", line)
    for line in batch.company_lines:
        apply_record_change(after.companies, "upsert", line)
    for kind, op, record in batch.records:
        apply_record_change(after.contacts if kind == "contacts" else after.companies, op, record)
    return after


def _nullable(spec: Mapping[str, st.SearchStrategy[Any]]) -> dict[str, st.SearchStrategy[Any]]:
    return {k: st.none() | s for k, s in spec.items()}


@st.composite
def contact_patches(draw: st.DrawFn, old: Record) -> Record:
    """Fields to merge into `old` (None removes a field); maps keep every old key."""
    scalars = {k: s.record for k, s in CONTACT_SPECS.items() if s.record is not None}
    body: Record = draw(st.fixed_dictionaries({}, optional=_nullable(scalars)))
    if draw(st.booleans()):
        body["fit_score"] = draw(st.none() | st.fixed_dictionaries({"crm": FIT, "ads": FIT}))
    if draw(st.booleans()):
        new = draw(st.none() | custom_maps())
        if new is not None:
            for key, val in (old.get("custom") or {}).items():
                new.setdefault(key, val)
        body["custom"] = new
    return body


@st.composite
def change_batches(draw: st.DrawFn, org: Org) -> ChangeBatch:
    """Random upserts (full replace), patches, deletes and company changes against `org`."""
    model = org.copy()
    batch = ChangeBatch()
    file_ids: set[str] = set()
    for _ in range(draw(st.integers(0, 8))):
        live = sorted(model.contacts)
        if live and draw(st.integers(0, 2)) == 0:
            line: Record = {"id": draw(st.sampled_from(live)), "deleted": True}
        else:
            line = {"id": draw(st.sampled_from(CONTACT_IDS)), **draw(contact_bodies())}
        apply_record_change(model.contacts, "upsert", line)
        batch.contact_lines.append(line)
        file_ids.add(line["id"])
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(("patch", "patch", "upsert", "delete")))
        if op == "upsert":
            free = sorted(set(CONTACT_IDS) - file_ids)
            record = {"id": draw(st.sampled_from(free)), **draw(contact_bodies())}
        else:
            live = sorted(set(model.contacts) - file_ids)
            if not live:
                continue
            cid = draw(st.sampled_from(live))
            patch = draw(contact_patches(model.contacts[cid])) if op == "patch" else {}
            record = {"id": cid, **patch}
        apply_record_change(model.contacts, op, record)
        batch.records.append(("contacts", op, record))
    _company_changes(draw, model, batch)
    return batch


def _company_changes(draw: st.DrawFn, model: Org, batch: ChangeBatch) -> None:
    file_ids: set[str] = set()
    pool = (*COMPANY_IDS, "co10")
    for _ in range(draw(st.integers(0, 4))):
        live = sorted(model.companies)
        if live and draw(st.integers(0, 2)) == 0:
            line: Record = {"id": draw(st.sampled_from(live)), "deleted": True}
        else:
            line = {"id": draw(st.sampled_from(pool)), **draw(company_bodies())}
        apply_record_change(model.companies, "upsert", line)
        batch.company_lines.append(line)
        file_ids.add(line["id"])
    scalars = {k: s.record for k, s in COMPANY_SPECS.items() if s.record is not None}
    for _ in range(draw(st.integers(0, 3))):
        live = sorted(set(model.companies) - file_ids)
        if not live:
            break
        record = {"id": draw(st.sampled_from(live))}
        record.update(draw(st.fixed_dictionaries({}, optional=_nullable(scalars))))
        apply_record_change(model.companies, "patch", record)
        batch.records.append(("companies", "patch", record))


# ---------------------------------------------------------------- rules
def _case_variants(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted({text, text.lower(), text.upper(), text.swapcase()}))


@st.composite
def _substrings(draw: st.DrawFn, pool: tuple[str, ...]) -> str:
    """A non-empty substring of a pool value, in a random case."""
    text = draw(st.sampled_from(pool))
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return draw(_case_variants(text[start:end]))


def _values(pool: tuple[Any, ...], vary_case: bool) -> st.SearchStrategy[Any]:
    plain = st.sampled_from(pool)
    if not vary_case:
        return plain
    return plain.flatmap(_case_variants)


def _cond(name: str, ops: Iterable[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Rule]:
    return st.builds(Condition, st.just(name), st.sampled_from(tuple(ops)), values)


def _tuples(
    values: st.SearchStrategy[Any], max_size: int = 4
) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(values, max_size=max_size).map(tuple)


def _pairs(values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    return st.tuples(values, values)  # lo > hi is allowed: an empty range


def _field_conditions(name: str, spec: FieldSpec) -> st.SearchStrategy[Rule]:
    exists = _cond(name, ("exists", "not_exists"), st.none())
    t = spec.type
    builders: dict[FieldType, Callable[[], list[st.SearchStrategy[Rule]]]] = {
        FieldType.KEYWORD: lambda: [
            _cond(name, ("eq", "ne"), _values(spec.pool, name.endswith(("country", "domain")))),
            _cond(name, ("in", "not_in"), _tuples(st.sampled_from(spec.pool))),
            _cond(name, ("starts_with", "contains"), _substrings(spec.pool)),
        ],
        FieldType.REF: lambda: [
            _cond(name, ("eq", "ne"), st.sampled_from(spec.pool)),
            _cond(name, ("in", "not_in"), _tuples(st.sampled_from(spec.pool))),
        ],
        FieldType.SET: lambda: [
            _cond(name, ("has", "not_has"), st.sampled_from(spec.pool)),
            _cond(name, ("has_any", "has_all", "has_none"), _tuples(st.sampled_from(spec.pool), 3)),
        ],
        FieldType.TEXT: lambda: [
            _cond(name, ("eq", "ne"), _values(spec.pool, True)),
            _cond(name, ("contains", "starts_with", "ends_with"), _substrings(spec.pool)),
        ],
        FieldType.INT: lambda: [
            _cond(name, ("eq", "ne", "gt", "gte", "lt", "lte"), _ints(spec.pool)),
            _cond(name, ("between",), _pairs(_ints(spec.pool))),
        ],
        FieldType.TIME: lambda: [
            _cond(name, ("eq", "ne", "gt", "gte", "lt", "lte"), st.sampled_from(spec.pool)),
            _cond(name, ("between",), _pairs(st.sampled_from(spec.pool))),
            _cond(name, ("within_last", "older_than"), st.sampled_from(DURATIONS)),
        ],
    }
    if t == _BOOL:
        return _cond(name, ("eq",), st.booleans())
    return st.one_of([*builders[t](), exists])


def _ints(pool: tuple[int, ...]) -> st.SearchStrategy[int]:
    """Pool values, and any int just around them."""
    return st.sampled_from(pool) | st.integers(min(pool) - 1, max(pool) + 1)


def conditions() -> st.SearchStrategy[Rule]:
    """One valid condition over any field of RULE_FIELDS, with any operator of its type."""
    return st.one_of([_field_conditions(n, s) for n, s in RULE_FIELDS.items()])


def presence_rules() -> list[Rule]:
    """`exists` of every field (`eq true` for bools): cheap checks that every change landed."""
    return [
        Condition(name, "eq", True) if spec.type == _BOOL else Condition(name, "exists")
        for name, spec in RULE_FIELDS.items()
    ]


def rules(max_leaves: int = 10) -> st.SearchStrategy[Rule]:
    """Valid rule trees: conditions nested in all / any / not, empty groups included."""
    base = conditions() | st.sampled_from((AllOf(()), AnyOf(())))

    def extend(children: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
        groups = st.lists(children, max_size=4).map(tuple)
        return st.one_of(groups.map(AllOf), groups.map(AnyOf), children.map(Not))

    return st.recursive(base, extend, max_leaves=max_leaves)


# ---------------------------------------------------------------- serialisation
def to_jsonl(records: Iterable[Mapping[str, Any]]) -> bytes:
    """JSON Lines bytes, one record a line."""
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _csv_cells(record: Mapping[str, Any]) -> dict[str, str]:
    cells: dict[str, str] = {}
    for key, val in record.items():
        if isinstance(val, Mapping):
            for sub, subval in val.items():
                cells[f"{key}.{sub}"] = _csv_cell(subval)
        else:
            cells[key] = _csv_cell(val)
    return cells


def _csv_cell(val: Any) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, list):
        return ";".join(val)
    return str(val)


def to_csv(records: Iterable[Mapping[str, Any]]) -> bytes:
    """CSV bytes with a header row: `id` first, then every column any record has, sorted.

    Maps become dotted columns (`fit_score.crm`, `custom.plan`), sets are `;`-separated,
    bools `true` / `false`, and a missing value is an empty cell.
    """
    rows = [_csv_cells(r) for r in records]
    columns = ["id", *sorted({c for row in rows for c in row} - {"id"})]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


# ---------------------------------------------------------------- deals, campaigns, events
# Times straddle UTC day boundaries: for every day offset k, the midnight k days before
# `now`'s day and the second before it (23:59:59), so each window edge is hit from both
# sides; queries run at noon (NOW), exactly at midnight and at 23:59:59.
TODAY = NOW // _DAY
MIDNIGHT = TODAY * _DAY
QUERY_NOWS = (NOW, MIDNIGHT, MIDNIGHT - 1, MIDNIGHT + _DAY - 1)
"""`now` of activity queries: noon, midnight, the second before it, and 23:59:59."""

_EDGE_DAYS = (-1, 0, 1, 2, 6, 7, 13, 14, 29, 30, 31, 364, 365)
EVENT_TIMES: tuple[str, ...] = (
    *(_iso(MIDNIGHT - k * _DAY) for k in _EDGE_DAYS),
    *(_iso(MIDNIGHT - k * _DAY - 1) for k in _EDGE_DAYS),
    _iso(NOW), _iso(NOW + 1), _iso(NOW - 1), _iso(NOW - 3 * _DAY),
    "2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z",
    "2026-03-02",  # a date: its midnight UTC
    "2026-03-02T01:00:00+02:00",  # = 2026-03-01T23:00:00Z
    "2026-03-14T23:59:59.900Z",  # stored to the second: still 2026-03-14
)
EVENT_TYPES = (
    "email_opened", "email_clicked", "activity", "purchase", "webinar_attended",
    "Email_Opened",  # a custom type: types are exact strings
)
RULE_EVENT_TYPES = (*EVENT_TYPES, "support_ticket", "never_seen")

CAMPAIGN_IDS = ("m1", "m2", "m3", "m4", "m5", "m6", "9", "10")
CAMPAIGN_TIMES: tuple[str | None, ...] = (
    _iso(NOW - 2 * _DAY), _iso(NOW - 2 * _DAY),  # drawn twice: ties are common
    _iso(NOW - 40 * _DAY), _iso(NOW), _iso(NOW + 1), _iso(MIDNIGHT), _iso(MIDNIGHT - 1),
    _iso(MIDNIGHT + _DAY), "2026-03-15", "2026-01-10", None,
)
EVENT_CAMPAIGNS = (*CAMPAIGN_IDS, "m-ghost", None, None, None)  # m-ghost is no campaign

GHOST_CONTACTS = ("ghost1", "ghost2")
"""Contact ids that deals and events name but the initial org never loads."""
OWNER_CONTACTS = (*CONTACT_IDS[:12], *NUMERIC_IDS[:3], *GHOST_CONTACTS)
DEAL_IDS = tuple(f"d{i}" for i in range(25))
DEAL_STAGES = ("appointment", "qualified", "proposal", "negotiation", "closed_won",
               "closed_lost", "Closed_Won")
PIPELINES = ("sales", "Sales", "renewals")
DEAL_SPECS: dict[str, FieldSpec] = {
    "contact_id": FieldSpec(FieldType.REF, OWNER_CONTACTS, st.sampled_from(OWNER_CONTACTS)),
    "stage": _kw(DEAL_STAGES),
    "value": _int(
        st.sampled_from((-5, 0, 1, 999, 1000, 250_000, 3_000_000_000)),
        (-5, 0, 1000, 250_000, 3_000_000_000),
    ),
    "owner": _kw(OWNERS),
    "pipeline": _kw(PIPELINES),
    "created_at": _TIME,
    "close_date": _TIME,
}
"""The deal fields (SPEC.md) with the values records and `where` conditions draw from."""

WINDOW_LASTS = ("1d", "2d", "7d", "1w", "2w", "30d", "31d", "365d")
WINDOW_TIMES = (
    "now", "-1s", "-12h", "-1d", "-7d", "-30d", "+1d", "2026-03-01", "2026-03-14",
    "2026-03-15", "2026-03-16", "2026-03-01T23:59:59Z", "2026-03-14T00:00:00Z",
    "2026-03-15T12:00:00", "2025-03-15", "2026-02-13",
)


@dataclass
class ActivityOrg(Org):
    """An org with deals (by id), campaigns (by id) and events (in arrival order)."""

    deals: dict[str, Record] = field(default_factory=dict)
    campaigns: dict[str, Record] = field(default_factory=dict)
    events: list[Record] = field(default_factory=list)

    def copy(self) -> ActivityOrg:
        base = super().copy()
        return ActivityOrg(
            base.contacts,
            base.companies,
            {k: dict(v) for k, v in self.deals.items()},
            {k: dict(v) for k, v in self.campaigns.items()},
            [dict(e) for e in self.events],
        )


def deal_bodies() -> st.SearchStrategy[Record]:
    """A deal record without its id; usually with an owner contact (maybe one not loaded)."""
    optional = {k: s.record for k, s in DEAL_SPECS.items() if s.record is not None}
    owner = optional.pop("contact_id")
    with_owner = st.fixed_dictionaries({"contact_id": owner}, optional=optional)
    without = st.fixed_dictionaries({}, optional=optional)
    return st.one_of(with_owner, with_owner, with_owner, without)


def campaign_records(cid: str) -> st.SearchStrategy[Record]:
    def build(name: str, sent_at: str | None) -> Record:
        record: Record = {"id": cid, "name": name}
        if sent_at is not None:
            record["sent_at"] = sent_at
        return record

    return st.builds(build, st.sampled_from(("Spring sale", "Newsletter", "Launch")),
                     st.sampled_from(CAMPAIGN_TIMES))


def event_records(
    contact_ids: Iterable[str], campaign_ids: Iterable[str] = CAMPAIGN_IDS
) -> st.SearchStrategy[Record]:
    """One event: mostly one of a few busy loaded contacts (so counts reach 2, 3, ...),
    else any id (maybe not loaded); a type, a time, and maybe one of the campaigns (or
    an id that is no campaign)."""
    loaded = sorted(contact_ids)
    who = st.sampled_from(OWNER_CONTACTS)
    if loaded:
        busy = st.sampled_from(loaded[:6])
        who = st.one_of(busy, busy, busy, st.sampled_from(loaded), who)
    campaigns = tuple(campaign_ids)
    campaign: st.SearchStrategy[str | None] = st.sampled_from(EVENT_CAMPAIGNS)
    if campaigns:
        campaign = st.one_of(st.sampled_from(campaigns), st.sampled_from(campaigns), campaign)

    def build(cid: str, kind: str, at: str, campaign: str | None) -> Record:
        event: Record = {"contact_id": cid, "type": kind, "at": at}
        if campaign is not None:
            event["campaign_id"] = campaign
        return event

    return st.builds(build, who, st.sampled_from(_WEIGHTED_TYPES), st.sampled_from(EVENT_TIMES),
                     campaign)


_WEIGHTED_TYPES = (*EVENT_TYPES, "email_opened", "email_opened", "activity", "activity")


@st.composite
def activity_orgs(draw: st.DrawFn, max_contacts: int = 30) -> ActivityOrg:
    """A small org plus 0..20 deals, 0..8 campaigns and 0..120 events."""
    base = draw(orgs(max_contacts=max_contacts, max_companies=4))
    owners = sorted(base.contacts) + list(GHOST_CONTACTS)
    deals: dict[str, Record] = {}
    n_deals = draw(st.integers(0, 20))  # sizes drawn first, so that busy orgs are common
    for did in draw(st.lists(st.sampled_from(DEAL_IDS), unique=True, min_size=n_deals,
                             max_size=n_deals)):
        body = draw(deal_bodies())
        if "contact_id" in body and draw(st.booleans()):
            body["contact_id"] = draw(st.sampled_from(owners))  # mostly loaded owners
        deals[did] = {"id": did, **body}
    campaigns = {
        cid: draw(campaign_records(cid))
        for cid in draw(st.lists(st.sampled_from(CAMPAIGN_IDS), unique=True,
                                 min_size=draw(st.integers(0, 8)), max_size=8))
    }
    n_events = draw(st.integers(0, 120))
    events = draw(st.lists(event_records(base.contacts, campaigns), min_size=n_events,
                           max_size=n_events))
    return ActivityOrg(base.contacts, base.companies, deals, campaigns, events)


@dataclass
class ActivityBatch:
    """A second ingest: file lines per kind, then ordered records (as the server applies)."""

    lines: dict[str, list[Record]] = field(default_factory=dict)
    records: list[tuple[str, str, Record]] = field(default_factory=list)


ACTIVITY_APPLY_ORDER = ("campaigns", "contacts", "deals", "events")


def apply_activity_batch(org: ActivityOrg, batch: ActivityBatch) -> ActivityOrg:
    """The org after `batch`: per kind (campaigns, contacts, deals, events) lines, then records."""
    after = org.copy()
    models: dict[str, dict[str, Record]] = {
        "campaigns": after.campaigns, "contacts": after.contacts, "deals": after.deals,
    }
    for kind in ACTIVITY_APPLY_ORDER:
        for line in batch.lines.get(kind, []):
            if kind == "events":
                after.events.append(dict(line))
            else:
                apply_record_change(models[kind], "upsert", line)
        for record_kind, op, record in batch.records:
            if record_kind != kind:
                continue
            if kind == "events":
                after.events.append(dict(record))
            else:
                apply_record_change(models[kind], op, record)
    return after


@st.composite
def activity_batches(draw: st.DrawFn, org: ActivityOrg) -> ActivityBatch:
    """Deals moved to other contacts (or to none), patched and deleted, new deals, contacts
    deleted or loaded (ghosts that already own deals and events), new events, new
    campaigns and campaigns re-timed. File lines and records never share an id."""
    batch = ActivityBatch()
    contacts = dict(org.contacts)
    # contacts: delete some live ones (records), load ghosts / re-create (file lines)
    line_ids: set[str] = set()
    for _ in range(draw(st.integers(0, 3))):
        cid = draw(st.sampled_from((*GHOST_CONTACTS, *CONTACT_IDS[:12])))
        line = {"id": cid, **draw(contact_bodies())}
        batch.lines.setdefault("contacts", []).append(line)
        line_ids.add(cid)
        contacts[cid] = line
    deletable = sorted(set(contacts) - line_ids)
    if deletable:
        for cid in draw(st.lists(st.sampled_from(deletable), unique=True, max_size=4)):
            batch.records.append(("contacts", "delete", {"id": cid}))
    # deals
    deals = {k: dict(v) for k, v in org.deals.items()}
    owners = sorted(contacts) + list(GHOST_CONTACTS)
    deal_line_ids: set[str] = set()
    for _ in range(draw(st.integers(0, 4))):
        did = draw(st.sampled_from(DEAL_IDS))
        if did in deals and draw(st.booleans()):
            line: Record = {"id": did, "deleted": True}
        else:
            line = {"id": did, **draw(deal_bodies())}
        batch.lines.setdefault("deals", []).append(line)
        deal_line_ids.add(did)
        apply_record_change(deals, "upsert", line)
    for _ in range(draw(st.integers(0, 8))):
        live = sorted(set(deals) - deal_line_ids)
        if not live:
            break
        did = draw(st.sampled_from(live))
        op = draw(st.sampled_from(("patch", "patch", "patch", "delete")))
        if op == "delete":
            record: Record = {"id": did}
        else:
            scalars = {k: s.record for k, s in DEAL_SPECS.items() if s.record is not None}
            scalars["contact_id"] = st.sampled_from(owners)
            body = draw(st.fixed_dictionaries({}, optional=_nullable(scalars)))
            if draw(st.booleans()):
                body["contact_id"] = draw(st.sampled_from(owners))  # a reassignment
            record = {"id": did, **body}
        batch.records.append(("deals", op, record))
        apply_record_change(deals, op, record)
    # campaigns: new ones (file lines) and re-timed ones (patch records)
    new_ids = [c for c in CAMPAIGN_IDS if c not in org.campaigns]
    if new_ids:
        for cid in draw(st.lists(st.sampled_from(new_ids), unique=True, max_size=2)):
            batch.lines.setdefault("campaigns", []).append(draw(campaign_records(cid)))
    if org.campaigns:
        for cid in draw(st.lists(st.sampled_from(sorted(org.campaigns)), unique=True, max_size=2)):
            sent_at = draw(st.sampled_from(CAMPAIGN_TIMES))
            batch.records.append(("campaigns", "patch", {"id": cid, "sent_at": sent_at}))
    # events: appended by file lines and by records
    known = sorted(org.campaigns)
    lines = draw(st.lists(event_records(contacts, known), max_size=20))
    if lines:
        batch.lines["events"] = lines
    for event in draw(st.lists(event_records(contacts, known), max_size=5)):
        batch.records.append(("events", "upsert", event))
    return batch


# -- activity rules
def deal_conditions() -> st.SearchStrategy[Rule]:
    """One valid condition over a deal field."""
    return st.one_of([_field_conditions(n, s) for n, s in DEAL_SPECS.items()])


def deal_filters(max_leaves: int = 4) -> st.SearchStrategy[Rule]:
    """`where` rules: deal conditions under all / any / not (empty groups included)."""
    base = deal_conditions() | st.sampled_from((AllOf(()), AnyOf(())))

    def extend(children: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
        groups = st.lists(children, max_size=3).map(tuple)
        return st.one_of(groups.map(AllOf), groups.map(AnyOf), children.map(Not))

    return st.recursive(base, extend, max_leaves=max_leaves)


_N = st.integers(0, 4)


def counts() -> st.SearchStrategy[Cmp | None]:
    """No count, one key (eq 0 and lt included), or a range of a lower and an upper key."""
    one = st.sampled_from(("gte", "gt", "lte", "lt", "eq")).flatmap(
        lambda key: _N.map(lambda n: Cmp(**{key: n}))
    )
    two = st.builds(
        lambda lo_key, lo, hi_key, hi: Cmp(**{lo_key: lo, hi_key: hi}),
        st.sampled_from(("gt", "gte")), _N, st.sampled_from(("lt", "lte")), _N,
    )
    return st.one_of(st.none(), one, two, st.just(Cmp(eq=0)))


def campaign_selectors(campaign_ids: tuple[str, ...]) -> st.SearchStrategy[CampaignSelector | None]:
    """No selector, the last N (any / all), and when there are campaigns an id or an `in`
    list of known ids (duplicates allowed)."""
    last = st.builds(CampaignLast, st.integers(1, 5), st.sampled_from(("any", "all")))
    options: list[st.SearchStrategy[Any]] = [st.none(), last]
    if campaign_ids:
        known = st.sampled_from(campaign_ids)
        lists = st.lists(known, min_size=1, max_size=3).map(tuple)
        twice = known.map(lambda cid: (cid, cid))  # a repeated id: its events count once
        options += [known, lists.map(CampaignIn), twice.map(CampaignIn)]
    return st.one_of(options)


def windows() -> st.SearchStrategy[Window | None]:
    times = st.sampled_from(WINDOW_TIMES)
    return st.one_of(
        st.none(),
        st.sampled_from(WINDOW_LASTS).map(WindowLast),
        times.map(WindowSince),
        st.builds(WindowBetween, times, times),
    )


def has_deals_rules() -> st.SearchStrategy[Rule]:
    return st.builds(HasDeals, st.none() | deal_filters(), counts())


def event_rules(campaign_ids: tuple[str, ...]) -> st.SearchStrategy[Rule]:
    common = st.sampled_from(("email_opened", "activity"))  # the types events use most
    return st.builds(
        EventRule,
        st.one_of(common, common, st.sampled_from(RULE_EVENT_TYPES)),
        campaign_selectors(campaign_ids),
        windows(),
        counts(),
    )


def activity_rules(campaign_ids: tuple[str, ...], max_leaves: int = 6) -> st.SearchStrategy[Rule]:
    """`has deals` and `event` rules mixed with contact conditions under all / any / not."""
    leaves = st.one_of(has_deals_rules(), event_rules(campaign_ids), conditions())

    def extend(children: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
        groups = st.lists(children, max_size=3).map(tuple)
        return st.one_of(groups.map(AllOf), groups.map(AnyOf), children.map(Not))

    return st.recursive(leaves, extend, max_leaves=max_leaves)
