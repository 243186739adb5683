"""The batch writer: one LMDB write transaction per batch, all or nothing.

For every touched contact it diffs the stored effective record (its own fields plus
its company's fields as `company.<field>`) against the new one, and turns the changed
fields into bitmap removals and additions, column-wise. A company change re-projects
all of that company's contacts, so `company.*` rules stay exact without a join at
query time. Only the touched (field, slot, shard) bitmaps are rewritten.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial

import lmdb
import numpy as np
import orjson
from pyroaring import BitMap

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.schema import COMPANY_FIELDS, DEAL_FIELDS, FieldType, OrgSchema
from bitseg.segments.tracking import Tracker
from bitseg.store import keys, rangekeys
from bitseg.store.orgstore import OrgStore, next_col_key
from indexer import records as rec
from indexer.activity import ActivityWriter, count_field_kind
from indexer.batch import Operation
from indexer.columns import ContactColumns, contact_columns
from indexer.counts import CountIncrements, note_depth
from indexer.deferred import DeferredPostings
from indexer.diffs import FieldDiffs, ValueRuns
from indexer.encoders import bitmap_of, encode, group_values
from indexer.idmap import IdMap
from indexer.rangeindex import RangeMoves

Fields = dict[str, object]
_U64 = 8
PENDING_POSTINGS = 40_000_000  # ~160 MB of column ids held before bitmaps are rewritten
# Values held (ValueRuns) before they are encoded: at 8M rather than 4M the writer of a
# 1M-contact load spends 2.6 s less (fewer rewrites of the same keys) and peaks at
# 3.23 GiB instead of 3.05 GiB (12M: 3.96 GiB with the per-record parse of contacts).
PENDING_VALUES = 8_000_000


class SlotChanges:
    """Per (entity, field, slot): column arrays to remove or add, in the order they arose.

    Order matters: a column added by one chunk (or by a company re-projection) and removed
    by a later one must end up removed, so changes are replayed in sequence.

    `add` keeps each field's postings as they come (no per-slot work, which on a bulk
    load is millions of slots per chunk); `steps` regroups them per slot, one field at
    a time, when the bitmaps are written.
    """

    def __init__(self) -> None:
        self._by_field: dict[tuple[str, str], list[tuple[bool, Mapping[bytes, np.ndarray]]]] = {}
        self.pending = 0

    def add(
        self, entity: str, field: str, postings: Mapping[bytes, np.ndarray], remove: bool
    ) -> None:
        if not postings:
            return
        parts = self._by_field.get((entity, field))
        if parts is None:
            parts = self._by_field[(entity, field)] = []
        parts.append((remove, postings))
        self.pending += sum(map(len, postings.values()))

    def defer(self, deferred: DeferredPostings) -> None:
        """Move the postings worth holding (see indexer.deferred) into `deferred`."""
        for key in list(self._by_field):
            write = deferred.take(key, self._by_field[key])  # type: ignore[arg-type]
            if write:
                self._by_field[key] = write
            else:
                del self._by_field[key]

    def restore(self, deferred: DeferredPostings) -> None:
        """Put held postings back, ahead of the same fields' later ones."""
        for key, parts in deferred.drain():
            later = self._by_field.get(key, [])
            self._by_field[key] = [*parts, *later]

    @property
    def steps(self) -> _Steps:
        """The steps per (entity, field, slot), for `.items()`."""
        return _Steps(self._by_field)


class _Steps:
    """A view of `SlotChanges` per slot: `.items()` yields ((entity, field, slot), steps)
    field by field, runs of additions (or removals) of a slot joined into one array, so a
    slot touched by every chunk is rewritten with one update, not one per chunk."""

    def __init__(
        self, by_field: dict[tuple[str, str], list[tuple[bool, Mapping[bytes, np.ndarray]]]]
    ) -> None:
        self._by_field = by_field

    def items(self) -> Iterator[tuple[tuple[str, str, bytes], list[tuple[bool, np.ndarray]]]]:
        for (entity, field), parts in self._by_field.items():
            # Slots in one part only (most: e.g. the values of a unique text field) are
            # yielded as they are; the others are gathered in order first.
            seen: set[bytes] = set()
            repeated: set[bytes] = set()
            for _, postings in parts:
                keys_view = postings.keys()
                if seen:
                    repeated |= keys_view & seen
                seen |= keys_view
            del seen
            for remove, postings in parts:
                if repeated:
                    for slot, cols in postings.items():
                        if slot not in repeated:
                            yield (entity, field, slot), [(remove, cols)]
                else:
                    for slot, cols in postings.items():
                        yield (entity, field, slot), [(remove, cols)]
            if not repeated:
                continue
            per_slot: dict[bytes, list[tuple[bool, np.ndarray]]] = {s: [] for s in repeated}
            for remove, postings in parts:
                for slot in repeated & postings.keys():
                    per_slot[slot].append((remove, postings[slot]))
            for slot, slot_steps in per_slot.items():
                yield (entity, field, slot), (
                    _joined(slot_steps) if len(slot_steps) > 1 else slot_steps
                )


def _joined(steps: list[tuple[bool, np.ndarray]]) -> list[tuple[bool, np.ndarray]]:
    """Consecutive steps in the same direction as one (their union is applied at once)."""
    runs: list[tuple[bool, list[np.ndarray]]] = []
    for remove, cols in steps:
        if runs and runs[-1][0] == remove:
            runs[-1][1].append(cols)
        else:
            runs.append((remove, [cols]))
    return [
        (remove, parts[0] if len(parts) == 1 else np.concatenate(parts)) for remove, parts in runs
    ]


class Writer:
    """Applies batches to one org store. Use from a single thread."""

    def __init__(self, store: OrgStore, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits or Limits()

    def apply(
        self, schema: OrgSchema, chunks: Iterable[tuple[str, object]], now: int | None = None
    ) -> dict[str, dict[str, int]]:
        """Apply every chunk in one write transaction; any exception aborts all of it."""
        # The cyclic collector is paused for the batch: a bulk load allocates millions of
        # objects that are freed by reference counting, and each collection would walk
        # the batch's whole heap (tens of seconds over a 1M-contact load). Anything
        # cyclic left behind is collected when it resumes.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._apply(schema, chunks, now)
        finally:
            if paused:
                gc.enable()

    def _apply(
        self, schema: OrgSchema, chunks: Iterable[tuple[str, object]], now: int | None
    ) -> dict[str, dict[str, int]]:
        with self.store.write() as txn:
            self.store.put_schema(txn, schema)
            self.store.start_range_index(txn)
            run = _BatchRun(self.store, txn, schema)
            for kind, ops in chunks:
                if kind == "companies":
                    run.companies(ops)  # type: ignore[arg-type]
                elif kind == "contacts":
                    run.contacts(ops)  # type: ignore[arg-type]
                elif kind == "campaigns":
                    run.campaigns(ops)  # type: ignore[arg-type]
                elif kind == "deals":
                    run.deals(ops)  # type: ignore[arg-type]
                elif kind == "events":
                    run.events(ops)  # type: ignore[arg-type]
                else:
                    raise InvalidArgument(f"unknown record kind {kind}")
                run.flush(final=False)
            run.flush(final=True)
            clock = int(time.time()) if now is None else now  # segments are evaluated at `now`
            detected = Tracker(self.store, txn, self.limits).detect(
                clock, "write", run.dirty_contacts()
            )
            run.summary["changes"] = {"joined": detected.joined, "left": detected.left}
        return run.summary


class _BatchRun(ActivityWriter):
    def __init__(self, store: OrgStore, txn: lmdb.Transaction, schema: OrgSchema) -> None:
        self.store = store
        self.txn = txn
        self.schema = schema
        self.gen = store.generation(txn)
        self.ids = IdMap(store, txn)
        self.changes = SlotChanges()
        self.deferred = DeferredPostings()  # written with the batch's last bitmaps
        self.values = ValueRuns()
        self.text_puts: dict[bytes, bytes | None] = {}
        self.summary: dict[str, dict[str, int]] = {}
        self.projections: dict[str, Fields] = {}
        self.counts = CountIncrements()
        self.owners: dict[int, int] = {}
        self.dirty: list[np.ndarray] = []  # contacts whose indexed data may have changed
        self.live_changes: dict[tuple[str, bool], list[int]] = {}
        self.range_index = store.has_range_index(txn)
        self.range_moves = RangeMoves()
        self.events_begun = False

    def dirty_contacts(self) -> BitMap:
        return bitmap_of(np.concatenate(self.dirty)) if self.dirty else BitMap()

    def flush(self, final: bool) -> None:
        """Write what is pending. Bitmap changes are held across chunks (each rewrite of a
        bitmap costs its full size) until they grow large or the batch ends."""
        self._flush_live()
        self._write_texts()
        self.ids.flush()
        self.text_puts = {}
        self.write_owners()
        self.apply_counts(force=final)
        if final or self.changes.pending > PENDING_POSTINGS or self.values.size > PENDING_VALUES:
            self._write_bitmaps(defer=not final)
            self.changes = SlotChanges()

    # -- companies -------------------------------------------------------------------------
    def companies(self, ops: list[Operation]) -> None:
        """Store companies, then re-project every contact of a company whose fields changed."""
        self.flush(final=True)  # company_id bitmaps are read below: make them current
        self.projections.clear()
        before, after = self._collapse(keys.COMPANY, ops, "companies")
        diffs = FieldDiffs()
        for ext_id, final in after.items():
            col = self.ids.col(keys.COMPANY, ext_id, create=final is not None)
            if col is None:
                continue
            self._put_record(keys.COMPANY, col, ext_id, final)
            self._live(keys.COMPANY, col, before[ext_id] is not None, final is not None)
            old_fields, new_fields = _company_fields(before[ext_id]), _company_fields(final)
            if old_fields == new_fields:
                continue
            old_projection = _projection(old_fields)
            new_projection = _projection(new_fields)
            for contact in self._contacts_of_company(ext_id):
                diffs.add(contact, old_projection, new_projection)
        self._encode(keys.CONTACT, diffs)

    # -- contacts --------------------------------------------------------------------------
    def contacts(self, ops: list[Operation] | ContactColumns) -> None:
        if isinstance(ops, ContactColumns):
            ids: list[str] | None = ops.ids
        else:
            ids = [op.id for op in ops] if all(op.op == "upsert" for op in ops) else None
        new_cols = self._new_columns(keys.CONTACT, ids) if ids is not None else None
        if new_cols is not None:
            # New contacts: every field is an addition, indexed field by field (what
            # `_collapse` and the diffs give them, without the per-record bookkeeping).
            columns = (
                ops if isinstance(ops, ContactColumns)
                else contact_columns(ops, self.schema.field_type)
            )
            assert columns is not None  # upserts of distinct ids, as `_new_columns` found
            self._insert_columns(columns, np.asarray(new_cols, dtype=np.uint32))
            return
        if isinstance(ops, ContactColumns):
            ops = ops.operations()

        def company_of(fields: Fields | None) -> Fields:
            if not fields or "company_id" not in fields:
                return {}
            return self._company_projection(str(fields["company_id"]))

        before, after = self._collapse(keys.CONTACT, ops, "contacts")
        diffs = FieldDiffs()
        for ext_id, final in after.items():
            col = self.ids.col(keys.CONTACT, ext_id, create=final is not None)
            if col is None:
                continue
            old = before[ext_id]
            # Company fields are already current in the index (companies are applied first).
            old_eff = _effective(old, company_of(old))
            new_eff = _effective(final, company_of(final))
            diffs.add(col, old_eff, new_eff)
            self._put_record(keys.CONTACT, col, ext_id, final)
            self._live(keys.CONTACT, col, old is not None, final is not None)
        self._encode(keys.CONTACT, diffs)

    def _company_projection(self, company_id: str) -> Fields:
        """The `company.*` fields a contact of this company gets (memoised per batch
        phase: companies are all applied before the contacts)."""
        projection = self.projections.get(company_id)
        if projection is None:
            projection = _projection(_company_fields(self._company_record(company_id)))
            self.projections[company_id] = projection
        return projection

    def _new_columns(self, entity: str, ids: list[str]) -> list[int] | None:
        """Columns for a chunk of upserts of distinct ids new to the store and the batch
        (a bulk insert), or None (then nothing is assigned)."""
        col_of = self.ids.col
        if len(set(ids)) != len(ids):
            return None
        fresh = self.ids.new_columns(entity, ids)
        if fresh is not None:
            return fresh
        if any(col_of(entity, ext_id, create=False) is not None for ext_id in ids):
            return None
        return [col_of(entity, ext_id, create=True) for ext_id in ids]  # type: ignore[misc]

    def _insert_columns(self, chunk: ContactColumns, cols: np.ndarray) -> None:
        """New contacts of a chunk regrouped per field (indexer.columns), at `cols`."""
        entity = keys.CONTACT
        by_field = {name: (cols[rows], values) for name, (rows, values) in chunk.fields.items()}
        company = by_field.get("company_id")
        if company is not None:
            self._project_columns(by_field, *company)
        self.txn.cursor(db=self.store.db["rec"]).putmulti(
            list(zip(map(partial(keys.col_key, entity), cols.tolist()), chunk.records, strict=True))
        )
        self.dirty.append(cols)
        self.live_changes.setdefault((entity, False), []).extend(cols.tolist())
        total = self.summary.setdefault("contacts", {"upserted": 0, "patched": 0, "deleted": 0})
        total["upserted"] += len(chunk)
        for name, (field_cols, values) in by_field.items():
            kind = self._kind(entity, name)
            self.values.add(entity, name, kind, False, field_cols, values)  # type: ignore[arg-type]
            if kind in (FieldType.INT, FieldType.TIME):
                self._note_depth(entity, name, np.asarray(values, dtype=np.int64))
            if kind == FieldType.TEXT:
                lowered = chunk.texts.get(name)
                if lowered is None:  # a company field: lower-cased here
                    lowered = [str(v).lower().encode() for v in values]
                prefix = keys.field_prefix(entity, name)
                text_keys = [prefix + col for col in map(keys.pack_col, field_cols.tolist())]
                self.text_puts.update(zip(text_keys, lowered, strict=True))

    def _project_columns(
        self, by_field: dict[str, tuple[np.ndarray, Sequence[object]]], cols: np.ndarray,
        company_ids: Sequence[object],
    ) -> None:
        """Add the `company.*` fields of each contact's company, a company at a time."""
        pieces: dict[str, tuple[list[np.ndarray], list[object]]] = {}
        for company_id, members in group_values(cols, company_ids).items():
            for name, value in self._company_projection(str(company_id)).items():
                piece = pieces.get(name)
                if piece is None:
                    piece = pieces[name] = ([], [])
                piece[0].append(members)
                piece[1].append(value)
        for name, (parts, values) in pieces.items():
            field_cols = np.concatenate(parts)
            order = np.argsort(field_cols, kind="stable")  # in column order, as per record
            repeated = np.repeat(np.arange(len(values)), [len(p) for p in parts])[order]
            by_field[name] = (field_cols[order], [values[i] for i in repeated.tolist()])

    # -- helpers ---------------------------------------------------------------------------
    def _collapse(
        self, entity: str, ops: list[Operation], kind: str
    ) -> tuple[dict[str, Fields | None], dict[str, Fields | None]]:
        """Stored state before the batch and final state after all its ops, per touched id."""
        before: dict[str, Fields | None] = {}
        after: dict[str, Fields | None] = {}
        counts = {"upserted": 0, "patched": 0, "deleted": 0}
        for op in ops:
            if op.id not in before:
                col = self.ids.col(entity, op.id, create=False)
                stored = self._load_record(entity, col) if col is not None else None
                before[op.id] = stored
                after[op.id] = stored
            current = after[op.id]
            if op.op == "delete":
                after[op.id] = None
                counts["deleted"] += 1
            elif op.op == "upsert":
                after[op.id] = dict(op.fields)
                counts["upserted"] += 1
            else:
                merged = dict(current or {})
                for name, value in op.fields.items():
                    if value is None and name.endswith(".*"):
                        prefix = name[:-1]
                        for key in [k for k in merged if k.startswith(prefix)]:
                            del merged[key]
                    elif value is None:
                        merged.pop(name, None)
                    else:
                        merged[name] = value
                after[op.id] = merged
                counts["patched"] += 1
        total = self.summary.setdefault(kind, {"upserted": 0, "patched": 0, "deleted": 0})
        for name, value in counts.items():
            total[name] += value
        return before, after

    def _load_record(self, entity: str, col: int) -> Fields | None:
        raw = self.txn.get(keys.col_key(entity, col), db=self.store.db["rec"])
        if raw is None:
            return None
        data = orjson.loads(raw)
        data.pop("id", None)
        for name, value in data.items():
            if isinstance(value, list):
                data[name] = tuple(value)
        return data

    def _company_record(self, ext_id: str) -> Fields | None:
        col = self.ids.col(keys.COMPANY, ext_id, create=False)
        return self._load_record(keys.COMPANY, col) if col is not None else None

    def _contacts_of_company(self, company_id: str) -> list[int]:
        shards = (self.store.get_u32(self.txn, next_col_key(keys.CONTACT)) >> keys.SHARD_BITS) + 1
        cols: list[int] = []
        for shard in range(shards):
            key = keys.bitmap_key(keys.CONTACT, "company_id", keys.value_slot(company_id), shard)
            raw = self.txn.get(key, db=self.store.db["bm"])
            if raw is not None:
                cols.extend(BitMap.deserialize(raw[_U64:]))
        return cols

    def _put_record(self, entity: str, col: int, ext_id: str, fields: Fields | None) -> None:
        key = keys.col_key(entity, col)
        if fields is None:
            self.txn.delete(key, db=self.store.db["rec"])
        else:
            self.txn.put(key, orjson.dumps({"id": ext_id, **fields}), db=self.store.db["rec"])

    def _live(self, entity: str, col: int, was: bool, now: bool) -> None:
        """Note a record appearing or vanishing; gathered per chunk (see `_flush_live`)."""
        if was != now:
            self.live_changes.setdefault((entity, was), []).append(col)

    def _flush_live(self) -> None:
        """Live-bitmap changes of the chunk just processed, as one array per direction (a
        column only ever moves one way within a chunk: ops on an id are collapsed)."""
        for (entity, removed), cols in self.live_changes.items():
            array = np.asarray(cols, dtype=np.uint32)
            if entity == keys.CONTACT:
                self.dirty.append(array)
            self.changes.add(entity, "", {keys.LIVE: array}, remove=removed)
        self.live_changes = {}

    def _encode(self, entity: str, diffs: FieldDiffs) -> None:
        if entity == keys.CONTACT:
            for rm_cols, _, add_cols, _ in diffs.by_field.values():
                self.dirty.append(np.asarray(rm_cols + add_cols, dtype=np.uint32))
        for name, (rm_cols, rm_vals, add_cols, add_vals) in diffs.by_field.items():
            kind = self._kind(entity, name)
            if rm_cols:
                self.values.add(entity, name, kind, True, rm_cols, rm_vals)
            if add_cols:
                self.values.add(entity, name, kind, False, add_cols, add_vals)
            if kind in (FieldType.INT, FieldType.TIME) and add_vals:
                self._note_depth(entity, name, np.asarray(add_vals, dtype=np.int64))
            if kind == FieldType.TEXT:
                for col in rm_cols:
                    self.text_puts[keys.text_key(entity, name, col)] = None
                for col, value in zip(add_cols, add_vals, strict=True):
                    self.text_puts[keys.text_key(entity, name, col)] = str(value).lower().encode()

    def _note_depth(self, entity: str, name: str, values: np.ndarray) -> None:
        note_depth(self.store, self.txn, entity, name, values)

    def _kind(self, entity: str, name: str) -> FieldType:
        if entity == keys.DEAL:
            kind = DEAL_FIELDS.get(name)
        elif entity == keys.COMPANY:
            kind = COMPANY_FIELDS.get(name)
        else:
            kind = count_field_kind(name) or self.schema.field_type(name)
        assert kind is not None, (entity, name)
        return kind

    def _encode_runs(self) -> None:
        """The held value runs as postings (see `ValueRuns`), in order per field."""
        for entity, name, kind, remove, cols, values in self.values.drain():
            keyed = keys.keeps_text_values(entity, name)
            self.changes.add(entity, name, encode(kind, cols, values, keyed), remove=remove)
            if self.range_index and rangekeys.indexed(kind, name):
                moved = self.range_moves.encode(entity, name, kind, cols, values, not remove)  # type: ignore[arg-type]
                self.changes.add(entity, name, moved, remove=remove)

    def _write_bitmaps(self, defer: bool = False) -> None:
        """Rewrite every touched bitmap; with `defer` (a write in the middle of a batch,
        when nothing reads the bitmaps before the next one), hold back the keys with
        small postings (indexer.deferred) until a full write."""
        self._encode_runs()
        if defer:
            self.changes.defer(self.deferred)
        elif self.deferred:
            self.changes.restore(self.deferred)
        db = self.store.db["bm"]
        version = self.gen.to_bytes(_U64, "big")
        for (entity, name, slot), steps in self.changes.steps.items():
            for shard, shard_steps in _by_shard(steps):
                key = keys.bitmap_key(entity, name, slot, shard)
                raw = self.txn.get(key, db=db)
                bitmap = BitMap.deserialize(raw[_U64:]) if raw is not None else BitMap()
                for remove, cols in shard_steps:
                    if remove:
                        bitmap.difference_update(bitmap_of(cols))
                    else:
                        bitmap.update(bitmap_of(cols))
                if bitmap:
                    bitmap.run_optimize()
                    self.txn.put(key, version + bitmap.serialize(), db=db)
                elif raw is not None:
                    self.txn.delete(key, db=db)
        self.range_moves.apply(self.txn, db, version)

    def _write_texts(self) -> None:
        db = self.store.db["txt"]
        puts = []
        for key, value in self.text_puts.items():
            if value is None:
                self.txn.delete(key, db=db)
            else:
                puts.append((key, value))
        if puts:
            self.txn.cursor(db=db).putmulti(puts)


def _effective(own: Fields | None, projection: Fields) -> Fields:
    if own is None:
        return {}
    eff = rec.derive_contact(own)
    if projection:
        eff.update(projection)
    return eff


def _projection(company_fields: Fields) -> Fields:
    return {"company." + name: value for name, value in company_fields.items()}


def _company_fields(company: Fields | None) -> Fields:
    if not company:
        return {}
    return {k: v for k, v in company.items() if k in COMPANY_FIELDS and v is not None}



def _by_shard(
    steps: list[tuple[bool, np.ndarray]],
) -> Iterator[tuple[int, list[tuple[bool, np.ndarray]]]]:
    """The steps split per shard (most batches touch one shard: no split at all)."""
    top = max((_top(cols) for _, cols in steps if len(cols)), default=0)
    if top < keys.SHARD_WIDTH:
        yield 0, steps
        return
    shards = np.unique(np.concatenate([cols >> keys.SHARD_BITS for _, cols in steps]))
    for shard in shards.tolist():
        lo, hi = shard << keys.SHARD_BITS, (shard + 1) << keys.SHARD_BITS
        yield shard, [(remove, cols[(cols >= lo) & (cols < hi)]) for remove, cols in steps]


def _top(cols: np.ndarray) -> int:
    """The largest column (small arrays, most of them, without numpy's call overhead)."""
    return max(cols.tolist()) if len(cols) <= 16 else int(cols.max())
