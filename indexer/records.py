"""Record normalisation: a raw ingest record becomes (op, external id, flat typed fields).

Flat fields use the rule names (`fit_score.crm`, `custom.plan`); values are typed:
text as given, keywords normalised (country upper, domains lower), sets as sorted
tuples of distinct strings, ints, times as epoch seconds, bools. An empty string or
empty set is "no value". `email_domain` is derived from `email`. Raises ValueError
with a message naming the field; the caller adds the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal

from bitseg.errors import InvalidArgument
from bitseg.schema import (
    COMPANY_FIELDS,
    DERIVED_FIELDS,
    LOWER_CASE_FIELDS,
    MAX_KEYWORD_BYTES,
    UPPER_CASE_FIELDS,
    FieldType,
    OrgSchema,
    normalise_keyword,
)
from bitseg.timeutil import fast_record_time, record_time

Op = Literal["upsert", "patch", "delete"]
Fields = dict[str, object]

INT_LIMIT = 1 << 62
_NESTED = ("fit_score", "custom")
_META_KEYS = frozenset({"id", "op", "deleted"})


def record_id(raw: Mapping[str, object], key: str = "id") -> str:
    value = raw.get(key)
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{key}: missing" if value is None else f"{key}: expected a string")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{key}: expected a string or a non-negative integer, got {value}")
        return str(value)
    if (
        not isinstance(value, str)
        or not value
        or _CONTROL.search(value) is not None
        or len(value.encode()) > 400
    ):
        raise ValueError(
            f"{key}: expected a non-empty string of at most 400 bytes without control "
            f"characters, got {_show(value)}"
        )
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def record_op(raw: Mapping[str, object], default: Op = "upsert") -> Op:
    deleted = raw.get("deleted", False)
    if not isinstance(deleted, bool):
        raise ValueError(f"deleted: expected true or false, got {deleted!r}")
    op = raw.get("op", "delete" if deleted else default)
    if op not in ("upsert", "patch", "delete"):
        raise ValueError(f'op: expected "upsert", "patch" or "delete", got {op!r}')
    if deleted and op != "delete":
        raise ValueError(f'"deleted": true contradicts op "{op}"')
    return op  # type: ignore[return-value]


def flatten(raw: Mapping[str, object]) -> dict[str, object]:
    """Nested `fit_score` / `custom` objects become dotted keys; meta keys are dropped."""
    flat: dict[str, object] = {}
    for key, value in raw.items():
        if key in _META_KEYS:
            continue
        if key in _NESTED and value is None:
            flat[key + ".*"] = None  # a patch removing the whole map
            continue
        if key in _NESTED and isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
            continue
        flat[key] = value
    return flat


def contact_type(schema: OrgSchema) -> Callable[[str], FieldType | None]:
    def type_of(name: str) -> FieldType | None:
        if name.startswith("company."):
            return None  # company fields come from the company record, not the contact
        return schema.field_type(name)

    return type_of


def company_type(name: str) -> FieldType | None:
    return COMPANY_FIELDS.get(name)


class Coercers:
    """Per-field value coercers for one entity kind, built once per field and reused."""

    def __init__(self, type_of: Callable[[str], FieldType | None], rule_prefix: str = "") -> None:
        self.type_of = type_of
        self.rule_prefix = rule_prefix  # "company." for company records: "company.domain"
        self._by_name: dict[str, Callable[[object], object]] = {}
        self.top_level: dict[str, Callable[[object], object]] = {}  # see upsert_fields

    def get(self, name: str) -> Callable[[object], object]:
        fn = self._by_name.get(name)
        if fn is None:
            kind = self.type_of(name)
            if kind is None or name in DERIVED_FIELDS:
                why = "is derived from email" if name in DERIVED_FIELDS else "is not a field"
                raise ValueError(f'unknown field "{name}": {name} {why}')
            fn = _fast_coercer(name, kind, self.rule_prefix)
            self._by_name[name] = fn
        return fn


def _fast_coercer(name: str, kind: FieldType, rule_prefix: str) -> Callable[[object], object]:
    """A coercer with a fast path for the common, already well-typed value."""

    def slow(value: object) -> object:
        return coerce(name, kind, value, rule_prefix)

    if kind == FieldType.TEXT:
        return lambda v: (v or None) if type(v) is str and "\x00" not in v else slow(v)
    if kind == FieldType.INT:
        return lambda v: v if type(v) is int and -INT_LIMIT < v < INT_LIMIT else slow(v)
    if kind == FieldType.BOOL:
        return lambda v: v if type(v) is bool else slow(v)
    if kind == FieldType.TIME:

        def time_value(v: object) -> object:
            try:
                return fast_record_time(v)
            except InvalidArgument:
                return slow(v)

        return time_value
    if kind in (FieldType.KEYWORD, FieldType.REF):
        # What `coerce` gives a clean short string: `normalise_keyword` of it.
        rule_name = rule_prefix + name
        case = (
            str.upper if rule_name in UPPER_CASE_FIELDS
            else str.lower if rule_name in LOWER_CASE_FIELDS
            else None
        )  # fmt: skip
        if case is None:
            return lambda v: (
                (v or None)
                if type(v) is str
                and v == v.strip()
                and "\x00" not in v
                and len(v) <= MAX_KEYWORD_BYTES // 4
                else slow(v)
            )
        return lambda v: (
            (case(v) or None)  # type: ignore[misc]
            if type(v) is str
            and v == v.strip()
            and "\x00" not in v
            and v.isascii()  # ASCII case mapping keeps the length
            and len(v) <= MAX_KEYWORD_BYTES
            else slow(v)
        )
    if kind == FieldType.SET:
        limit = MAX_KEYWORD_BYTES // 4

        def set_value(v: object) -> object:
            if type(v) is list and all(
                type(x) is str and x and "\x00" not in x and len(x) <= limit for x in v
            ):
                return tuple(sorted(set(v))) or None
            return slow(v)

        return set_value
    return slow


def normalise_fields(flat: Mapping[str, object], coercers: Coercers) -> Fields:
    """Typed, normalised fields; a None value (from a patch) is kept as None = remove."""
    fields: Fields = {}
    get = coercers.get
    for name, value in flat.items():
        if value is None and (name.endswith(".*") or coercers.type_of(name) is not None):
            fields[name] = None
            continue
        fields[name] = None if value is None else get(name)(value)
    return fields


def upsert_fields(raw: Mapping[str, object], coercers: Coercers) -> Fields | None:
    """What `normalise_fields(flatten(raw))` gives an upsert, without its None values (or
    its error), in one pass over the record (the bulk-load hot path); None when a
    top-level name holds a dot: it could meet a nested field's name, which moves values
    and errors around, and the two-step path decides those."""
    try:
        return _upsert_fields(raw, coercers)
    except ValueError:
        if any("." in key for key in raw):
            return None
        raise


def _upsert_fields(raw: Mapping[str, object], coercers: Coercers) -> Fields | None:
    fields: Fields = {}
    top = coercers.top_level  # coercers of the undotted names met before
    coercer_of = coercers._by_name.get
    for key, value in raw.items():
        coerce = top.get(key)
        if coerce is None:
            if "." in key:
                return None
            if value is None or key in _META_KEYS:
                continue  # null is no value: an upsert drops it, whatever the name
            if key in _NESTED and isinstance(value, dict):
                for sub, sub_value in value.items():
                    if sub_value is not None:
                        name = f"{key}.{sub}"
                        normal = (coercer_of(name) or coercers.get(name))(sub_value)
                        if normal is not None:
                            fields[name] = normal
                continue
            coerce = top[key] = coercers.get(key)  # a field met first, or ValueError
        if value is not None:
            normal = coerce(value)
            if normal is not None:
                fields[key] = normal
    return fields


def coerce(name: str, kind: FieldType, value: object, rule_prefix: str = "") -> object:
    """One field value, typed and normalised; None for "no value"."""
    if kind in (FieldType.TEXT, FieldType.KEYWORD, FieldType.REF):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, got {_show(value)}")
        if "\x00" in value:
            raise ValueError(f"{name}: contains a NUL character")
        if kind != FieldType.TEXT:
            value = normalise_keyword(rule_prefix + name, value.strip())
            if len(value.encode()) > MAX_KEYWORD_BYTES:
                raise ValueError(f"{name}: keyword values are at most {MAX_KEYWORD_BYTES} bytes")
        return value or None
    if kind == FieldType.SET:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name}: expected a list of strings, got {_show(value)}")
        items = sorted({v for v in value if v})
        for item in items:
            if "\x00" in item or len(item.encode()) > MAX_KEYWORD_BYTES:
                raise ValueError(f"{name}: values are at most {MAX_KEYWORD_BYTES} bytes, no NUL")
        return tuple(items) or None
    if kind == FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}: expected an integer, got {_show(value)}")
        if not -INT_LIMIT < value < INT_LIMIT:
            raise ValueError(f"{name}: integer out of range (|value| < 2^62)")
        return value
    if kind == FieldType.TIME:
        try:
            return record_time(value)
        except InvalidArgument as exc:
            raise ValueError(f"{name}: {exc.message}") from None
    if kind == FieldType.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{name}: expected true or false, got {_show(value)}")
        return value
    raise ValueError(f"{name}: unsupported type {kind}")


_EVENT_KEYS = frozenset({"contact_id", "type", "at", "campaign_id", "id"})


def event_fields(raw: Mapping[str, object]) -> tuple[str, str, int, str | None]:
    """(contact id, type, epoch seconds, campaign id or None) of one event record."""
    cid, event_type, at, campaign = (
        raw.get("contact_id"),
        raw.get("type"),
        raw.get("at"),
        raw.get("campaign_id"),
    )
    if (  # the common, well-formed event takes this path (tens of millions in a bulk load)
        type(cid) is str
        and 0 < len(cid) <= 100
        and cid.isprintable()
        and type(event_type) is str
        and 0 < len(event_type) <= 32
        and event_type.isprintable()
        and event_type.strip() == event_type
        and (campaign is None or (type(campaign) is str and _plain_keyword(campaign)))
        and raw.keys() <= _EVENT_KEYS
    ):
        try:
            return cid, event_type, fast_record_time(at), campaign  # type: ignore[return-value]
        except InvalidArgument:
            pass
    return _checked_event(raw)


def _plain_keyword(value: str) -> bool:
    return 0 < len(value) <= 64 and value.isprintable() and value.strip() == value


def _checked_event(raw: Mapping[str, object]) -> tuple[str, str, int, str | None]:
    unknown = sorted(set(raw) - _EVENT_KEYS)
    if unknown:
        raise ValueError(
            f'unknown field "{unknown[0]}" (events have contact_id, type, at, campaign_id)'
        )
    contact_id = record_id(raw, "contact_id")
    event_type = raw.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise ValueError(f"type: expected a non-empty string, got {_show(event_type)}")
    if not event_type.isprintable() or len(event_type.encode()) > 128:
        raise ValueError("type: at most 128 bytes, no control characters")
    if raw.get("at") is None:
        raise ValueError("at: missing")
    at = coerce("at", FieldType.TIME, raw["at"])
    campaign = raw.get("campaign_id")
    if campaign is not None:
        campaign = record_id(raw, "campaign_id").strip()
    return contact_id, event_type.strip(), int(at), campaign  # type: ignore[arg-type,return-value]


def derive_contact(fields: Fields) -> Fields:
    """Add the derived fields of a contact (email_domain) and drop empty values."""
    out = {k: v for k, v in fields.items() if v is not None and v is not False}
    email = out.get("email")
    if isinstance(email, str) and "@" in email:
        domain = email.rsplit("@", 1)[1].strip().lower()
        if domain:
            out["email_domain"] = domain
    return out


def clean(fields: Fields) -> Fields:
    return {k: v for k, v in fields.items() if v is not None and v is not False}


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "an object"
    return repr(value)
