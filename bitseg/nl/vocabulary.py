"""An org's own words, read from its index: what natural-language mode can recognise.

`read_vocabulary(view, segments)` gathers, at one snapshot, the distinct values of the
org's keyword and set fields (tags, countries, languages, lifecycle stages, sources,
owners, company industries and countries, custom fields), deal stages, owners and
pipelines, campaigns (id, name, sent time; newest last), segment names, event types and
fit-score products. The result is plain JSON-able data (`Service.vocabulary` returns it
and an external model receives it); `Vocabulary.from_json` gives the typed view the
translator uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bitseg.schema import COMPANY_FIELDS, CONTACT_FIELDS, DEAL_FIELDS, EVENT_TYPES, FieldType
from bitseg.store import keys
from bitseg.store.readview import ReadView
from bitseg.timeutil import format_time

MAX_VALUES = 5_000  # per field: more distinct values than this are not offered to NL mode
MAX_CAMPAIGNS = 2_000  # the most recent ones
_SKIPPED = frozenset({"email_domain", "company_id"})  # one value per contact or company
_EVENT_PREFIX = b"c\x00$ev\x1f"


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    sent_at: str | None


@dataclass(frozen=True)
class Vocabulary:
    """The typed view of `read_vocabulary`'s data."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    deal_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    campaigns: tuple[Campaign, ...] = ()
    segments: tuple[str, ...] = ()  # names
    segment_ids: tuple[str, ...] = ()
    event_types: tuple[str, ...] = EVENT_TYPES
    custom_fields: Mapping[str, str] = field(default_factory=dict)
    fit_scores: tuple[str, ...] = ()

    def of(self, field_name: str) -> tuple[str, ...]:
        return self.values.get(field_name, ())

    def has_segment(self, segment: str) -> bool:
        names = {s.casefold() for s in self.segments}
        return segment in self.segment_ids or segment.casefold() in names

    def has_campaign(self, campaign: str) -> bool:
        """False only when the campaign is surely unknown (the list is complete)."""
        if len(self.campaigns) >= MAX_CAMPAIGNS:
            return True
        return any(c.id == campaign for c in self.campaigns)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Vocabulary:
        return cls(
            values={k: tuple(v) for k, v in (data.get("values") or {}).items()},
            deal_values={k: tuple(v) for k, v in (data.get("deal_values") or {}).items()},
            campaigns=tuple(
                Campaign(str(c["id"]), str(c.get("name") or ""), c.get("sent_at"))
                for c in data.get("campaigns") or ()
            ),
            segments=tuple(s["name"] for s in data.get("segments") or ()),
            segment_ids=tuple(s["id"] for s in data.get("segments") or ()),
            event_types=tuple(data.get("event_types") or EVENT_TYPES),
            custom_fields=dict(data.get("custom_fields") or {}),
            fit_scores=tuple(data.get("fit_scores") or ()),
        )


def read_vocabulary(view: ReadView, segments: Iterable[Any] = ()) -> dict[str, Any]:
    """The org's vocabulary at `view`'s snapshot; `segments` are `SegmentView`s."""
    schema = view.schema
    values: dict[str, list[str]] = {}
    for name in _value_fields(schema.custom):
        found = view.vocabulary(keys.CONTACT, name, keys.VALUE)
        if found and len(found) <= MAX_VALUES:
            values[name] = sorted(found)
    deal_values = {}
    for name, ftype in DEAL_FIELDS.items():
        if ftype is FieldType.KEYWORD:
            found = view.vocabulary(keys.DEAL, name, keys.VALUE)
            if found and len(found) <= MAX_VALUES:
                deal_values[name] = sorted(found)
    return {
        "values": values,
        "deal_values": deal_values,
        "campaigns": _campaigns(view),
        "segments": [{"id": s.id, "name": s.name} for s in segments],
        "event_types": sorted(set(EVENT_TYPES) | set(_event_types(view))),
        "custom_fields": {k: str(v) for k, v in sorted(schema.custom.items())},
        "fit_scores": sorted(view.field_suffixes(keys.CONTACT, "fit_score.")),
    }


def _value_fields(custom: Mapping[str, FieldType]) -> list[str]:
    names = [
        n for n, t in CONTACT_FIELDS.items()
        if t in (FieldType.KEYWORD, FieldType.SET) and n not in _SKIPPED
    ]  # fmt: skip
    names += [f"company.{n}" for n, t in COMPANY_FIELDS.items() if t is FieldType.KEYWORD]
    names.remove("company.domain")
    names += [f"custom.{n}" for n, t in custom.items() if t in (FieldType.KEYWORD, FieldType.SET)]
    return names


def _campaigns(view: ReadView) -> list[dict[str, Any]]:
    out = []
    for cid, sent_at in view.campaigns()[-MAX_CAMPAIGNS:]:
        col = view.column_of(keys.CAMPAIGN, cid)
        record = view.record(keys.CAMPAIGN, col) if col is not None else None
        name = record.get("name") if record else None
        out.append({
            "id": cid,
            "name": name if isinstance(name, str) else "",
            "sent_at": format_time(sent_at) if sent_at is not None else None,
        })  # fmt: skip
    return out


def _event_types(view: ReadView) -> Sequence[str]:
    """Every event type with a count field, jumping from one type to the next."""
    found: list[str] = []
    cursor = view.txn.cursor(db=view.store.db["bm"])
    ok = cursor.set_range(_EVENT_PREFIX)
    while ok:
        key = bytes(cursor.key())
        if not key.startswith(_EVENT_PREFIX):
            break
        rest = key[len(_EVENT_PREFIX) :]
        name = rest.split(b"\x1f", 1)[0]
        found.append(name.decode())
        ok = cursor.set_range(_EVENT_PREFIX + name + b"\x20")  # past this type's fields
    return found
