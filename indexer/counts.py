"""Contact-level count fields (deals per contact, events per type/day/campaign) as BSIs.

Counts only change by increments, so a batch gathers (field, contact, +/-n) triples
column-wise and applies them in bulk: the sum per (field, contact) is added to the
value currently in the field's bit-sliced index, and the old and new values become
ordinary BSI removals and additions. A count of 0 is "no value" (not in `exists`).
"""

from __future__ import annotations

from collections.abc import Callable

import lmdb
import numpy as np
from pyroaring import BitMap

from bitseg.store import keys
from bitseg.store.orgstore import OrgStore, depth_key
from indexer.encoders import bitmap_of, bsi_depth, encode_bsi
from indexer.eventcounts import EventTally

_U64 = 8


class CountIncrements:
    """Pending increments: parallel arrays of field code, contact column, increment; and
    events (`events`), whose increments are counted per family when they are applied."""

    def __init__(self) -> None:
        self.events = EventTally()
        self.fields: list[str] = []
        self._codes: dict[str, int] = {}
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []  # (field code << 32 | col, inc)
        self.size = 0

    def code(self, field: str) -> int:
        code = self._codes.get(field)
        if code is None:
            code = self._codes[field] = len(self.fields)
            self.fields.append(field)
        return code

    def add(self, codes: np.ndarray, cols: np.ndarray, incs: np.ndarray) -> None:
        if len(cols):
            key = (codes.astype(np.uint64) << np.uint64(32)) | cols.astype(np.uint64)
            self._parts.append((key, incs.astype(np.int32)))
            self.size += len(cols)

    def take(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """All pending increments summed per (field, column), sorted; then cleared."""
        fields = self.fields
        if not self._parts:
            empty = np.zeros(0, dtype=np.int64)
            return fields, empty, empty.astype(np.uint32), empty
        key = np.concatenate([p[0] for p in self._parts])
        incs = np.concatenate([p[1] for p in self._parts])
        self._parts, self.size = [], 0
        order = np.argsort(key)
        key = key[order]
        incs = incs[order].astype(np.int64)
        del order
        starts = np.flatnonzero(np.r_[True, np.diff(key) != 0])
        key = key[starts]
        codes = (key >> np.uint64(32)).astype(np.int64)
        cols = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        return fields, codes, cols, np.add.reduceat(incs, starts)


def apply_increments(
    store: OrgStore,
    txn: lmdb.Transaction,
    increments: CountIncrements,
    emit: Callable[[str, dict[bytes, np.ndarray], bool], None],
) -> None:
    """Turn pending increments into BSI removals/additions via `emit(field, postings, remove)`.

    The field bitmaps read here must already hold every earlier change of the batch.
    """
    apply_sorted(store, txn, *increments.take(), emit)


def apply_sorted(
    store: OrgStore,
    txn: lmdb.Transaction,
    fields: list[str],
    codes: np.ndarray,
    cols: np.ndarray,
    incs: np.ndarray,
    emit: Callable[[str, dict[bytes, np.ndarray], bool], None],
) -> None:
    """Increments `incs` of `fields[codes]` per contact `cols`, sorted by (code, col) with
    one entry per pair, as BSI removals/additions via `emit` (see `apply_increments`)."""
    if not len(cols):
        return
    bounds = np.flatnonzero(np.r_[True, np.diff(codes) != 0, True])
    for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        field = fields[int(codes[start])]
        field_cols, field_incs = cols[start:end], incs[start:end]
        old = read_counts(store, txn, field, field_cols)
        new = old + field_incs
        if (new < 0).any():
            raise AssertionError(f"count field {field} would go negative")
        changed = new != old
        field_cols, old, new = field_cols[changed], old[changed], new[changed]
        had, has = old > 0, new > 0
        if had.any():
            emit(field, encode_bsi(field_cols[had], old[had]), True)
        if has.any():
            emit(field, encode_bsi(field_cols[has], new[has]), False)
            note_depth(store, txn, keys.CONTACT, field, new[has])


def note_depth(
    store: OrgStore, txn: lmdb.Transaction, entity: str, field: str, values: np.ndarray
) -> None:
    """Record a bit-sliced field's depth when `values` need more bits than it has."""
    depth = bsi_depth(values)
    dkey = depth_key(entity, field)
    raw = txn.get(dkey, db=store.db["meta"])
    if raw is None or raw[0] < depth:
        txn.put(dkey, bytes((depth,)), db=store.db["meta"])


def read_counts(store: OrgStore, txn: lmdb.Transaction, field: str, cols: np.ndarray) -> np.ndarray:
    """Current values of a count BSI for sorted, distinct `cols` (0 where absent)."""
    values = np.zeros(len(cols), dtype=np.int64)
    raw_depth = txn.get(depth_key(keys.CONTACT, field), db=store.db["meta"])
    if raw_depth is None or not len(cols):
        return values
    db = store.db["bm"]
    for shard in np.unique(cols >> keys.SHARD_BITS).tolist():
        lo = np.searchsorted(cols, shard << keys.SHARD_BITS)
        hi = np.searchsorted(cols, (shard + 1) << keys.SHARD_BITS)
        raw = txn.get(keys.bitmap_key(keys.CONTACT, field, keys.EXISTS, shard), db=db)
        if raw is None:
            continue
        wanted = bitmap_of(cols[lo:hi]) & BitMap.deserialize(raw[_U64:])
        if not wanted:
            continue
        for bit in range(raw_depth[0]):
            raw = txn.get(keys.bitmap_key(keys.CONTACT, field, keys.bit_slot(bit), shard), db=db)
            if raw is None:
                continue
            hits = np.frombuffer((wanted & BitMap.deserialize(raw[_U64:])).to_array(), np.uint32)
            values[np.searchsorted(cols, hits)] |= 1 << bit
    return values
