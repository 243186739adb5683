"""The batch writer: one LMDB write transaction per batch, all or nothing.

For every touched contact it diffs the stored effective record (its own fields plus
its company's fields as `company.<field>`) against the new one, and turns the changed
fields into bitmap removals and additions, column-wise. A company change re-projects
all of that company's contacts, so `company.*` rules stay exact without a join at
query time. Only the touched (field, slot, shard) bitmaps are rewritten.
"""

from __future__ import annotations

import time
from array import array
from collections import defaultdict
from collections.abc import Mapping

import lmdb
import numpy as np
import orjson
from pyroaring import BitMap

from bitseg.schema import COMPANY_FIELDS, FieldType, OrgSchema
from bitseg.store import keys
from bitseg.store.orgstore import OrgStore, depth_key, next_col_key
from indexer import records as rec
from indexer.batch import Operation, ParsedBatch
from indexer.encoders import bsi_depth, encode
from indexer.idmap import IdMap


def bitmap_of(cols: np.ndarray) -> BitMap:
    """A BitMap of a numpy column array (through array.array: the fast constructor path)."""
    return BitMap(array("I", cols.astype(np.uint32, copy=False).tobytes()))

Fields = dict[str, object]
_U64 = 8


class SlotChanges:
    """Per (entity, field, slot): column arrays to remove, then to add."""

    def __init__(self) -> None:
        self.removes: dict[tuple[str, str, bytes], list[np.ndarray]] = defaultdict(list)
        self.adds: dict[tuple[str, str, bytes], list[np.ndarray]] = defaultdict(list)

    def add(self, entity: str, field: str, postings: Mapping[bytes, np.ndarray], remove: bool) -> None:
        target = self.removes if remove else self.adds
        for slot, cols in postings.items():
            target[(entity, field, slot)].append(cols)

    def slots(self) -> set[tuple[str, str, bytes]]:
        return set(self.removes) | set(self.adds)


class Writer:
    """Applies parsed batches to one org store. Use from a single thread."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store

    def apply(self, batch: ParsedBatch) -> dict[str, dict[str, int]]:
        with self.store.write() as txn:
            self.store.put_schema(txn, batch.schema)
            run = _BatchRun(self.store, txn, batch.schema)
            summary = run.apply(batch)
        return summary


class _BatchRun:
    def __init__(self, store: OrgStore, txn: lmdb.Transaction, schema: OrgSchema) -> None:
        self.store = store
        self.txn = txn
        self.schema = schema
        self.gen = store.generation(txn)
        self.ids = IdMap(store, txn)
        self.changes = SlotChanges()
        self.text_puts: dict[bytes, bytes | None] = {}
        self.summary: dict[str, dict[str, int]] = {}

    # -- entry -----------------------------------------------------------------------------
    def apply(self, batch: ParsedBatch) -> dict[str, dict[str, int]]:
        started = time.perf_counter()
        company_before, company_after = self._companies(batch.ops["companies"])
        self._contacts(batch.ops["contacts"], company_before, company_after)
        self._write_bitmaps()
        self._write_texts()
        self.ids.flush()
        self.summary["_seconds"] = {"micros": int((time.perf_counter() - started) * 1e6)}
        return self.summary

    # -- companies -------------------------------------------------------------------------
    def _companies(
        self, ops: list[Operation]
    ) -> tuple[dict[str, Fields | None], dict[str, Fields | None]]:
        before, after = self._collapse(keys.COMPANY, ops, "companies")
        for ext_id, final in after.items():
            col = self.ids.col(keys.COMPANY, ext_id, create=final is not None)
            if col is None:
                continue
            self._put_record(keys.COMPANY, col, ext_id, final)
            self._live(keys.COMPANY, col, before[ext_id] is not None, final is not None)
        return before, after

    # -- contacts --------------------------------------------------------------------------
    def _contacts(
        self,
        ops: list[Operation],
        company_before: dict[str, Fields | None],
        company_after: dict[str, Fields | None],
    ) -> None:
        before, after = self._collapse(keys.CONTACT, ops, "contacts")
        cols: dict[str, int] = {}
        for ext_id, final in after.items():
            col = self.ids.col(keys.CONTACT, ext_id, create=final is not None)
            if col is not None:
                cols[ext_id] = col
        # Contacts untouched by the batch whose company changed get re-projected too.
        touched = set(cols.values())
        reprojected: dict[int, Fields] = {}
        for company_id in company_after:
            if _company_fields(company_before.get(company_id)) == _company_fields(
                company_after.get(company_id)
            ):
                continue
            for col in self._contacts_of_company(company_id):
                if col in reprojected or col in touched:
                    continue
                own = self._load_record(keys.CONTACT, col)
                if own is not None:
                    reprojected[col] = own

        def company_of(fields: Fields | None, table: Mapping[str, Fields | None]) -> Fields | None:
            if not fields or "company_id" not in fields:
                return None
            cid = str(fields["company_id"])
            return table[cid] if cid in table else self._company_record(cid)

        diffs = _FieldDiffs()
        for ext_id, final in after.items():
            if ext_id not in cols:
                continue
            col = cols[ext_id]
            old = before[ext_id]
            old_eff = _effective(old, company_of(old, company_before))
            new_eff = _effective(final, company_of(final, company_after))
            diffs.add(col, old_eff, new_eff)
            self._put_record(keys.CONTACT, col, ext_id, final)
            self._live(keys.CONTACT, col, old is not None, final is not None)
        for col, own in reprojected.items():
            diffs.add(
                col,
                _effective(own, company_of(own, company_before)),
                _effective(own, company_of(own, company_after)),
            )
        self._encode(keys.CONTACT, diffs)

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
                    if value is None:
                        merged.pop(name, None)
                    else:
                        merged[name] = value
                after[op.id] = merged
                counts["patched"] += 1
        if ops:
            self.summary[kind] = counts
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
        if was == now:
            return
        cols = {keys.LIVE: np.array([col], dtype=np.uint32)}
        self.changes.add(entity, "", cols, remove=was)

    def _encode(self, entity: str, diffs: _FieldDiffs) -> None:
        for name, (rm_cols, rm_vals, add_cols, add_vals) in diffs.by_field.items():
            kind = self.schema.field_type(name)
            assert kind is not None, name
            if rm_cols:
                self.changes.add(entity, name, encode(kind, _u32(rm_cols), rm_vals), remove=True)
            if add_cols:
                self.changes.add(entity, name, encode(kind, _u32(add_cols), add_vals), remove=False)
            if kind in (FieldType.INT, FieldType.TIME) and add_vals:
                depth = bsi_depth(np.asarray(add_vals, dtype=np.int64))
                dkey = depth_key(entity, name)
                raw = self.txn.get(dkey, db=self.store.db["meta"])
                if raw is None or raw[0] < depth:
                    self.txn.put(dkey, bytes((depth,)), db=self.store.db["meta"])
            if kind == FieldType.TEXT:
                for col in rm_cols:
                    self.text_puts[keys.text_key(entity, name, col)] = None
                for col, value in zip(add_cols, add_vals, strict=True):
                    self.text_puts[keys.text_key(entity, name, col)] = str(value).lower().encode()

    def _write_bitmaps(self) -> None:
        db = self.store.db["bm"]
        version = self.gen.to_bytes(_U64, "big")
        for entity, name, slot in self.changes.slots():
            removes = _concat(self.changes.removes.get((entity, name, slot)))
            adds = _concat(self.changes.adds.get((entity, name, slot)))
            shards = np.union1d(removes >> keys.SHARD_BITS, adds >> keys.SHARD_BITS)
            for shard in shards.tolist():
                key = keys.bitmap_key(entity, name, slot, shard)
                raw = self.txn.get(key, db=db)
                bitmap = BitMap.deserialize(raw[_U64:]) if raw is not None else BitMap()
                bitmap.difference_update(_shard_part(removes, shard))
                bitmap.update(_shard_part(adds, shard))
                if bitmap:
                    bitmap.run_optimize()
                    self.txn.put(key, version + bitmap.serialize(), db=db)
                elif raw is not None:
                    self.txn.delete(key, db=db)

    def _write_texts(self) -> None:
        db = self.store.db["txt"]
        for key, value in self.text_puts.items():
            if value is None:
                self.txn.delete(key, db=db)
            else:
                self.txn.put(key, value, db=db)


class _FieldDiffs:
    """Changed fields of many records, gathered per field as (cols, values) to remove / add."""

    def __init__(self) -> None:
        self.by_field: dict[str, tuple[list[int], list[object], list[int], list[object]]] = {}

    def add(self, col: int, old: Fields, new: Fields) -> None:
        by_field = self.by_field
        for name, value in old.items():
            if new.get(name) != value:
                entry = by_field.get(name) or by_field.setdefault(name, ([], [], [], []))
                entry[0].append(col)
                entry[1].append(value)
        for name, value in new.items():
            if old.get(name) != value:
                entry = by_field.get(name) or by_field.setdefault(name, ([], [], [], []))
                entry[2].append(col)
                entry[3].append(value)


def _effective(own: Fields | None, company: Fields | None) -> Fields:
    if own is None:
        return {}
    eff = rec.derive_contact(own)
    for name, value in _company_fields(company).items():
        eff["company." + name] = value
    return eff


def _company_fields(company: Fields | None) -> Fields:
    if not company:
        return {}
    return {k: v for k, v in company.items() if k in COMPANY_FIELDS and v is not None}


def _u32(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.uint32)


def _concat(parts: list[np.ndarray] | None) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=np.uint32)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _shard_part(cols: np.ndarray, shard: int) -> BitMap:
    if len(cols) == 0:
        return BitMap()
    lo = shard << keys.SHARD_BITS
    part = cols[(cols >= lo) & (cols < lo + keys.SHARD_WIDTH)]
    return bitmap_of(part)
