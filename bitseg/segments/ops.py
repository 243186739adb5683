"""Segment operations on one org store; each write is one LMDB write transaction.

`SegmentOps` owns what the operations mean: a dynamic segment's rule is validated
against the org schema at save time, its references are stored by id, and a save
that would close a cycle (directly, through several segments, or by an update) or
make a referrer's expansion too large is refused; a static segment's members change
only through add/remove (FailedPrecondition on a dynamic one); a segment that other
segments reference cannot be deleted (FailedPrecondition naming them).

Write methods must run on the org's one writer thread (an LMDB write transaction is
bound to its thread). They never touch the shared bitmap or schema caches: values
read inside an uncommitted transaction must not be cached under its generation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import lmdb
import orjson

from bitseg.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from bitseg.rules import rule_from_json, rule_to_json, to_text, validate
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule, SegmentRef
from bitseg.schema import OrgSchema
from bitseg.segments.catalog import (
    DYNAMIC,
    MAX_NAME_CHARS,
    STATIC,
    Catalog,
    SegmentRecord,
    clean_description,
    clean_name,
)
from bitseg.segments.expand import Expander, Memo, map_references, references
from bitseg.segments.layout import new_id
from bitseg.segments.membership import AnyBitMap, MemberChange, Members
from bitseg.segments.tracking import Tracker
from bitseg.store import OrgStore
from bitseg.store.orgstore import SCHEMA_KEY
from bitseg.timeutil import format_time


@dataclass(frozen=True)
class SegmentView:
    """A segment as shown to clients: references in its rule by current name."""

    id: str
    name: str
    description: str
    type: str
    rule: dict[str, Any] | None
    rule_text: str
    archived: bool
    created_at: str
    updated_at: str


class SegmentOps:
    """The segment operations of one org."""

    def __init__(self, store: OrgStore, limits: Limits) -> None:
        self.store = store
        self.limits = limits

    # -- reading ---------------------------------------------------------------------------
    def expander(
        self,
        txn: lmdb.Transaction,
        schema: OrgSchema,
        pending: SegmentRecord | None = None,
        memo: Memo | None = None,
    ) -> Expander:
        """An expander over the catalog as seen by `txn`; a `pending` record (being saved)
        stands in for its stored version, by id and by its new name. `memo`: expansions
        shared with other expanders of the same snapshot (never with a pending record)."""
        catalog = Catalog(self.store, txn)
        by_id = {pending.id: pending} if pending is not None else {}
        by_name = {pending.name.casefold(): pending} if pending is not None else {}

        def lookup(ref: str) -> SegmentRecord:
            record = by_id.get(ref) or by_name.get(ref.strip().casefold())
            if record is None:
                record = catalog.get(ref)
            return by_id.get(record.id, record)

        def rule_of(record: SegmentRecord) -> Rule:
            return self.stored_rule(record, schema)

        return Expander(lookup, rule_of, self.limits, memo if pending is None else None)

    def stored_rule(self, record: SegmentRecord, schema: OrgSchema) -> Rule:
        """A dynamic segment's rule tree, validated against the current schema."""
        if record.rule is None:
            raise InvalidArgument(f"segment {record.name} has no rule")
        try:
            rule = rule_from_json(record.rule, self.limits)
            validate(rule, schema, self.limits)
        except InvalidArgument as e:
            raise InvalidArgument(f"segment {record.name}: {e.message}") from None
        return rule

    def view(self, catalog: Catalog, record: SegmentRecord) -> SegmentView:
        """The record with the references of its rule shown by current name."""
        rule_json: dict[str, Any] | None = None
        text = ""
        if record.rule is not None:
            def named(ref: SegmentRef) -> Rule:
                target = catalog.by_id(ref.segment)
                return SegmentRef(target.name if target else ref.segment, ref.ever)

            tree = map_references(rule_from_json(record.rule, self.limits), named)
            rule_json, text = rule_to_json(tree), to_text(tree)
        return SegmentView(
            id=record.id, name=record.name, description=record.description, type=record.type,
            rule=rule_json, rule_text=text, archived=record.archived,
            created_at=record.created_at, updated_at=record.updated_at,
        )

    def get(self, ref: str) -> SegmentView:
        with self.store.read() as txn:
            catalog = Catalog(self.store, txn)
            return self.view(catalog, catalog.get(ref))

    def list(self, include_archived: bool = False) -> list[SegmentView]:
        with self.store.read() as txn:
            catalog = Catalog(self.store, txn)
            return [self.view(catalog, r) for r in catalog.all(include_archived)]

    # -- saving ----------------------------------------------------------------------------
    def create(
        self,
        name: str,
        description: str = "",
        rule: Rule | None = None,
        members: Sequence[str] | None = None,
        now: int | None = None,
    ) -> tuple[SegmentView, MemberChange | None]:
        """A new dynamic segment (with `rule`) or static one (with `members`, maybe none)."""
        if rule is not None and members is not None:
            raise InvalidArgument("a segment has a rule (dynamic) or members (static), not both")
        stamp = _stamp(now)
        record = SegmentRecord(
            id=new_id(), name=clean_name(name), description=clean_description(description),
            type=DYNAMIC if rule is not None else STATIC, rule=None, archived=False,
            created_at=stamp, updated_at=stamp,
        )
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            if rule is not None:
                record = self._with_rule(txn, record, rule)
            catalog.put(record, None)
            change = None
            if members is not None:
                change = Members(self.store, txn).change(record.id, members, remove=False)
            self._track(txn, now, "segment", only=record)
            return self.view(catalog, record), change

    def update(
        self,
        ref: str,
        name: str | None = None,
        description: str | None = None,
        rule: Rule | None = None,
        now: int | None = None,
    ) -> SegmentView:
        """Change a segment's name, description and (dynamic only) rule."""
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            old = catalog.get(ref)
            record = old.with_(updated_at=_stamp(now))
            if name is not None:
                record = record.with_(name=clean_name(name))
                taken = catalog.by_name(record.name)
                if taken is not None and taken.id != old.id:
                    raise AlreadyExists(f'a segment named "{taken.name}" already exists')
            if description is not None:
                record = record.with_(description=clean_description(description))
            if rule is not None:
                if old.type == STATIC:
                    raise FailedPrecondition(
                        f"segment {old.name} is static: it has members, not a rule"
                    )
                record = self._with_rule(txn, record, rule)
                self._check_referrers(txn, catalog, record)
            catalog.put(record, old)
            if rule is not None:  # this segment and every segment inlining it may move
                self._track(txn, now, "segment")
            return self.view(catalog, record)

    def _with_rule(self, txn: lmdb.Transaction, record: SegmentRecord, rule: Rule) -> SegmentRecord:
        """`record` holding `rule`: validated, references by id, no cycle, within bounds."""
        schema = _schema(self.store, txn)
        validate(rule, schema, self.limits)
        expander = self.expander(txn, schema, record)
        by_id = map_references(
            rule, lambda ref: SegmentRef(expander.lookup(ref.segment).id, ref.ever)
        )
        record = record.with_(
            rule=rule_to_json(by_id),
            refs=tuple(sorted({r.segment for r in references(by_id)})),
        )
        self.expander(txn, schema, record).expand(by_id, within=record)
        return record

    def _check_referrers(
        self, txn: lmdb.Transaction, catalog: Catalog, record: SegmentRecord
    ) -> None:
        """Every segment that (transitively) references `record` still expands in bounds."""
        expander = self.expander(txn, _schema(self.store, txn), record)
        seen = {record.id}
        todo = [record.id]
        while todo:
            for referrer in catalog.referrers(todo.pop()):
                if referrer.id in seen:
                    continue
                seen.add(referrer.id)
                todo.append(referrer.id)
                if referrer.rule is not None:
                    rule = rule_from_json(referrer.rule, self.limits)
                    expander.expand(rule, within=referrer)

    def duplicate(self, ref: str, name: str | None = None, now: int | None = None) -> SegmentView:
        """A copy (rule, or members) under `name`, default "<name> (copy)"."""
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            source = catalog.get(ref)
            stamp = _stamp(now)
            copy = source.with_(
                id=new_id(),
                name=clean_name(name) if name else unique_name(catalog, source.name, "copy"),
                archived=False, created_at=stamp, updated_at=stamp,
            )
            catalog.put(copy, None)
            if source.type == STATIC:
                members = Members(self.store, txn)
                members.replace(copy.id, members.read(source.id))
            self._track(txn, now, "segment", only=copy)
            return self.view(catalog, copy)

    def set_archived(self, ref: str, archived: bool, now: int | None = None) -> SegmentView:
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            old = catalog.get(ref)
            record = old if old.archived == archived else old.with_(
                archived=archived, updated_at=_stamp(now)
            )
            catalog.put(record, old)
            return self.view(catalog, record)

    def delete(self, ref: str) -> None:
        """Delete a segment no other segment references (FailedPrecondition naming them)."""
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            record = catalog.get(ref)
            users = [r for r in catalog.referrers(record.id) if r.id != record.id]
            if users:
                names = ", ".join(r.name for r in users)
                raise FailedPrecondition(
                    f"segment {record.name} is referenced by {names}: "
                    "change or delete those segments first"
                )
            Members(self.store, txn).delete(record.id)
            Tracker(self.store, txn, self.limits).forget(record.id)
            catalog.delete(record)

    # -- members ---------------------------------------------------------------------------
    def change_members(self, ref: str, ids: Iterable[str], remove: bool) -> MemberChange:
        """Add (remove) contacts by external id to (from) a static segment."""
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            record = catalog.get(ref)
            if record.type != STATIC:
                verb = "removed from" if remove else "added to"
                raise FailedPrecondition(
                    f"segment {record.name} is dynamic: its members come from its rule and "
                    f"cannot be {verb} it (export it to a list first)"
                )
            change = Members(self.store, txn).change(record.id, ids, remove)
            if change.changed:
                catalog.put(record.with_(updated_at=_stamp(None)), record)
                self._track(txn, None, "segment")  # the list and segments that reference it
            return change

    def upsert_by_name(
        self, names: Sequence[str], now: int | None = None
    ) -> list[tuple[str, bool]]:
        """(id, created) per name, in input order; missing names become empty static segments."""
        cleaned = [clean_name(n) for n in names]
        stamp = _stamp(now)
        out: list[tuple[str, bool]] = []
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            for name in cleaned:
                existing = catalog.by_name(name)
                if existing is not None:
                    out.append((existing.id, False))
                    continue
                record = SegmentRecord(
                    id=new_id(), name=name, description="", type=STATIC, rule=None,
                    archived=False, created_at=stamp, updated_at=stamp,
                )
                catalog.put(record, None)
                out.append((record.id, True))
        return out

    def create_list(
        self, source: SegmentRecord, cols: AnyBitMap, name: str | None, as_of: int | None
    ) -> SegmentView:
        """A new static segment holding `cols`: `source`'s members as of `as_of` (now)."""
        stamp, when = _stamp(None), _stamp(as_of)
        with self.store.write() as txn:
            catalog = Catalog(self.store, txn)
            detail = "list " + when[:10]
            record = SegmentRecord(
                id=new_id(),
                name=clean_name(name) if name else unique_name(catalog, source.name, detail),
                description=f"Members of {source.name} as of {when}", type=STATIC, rule=None,
                archived=False, created_at=stamp, updated_at=stamp,
            )
            catalog.put(record, None)
            Members(self.store, txn).replace(record.id, cols)
            self._track(txn, None, "segment", only=record)
            return self.view(catalog, record)


    def _track(
        self,
        txn: lmdb.Transaction,
        now: int | None,
        cause: str,
        only: SegmentRecord | None = None,
    ) -> None:
        """Log the joins/leaves this save causes, in its own transaction."""
        clock = int(time.time()) if now is None else now
        Tracker(self.store, txn, self.limits).detect(clock, cause, only=only)

    def reevaluate(self, now: int | None = None) -> int:
        """Time passing: re-evaluate every segment; commit only if someone moved.

        Returns the number of log entries written."""
        clock = int(time.time()) if now is None else now
        try:
            with self.store.write() as txn:
                found = Tracker(self.store, txn, self.limits).detect(clock, "time")
                if not found.joined and not found.left:
                    raise _NothingMoved
                return found.joined + found.left
        except _NothingMoved:
            return 0


class _NothingMoved(Exception):
    """Aborts a re-evaluation that found nothing, so the generation (and caches) stay."""


def unique_name(catalog: Catalog, stem: str, detail: str) -> str:
    """ "<stem> (<detail>)", or "<stem> (<detail> 2)", ... : the first one not taken."""
    for n in range(1, 10_000):
        suffix = f" ({detail})" if n == 1 else f" ({detail} {n})"
        name = stem[: MAX_NAME_CHARS - len(suffix)].rstrip() + suffix
        if catalog.by_name(name) is None:
            return name
    raise InvalidArgument(f"no free name for a copy of {stem}; give one")


def _stamp(now: int | None) -> str:
    return format_time(int(time.time()) if now is None else now)


def _schema(store: OrgStore, txn: lmdb.Transaction) -> OrgSchema:
    """The schema as seen by `txn`, read without the store's generation-keyed cache."""
    raw = txn.get(SCHEMA_KEY, db=store.db["meta"])
    return OrgSchema.from_json(orjson.loads(bytes(raw))) if raw else OrgSchema()
