"""The segment catalog of one org: segment records in the org's "seg" LMDB database.

Keys of the "seg" database:
  b"s" + id                          the record, as JSON (see `SegmentRecord`)
  b"n" + casefold(name)              -> id: names are unique per org, case-insensitively
  b"r" + target + NUL + referrer     -> b"": `referrer`'s rule references `target`
A stored rule names the segments it references by id (never by name), so renaming a
segment changes no other segment's meaning. `Catalog` works inside a transaction the
caller opened (`OrgStore.read()` / `OrgStore.write()`); writes need a write one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import lmdb
import orjson

from bitseg.errors import AlreadyExists, InvalidArgument, NotFound
from bitseg.segments.layout import is_segment_id
from bitseg.store import OrgStore

SegmentType = Literal["dynamic", "static"]
DYNAMIC: SegmentType = "dynamic"
STATIC: SegmentType = "static"

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 4000
_MAX_KEY_BYTES = 500  # LMDB's key limit is 511

_RECORD = b"s"
_NAME = b"n"
_REF = b"r"


@dataclass(frozen=True)
class SegmentRecord:
    """One segment as stored. `rule` is the JSON form (dynamic only), references by id."""

    id: str
    name: str
    description: str
    type: SegmentType
    rule: dict[str, Any] | None
    archived: bool
    created_at: str
    updated_at: str
    refs: tuple[str, ...] = ()  # the ids its rule references, sorted

    def to_json(self) -> bytes:
        data = asdict(self)
        data["refs"] = list(self.refs)
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, raw: bytes) -> SegmentRecord:
        data = orjson.loads(raw)
        data["refs"] = tuple(data.get("refs") or ())
        return cls(**data)

    def with_(self, **changes: Any) -> SegmentRecord:
        return replace(self, **changes)


def clean_name(name: object) -> str:
    """A segment name as stored: trimmed, non-empty, printable, not shaped like an id."""
    if not isinstance(name, str):
        raise InvalidArgument(f"name: expected a string, got {type(name).__name__}")
    text = name.strip()
    if not text:
        raise InvalidArgument("name: a segment needs a non-empty name")
    if len(text) > MAX_NAME_CHARS or len(_name_key(text)) > _MAX_KEY_BYTES:
        raise InvalidArgument(f"name: at most {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidArgument(f'name: "{text!r}" contains control characters')
    if is_segment_id(text):
        raise InvalidArgument(f'name: "{text}" has the shape of a segment id; choose another')
    return text


def clean_description(description: object) -> str:
    if not isinstance(description, str):
        raise InvalidArgument("description: expected a string")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidArgument(f"description: at most {MAX_DESCRIPTION_CHARS} characters")
    if "\x00" in description:
        raise InvalidArgument("description: must not contain NUL")
    return description


def _name_key(name: str) -> bytes:
    return _NAME + name.casefold().encode()


def _ref_key(target: str, referrer: str) -> bytes:
    return _REF + target.encode() + b"\x00" + referrer.encode()


class Catalog:
    """The segment records of one org, read and written inside one transaction."""

    def __init__(self, store: OrgStore, txn: lmdb.Transaction) -> None:
        self.txn = txn
        self.db = store.db["seg"]

    # -- reads -----------------------------------------------------------------------------
    def by_id(self, segment_id: str) -> SegmentRecord | None:
        raw = self.txn.get(_RECORD + segment_id.encode(), db=self.db)
        return SegmentRecord.from_json(bytes(raw)) if raw is not None else None

    def by_name(self, name: str) -> SegmentRecord | None:
        key = _name_key(name.strip())
        if len(key) > _MAX_KEY_BYTES:
            return None
        raw = self.txn.get(key, db=self.db)
        return self.by_id(bytes(raw).decode()) if raw is not None else None

    def find(self, ref: str) -> SegmentRecord | None:
        """The segment with id `ref`, else the one named `ref` (case-insensitively)."""
        if not ref or "\x00" in ref:
            return None
        if is_segment_id(ref):
            return self.by_id(ref)
        return self.by_name(ref)

    def get(self, ref: str) -> SegmentRecord:
        """Like `find`, but a missing segment is NotFound."""
        record = self.find(ref)
        if record is None:
            raise NotFound(f'segment "{ref}" does not exist')
        return record

    def all(self, include_archived: bool = False) -> list[SegmentRecord]:
        """Every segment, ordered by name (case-insensitively)."""
        out: list[SegmentRecord] = []
        for _, value in self._scan(_NAME):
            record = self.by_id(bytes(value).decode())
            if record is not None and (include_archived or not record.archived):
                out.append(record)
        return out

    def referrers(self, segment_id: str) -> list[SegmentRecord]:
        """The segments whose rules reference `segment_id`, ordered by name."""
        prefix = _REF + segment_id.encode() + b"\x00"
        found = [self.by_id(key[len(prefix) :].decode()) for key, _ in self._scan(prefix)]
        return sorted((r for r in found if r is not None), key=lambda r: r.name.casefold())

    def _scan(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        cursor = self.txn.cursor(db=self.db)
        if not cursor.set_range(prefix):
            return
        for key, value in cursor.iternext():
            key = bytes(key)
            if not key.startswith(prefix):
                return
            yield key, value

    # -- writes ----------------------------------------------------------------------------
    def put(self, record: SegmentRecord, previous: SegmentRecord | None) -> None:
        """Store `record` (replacing `previous`), keeping the name and reference indexes."""
        new_key = _name_key(record.name)
        if previous is None or _name_key(previous.name) != new_key:
            taken = self.txn.get(new_key, db=self.db)
            if taken is not None and bytes(taken).decode() != record.id:
                other = self.by_id(bytes(taken).decode())
                shown = other.name if other is not None else record.name
                raise AlreadyExists(f'a segment named "{shown}" already exists')
            if previous is not None:
                self.txn.delete(_name_key(previous.name), db=self.db)
            self.txn.put(new_key, record.id.encode(), db=self.db)
        old_refs = set(previous.refs) if previous is not None else set()
        for target in old_refs - set(record.refs):
            self.txn.delete(_ref_key(target, record.id), db=self.db)
        for target in set(record.refs) - old_refs:
            self.txn.put(_ref_key(target, record.id), b"", db=self.db)
        self.txn.put(_RECORD + record.id.encode(), record.to_json(), db=self.db)

    def delete(self, record: SegmentRecord) -> None:
        """Remove the record, its name and its outgoing references."""
        self.txn.delete(_name_key(record.name), db=self.db)
        for target in record.refs:
            self.txn.delete(_ref_key(target, record.id), db=self.db)
        self.txn.delete(_RECORD + record.id.encode(), db=self.db)
