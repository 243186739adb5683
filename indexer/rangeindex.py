"""Writes of the range index of int and time fields (key math in bitseg.store.rangekeys).

Equality buckets are ordinary postings: `equal_postings` turns (columns, values) into
{slot: columns} for every level, and the writer removes the old and adds the new like
any other slot. Cumulative coarse bitmaps depend on a column's value before and after
the whole write, so `RangeMoves` gathers each field's changes in order and `apply`
rewrites, per shard, only the cumulative bitmaps a moved column enters or leaves.
"""

from __future__ import annotations

from collections.abc import Iterator

import lmdb
import numpy as np
from pyroaring import BitMap

from bitseg.schema import FieldType
from bitseg.store import keys
from bitseg.store.rangekeys import (
    cumulative_slot,
    equal_slot,
    levels,
    order_keys,
    slot_bucket,
)
from indexer.encoders import Postings, bitmap_of

_NONE = -1  # "no value": below every coarse bucket
_VERSION = 8


def equal_postings(kind: FieldType, cols: np.ndarray, okeys: np.ndarray) -> Postings:
    """Equality-bucket postings of every level for these columns' order keys."""
    if len(cols) == 0:
        return {}
    shards = (cols >> keys.SHARD_BITS).astype(np.uint64)
    out: Postings = {}
    for level, shift in enumerate(levels(kind).equal):
        buckets = okeys >> np.uint64(shift)
        for shard, bucket, members in _groups(shards, buckets, cols):
            out[equal_slot(level, shard, bucket)] = members
    return out


def _groups(
    shards: np.ndarray, buckets: np.ndarray, cols: np.ndarray
) -> Iterator[tuple[int, int, np.ndarray]]:
    order = np.lexsort((buckets, shards))
    s, b, c = shards[order], buckets[order], cols[order]
    edges = np.flatnonzero((np.diff(s) != 0) | (np.diff(b) != 0)) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    ends = np.concatenate([edges, [len(c)]]).astype(np.int64)
    for start, end, shard, bucket in zip(
        starts.tolist(), ends.tolist(), s[starts].tolist(), b[starts].tolist(), strict=True
    ):
        yield shard, bucket, c[start:end]


class RangeMoves:
    """Per (entity, field): every removal and addition of a value since the last apply."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str, FieldType], list[tuple[np.ndarray, np.ndarray, int]]] = {}
        self.seq = 0

    def encode(
        self, entity: str, field: str, kind: FieldType, cols: np.ndarray, values: np.ndarray,
        is_add: bool,
    ) -> Postings:
        """One run of removals (old values) or additions (new values) of one field as
        equality postings; their coarse buckets are kept, in order, for `apply`."""
        if not len(cols):
            return {}
        entries = self.events.setdefault((entity, field, kind), [])
        col_array = np.asarray(cols, dtype=np.uint32)
        okeys = order_keys(kind, np.asarray(values, dtype=np.int64))
        coarse = np.uint64(levels(kind).coarse)
        entries.append((col_array, (okeys >> coarse).astype(np.int64), self.seq * 2 + is_add))
        self.seq += 1
        return equal_postings(kind, col_array, okeys)

    def apply(self, txn: lmdb.Transaction, db: object, version: bytes) -> None:
        for (entity, field, _kind), entries in self.events.items():
            cols, before, after = _net_moves(entries)
            if len(cols) == 0:
                continue
            shards = cols >> keys.SHARD_BITS
            for shard in np.unique(shards).tolist():
                mask = shards == shard
                _apply_shard(
                    txn, db, version, entity, field, shard, cols[mask], before[mask], after[mask]
                )
        self.events = {}
        self.seq = 0


def _net_moves(
    entries: list[tuple[np.ndarray, np.ndarray, int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cols, coarse bucket before, coarse bucket after) of every column whose bucket
    changed; a column's first event tells its value before (a removal: that value; an
    addition: none), its last event its value after."""
    cols = np.concatenate([c for c, _, _ in entries])
    buckets = np.concatenate([b for _, b, _ in entries])
    seqs = np.concatenate([np.full(len(c), s, dtype=np.int64) for c, _, s in entries])
    order = np.lexsort((seqs, cols))
    cols, buckets, seqs = cols[order], buckets[order], seqs[order]
    is_add = (seqs & 1).astype(bool)
    starts = np.flatnonzero(np.concatenate([[True], cols[1:] != cols[:-1]]))
    ends = np.concatenate([starts[1:], [len(cols)]]) - 1
    before = np.where(is_add[starts], _NONE, buckets[starts])
    after = np.where(is_add[ends], buckets[ends], _NONE)
    moved = before != after
    return cols[starts][moved], before[moved], after[moved]


def _apply_shard(
    txn: lmdb.Transaction,
    db: object,
    version: bytes,
    entity: str,
    field: str,
    shard: int,
    cols: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
) -> None:
    stored = _stored_buckets(txn, db, entity, field, shard)
    fresh = sorted(set(after[after != _NONE].tolist()) - set(stored))
    bases: dict[int, BitMap] = {}
    for bucket in fresh:
        # Nothing held a value in [bucket, next stored): G_bucket was G_next before.
        above = [b for b in stored if b > bucket]
        bases[bucket] = _read(txn, db, entity, field, shard, above[0]) if above else BitMap()
    for bucket in sorted(set(stored) | set(fresh)):
        enter = cols[(before < bucket) & (after >= bucket)]
        leave = cols[(after < bucket) & (before >= bucket)]
        if bucket not in bases and not len(enter) and not len(leave):
            continue
        bitmap = bases.get(bucket)
        if bitmap is None:
            bitmap = _read(txn, db, entity, field, shard, bucket)
        if len(leave):
            bitmap.difference_update(bitmap_of(leave))
        if len(enter):
            bitmap.update(bitmap_of(enter))
        key = keys.bitmap_key(entity, field, cumulative_slot(shard, bucket), shard)
        if bitmap:
            bitmap.run_optimize()
            txn.put(key, version + bitmap.serialize(), db=db)
        else:
            txn.delete(key, db=db)  # nothing at or above this bucket any more


def _stored_buckets(
    txn: lmdb.Transaction, db: object, entity: str, field: str, shard: int
) -> list[int]:
    prefix = keys.field_prefix(entity, field) + cumulative_slot(shard, 0)[:3]
    found: list[int] = []
    cursor = txn.cursor(db=db)
    if cursor.set_range(prefix):
        for key in cursor.iternext(values=False):
            key = bytes(key)
            if not key.startswith(prefix):
                break
            found.append(slot_bucket(key[:-2]))
    return found


def _read(
    txn: lmdb.Transaction, db: object, entity: str, field: str, shard: int, bucket: int
) -> BitMap:
    raw = txn.get(keys.bitmap_key(entity, field, cumulative_slot(shard, bucket), shard), db=db)
    return BitMap.deserialize(bytes(raw[_VERSION:])) if raw is not None else BitMap()


