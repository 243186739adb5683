"""The write side of deals, campaigns and events (mixed into the batch writer).

Deals are entities with their own columns and bitmaps; each deal shard also keeps an
array deal column -> owner contact column + 1 (0: none), which the engine uses to map
a deal bitmap to contacts with per-contact counts. Every contact has a `$deals` count
BSI (its live deals), kept by increments when deals appear, vanish or change owner.
Campaigns are records (id, name, sent_at) the engine reads to pick "the last N".
Events are append-only and never stored row by row: each one increments the
contact's count in `$ev` BSIs per type, per (type, UTC day), per (type, campaign) and
per (type, campaign, day), so windows and counts are answered from bitmaps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lmdb
import numpy as np

from bitseg.schema import FieldType
from bitseg.store import keys
from bitseg.store.orgstore import OrgStore
from bitseg.timeutil import DAY
from indexer.batch import Operation
from indexer.counts import CountIncrements, apply_increments, apply_sorted
from indexer.diffs import FieldDiffs
from indexer.eventscan import EventColumns

if TYPE_CHECKING:
    from indexer.writer import SlotChanges

_U64 = 8
PENDING_INCREMENTS = 25_000_000
PENDING_EVENTS = 32_000_000  # ~16 bytes an event until counted


class ActivityWriter:
    """Deals, campaigns and events for `_BatchRun` (which provides the attributes below)."""

    store: OrgStore
    txn: lmdb.Transaction
    gen: int
    changes: SlotChanges
    counts: CountIncrements
    owners: dict[int, int]
    dirty: list[np.ndarray]
    events_begun: bool  # the batch has met its first events

    # -- campaigns -------------------------------------------------------------------------
    def campaigns(self, ops: list[Operation]) -> None:
        before, after = self._collapse(keys.CAMPAIGN, ops, "campaigns")  # type: ignore[attr-defined]
        for ext_id, final in after.items():
            col = self.ids.col(keys.CAMPAIGN, ext_id, create=final is not None)  # type: ignore[attr-defined]
            if col is None:
                continue
            self._put_record(keys.CAMPAIGN, col, ext_id, final)  # type: ignore[attr-defined]
            self._live(keys.CAMPAIGN, col, before[ext_id] is not None, final is not None)  # type: ignore[attr-defined]

    # -- deals -----------------------------------------------------------------------------
    def deals(self, ops: list[Operation]) -> None:
        diffs = FieldDiffs()
        before, after = self._collapse(keys.DEAL, ops, "deals")  # type: ignore[attr-defined]
        deltas: dict[int, int] = {}
        for ext_id, final in after.items():
            col = self.ids.col(keys.DEAL, ext_id, create=final is not None)  # type: ignore[attr-defined]
            if col is None:
                continue
            old = before[ext_id]
            diffs.add(col, old or {}, final or {})
            self._put_record(keys.DEAL, col, ext_id, final)  # type: ignore[attr-defined]
            self._live(keys.DEAL, col, old is not None, final is not None)  # type: ignore[attr-defined]
            old_owner = self._owner_col(old, create=False)
            new_owner = self._owner_col(final, create=True)
            if old_owner == new_owner:
                continue
            if old_owner is not None:
                deltas[old_owner] = deltas.get(old_owner, 0) - 1
            if new_owner is not None:
                deltas[new_owner] = deltas.get(new_owner, 0) + 1
            self.owners[col] = -1 if new_owner is None else new_owner
        self._encode(keys.DEAL, diffs)  # type: ignore[attr-defined]
        touched_owners = [
            owner
            for ext_id in after
            for owner in (
                self._owner_col(before[ext_id], False),
                self._owner_col(after[ext_id], False),
            )
            if owner is not None
        ]
        if touched_owners:
            self.dirty.append(np.asarray(touched_owners, dtype=np.uint32))
        if deltas:
            cols = np.fromiter(deltas.keys(), dtype=np.uint32, count=len(deltas))
            incs = np.fromiter(deltas.values(), dtype=np.int64, count=len(deltas))
            code = self.counts.code(keys.DEAL_COUNT_FIELD)
            self.counts.add(np.full(len(cols), code), cols, incs)

    def _owner_col(self, deal: dict[str, object] | None, create: bool) -> int | None:
        if not deal or not isinstance(deal.get("contact_id"), str):
            return None
        return self.ids.col(keys.CONTACT, str(deal["contact_id"]), create=create)  # type: ignore[attr-defined]

    def write_owners(self) -> None:
        """Write changed deal -> owner entries into the per-deal-shard owner arrays."""
        if not self.owners:
            return
        db = self.store.db["bm"]
        version = self.gen.to_bytes(_U64, "big")
        deal_cols = np.fromiter(self.owners.keys(), dtype=np.int64, count=len(self.owners))
        owner_plus_one = (
            np.fromiter(self.owners.values(), dtype=np.int64, count=len(self.owners)) + 1
        )
        for shard in np.unique(deal_cols >> keys.SHARD_BITS).tolist():
            mask = (deal_cols >> keys.SHARD_BITS) == shard
            offsets = deal_cols[mask] - (shard << keys.SHARD_BITS)
            key = keys.bitmap_key(keys.DEAL, keys.OWNER_FIELD, keys.OWNER_SLOT, shard)
            raw = self.txn.get(key, db=db)
            current = (
                np.frombuffer(raw[_U64:], dtype=np.uint32)
                if raw is not None
                else np.zeros(0, np.uint32)
            )
            size = max(len(current), int(offsets.max()) + 1)
            array = np.zeros(size, dtype=np.uint32)
            array[: len(current)] = current
            array[offsets] = owner_plus_one[mask]
            self.txn.put(key, version + array.tobytes(), db=db)
        self.owners = {}

    # -- events ----------------------------------------------------------------------------
    def events(self, chunk: EventColumns) -> None:
        if not self.events_begun:
            self.events_begun = True
            # Events only add to count fields, so everything pending is final now: it is
            # written while the parse process is still reading the events (the longest
            # file), not after their last line with the counts.
            self.apply_counts(force=True)
            self._write_bitmaps()  # type: ignore[attr-defined]
            self.changes = type(self.changes)()
        n = len(chunk)
        col_of = self.ids.col  # type: ignore[attr-defined]
        contact_cols = np.fromiter(
            (col_of(keys.CONTACT, cid, True) for cid in chunk.contact_ids),
            dtype=np.uint32,
            count=len(chunk.contact_ids),
        )  # contacts are numbered in order of first appearance, as the lines come
        cols = contact_cols[chunk.contacts]
        self.dirty.append(contact_cols)  # each contact once, not once per event
        self.counts.events.add(
            cols, chunk.types, chunk.type_names, chunk.campaigns, chunk.campaign_names,
            chunk.times // DAY,
        )
        summary = self.summary.setdefault("events", {"upserted": 0, "patched": 0, "deleted": 0})  # type: ignore[attr-defined]
        summary["upserted"] += n

    def apply_counts(self, force: bool) -> None:
        """Fold pending count increments into their BSIs (bitmaps must be current first)."""
        counts = self.counts
        if not counts.size and not counts.events.size:
            return
        due = counts.size >= PENDING_INCREMENTS or counts.events.size >= PENDING_EVENTS
        if not force and not due:
            return
        self._write_bitmaps()  # type: ignore[attr-defined]
        self.changes = type(self.changes)()

        def emit(field: str, postings: dict[bytes, np.ndarray], remove: bool) -> None:
            self.changes.add(keys.CONTACT, field, postings, remove)

        apply_increments(self.store, self.txn, counts, emit)
        for family in counts.events.take():
            apply_sorted(
                self.store, self.txn, family.fields, family.codes, family.cols, family.incs, emit
            )


def count_field_kind(name: str) -> FieldType | None:
    """Derived contact fields are count BSIs."""
    return FieldType.INT if name.startswith("$") else None
