"""Key translation on the write side: external string id <-> dense uint32 column id.

Column ids are assigned in order of first appearance per entity and never reused for
another id (a deleted record keeps its column, so re-creating it lands in the same
place). Both directions are stored; lookups made during a batch are memoised. Stores
that keep id blocks (bitseg.store.idblocks) get each flush's new ids appended to them in
the same transaction, so the blocks never differ from the per-column entries.
"""

from __future__ import annotations

import itertools

import lmdb

from bitseg.errors import InvalidArgument
from bitseg.store import idblocks, keys
from bitseg.store.orgstore import OrgStore, next_col_key

MAX_COLUMNS = 1 << 32


class IdMap:
    def __init__(self, store: OrgStore, txn: lmdb.Transaction) -> None:
        self.store = store
        self.txn = txn
        # per entity: every id the batch has met -> its column (None: not in the store)
        self._known: dict[str, dict[str, int | None]] = {}
        self._next: dict[str, int] = {}
        self._stored_next: dict[str, int] = {}
        self._pending: list[tuple[str, str, int]] = []
        # Decided once, before this batch assigns anything: a fresh store starts blocks.
        self._block_bits = store.start_id_blocks(txn)

    def next_col(self, entity: str) -> int:
        if entity not in self._next:
            stored = self.store.get_u32(self.txn, next_col_key(entity))
            self._next[entity] = self._stored_next[entity] = stored
        return self._next[entity]

    def col(self, entity: str, ext_id: str, create: bool) -> int | None:
        """The column of `ext_id`; a new one is assigned when `create` and there is none."""
        known = self._known.get(entity)
        if known is None:
            known = self._known[entity] = {}
        col = known.get(ext_id)
        if col is None and ext_id not in known:
            self.next_col(entity)
            if self._stored_next[entity] > 0:  # an org's first load skips the look-ups
                raw = self.txn.get(keys.id_key(entity, ext_id), db=self.store.db["ids"])
                col = keys.unpack_col(raw) if raw is not None else None
            known[ext_id] = col
        if col is None and create:
            col = self.next_col(entity)
            if col >= MAX_COLUMNS - 1:
                raise InvalidArgument(f"too many {entity} records: column ids are exhausted")
            self._next[entity] = col + 1
            known[ext_id] = col
            self._pending.append((entity, ext_id, col))
        return col

    def new_columns(self, entity: str, ids: list[str]) -> list[int] | None:
        """Fresh consecutive columns for distinct `ids`, when the store has no column of
        this entity yet and the batch has not met any of them (a first load's chunk,
        assigned at once rather than id by id); otherwise None, and nothing is assigned."""
        start = self.next_col(entity)
        known = self._known.setdefault(entity, {})
        if self._stored_next[entity] > 0 or not known.keys().isdisjoint(ids):
            return None
        end = start + len(ids)
        if end >= MAX_COLUMNS - 1:
            return None  # `col` raises the error, id by id
        cols = range(start, end)
        known.update(zip(ids, cols, strict=True))
        self._pending.extend(zip(itertools.repeat(entity), ids, cols))
        self._next[entity] = end
        return list(cols)

    def flush(self) -> None:
        """Write new id mappings and the next-column counters."""
        if self._pending:
            pending = self._pending
            self.txn.cursor(db=self.store.db["ids"]).putmulti(
                [(keys.id_key(e, ext_id), keys.pack_col(col)) for e, ext_id, col in pending]
            )
            self.txn.cursor(db=self.store.db["cols"]).putmulti(
                [(keys.col_key(e, col), ext_id.encode()) for e, ext_id, col in pending]
            )
            if self._block_bits:
                self._append_blocks(pending)
        for entity, value in self._next.items():
            self.store.put_u32(self.txn, next_col_key(entity), value)
        self._pending.clear()

    def _append_blocks(self, pending: list[tuple[str, str, int]]) -> None:
        by_entity: dict[str, tuple[list[int], list[str]]] = {}
        for entity, ext_id, col in pending:
            cols, ids = by_entity.setdefault(entity, ([], []))
            cols.append(col)
            ids.append(ext_id)
        for entity, (cols, ids) in by_entity.items():
            # Assigned in order of first appearance: each entity's columns are ascending.
            idblocks.append_ids(
                self.txn, self.store.db["cols"], entity, self._block_bits, cols, ids
            )
