"""Static segment members: contact bitmaps in the "bm" database, written in a write txn.

Members are stored as column ids (see `layout`), one bitmap per shard, each value the
8-byte version (the write transaction's generation) followed by the serialized
roaring bitmap, exactly like the indexer's bitmaps. Members are added and removed by
external contact id; an id that is no live contact is reported back, never stored.
Answers are the stored set intersected with the live contacts, so a deleted contact
leaves every static segment at once (a contact re-created under the same id lands in
its old column and is a member again).
Reading members for queries goes through the engine (`ReadView`, cached); the raw
reads here are for write transactions, which must not touch the shared cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import lmdb
from pyroaring import BitMap, FrozenBitMap

from bitseg.segments.layout import MEMBER_SLOT, member_field
from bitseg.store import OrgStore, keys
from bitseg.store.orgstore import next_col_key

MAX_REPORTED = 1_000  # unknown ids listed back in one answer (all are counted)
_VERSION = 8

AnyBitMap = BitMap | FrozenBitMap


@dataclass(frozen=True)
class MemberChange:
    """What add/remove did: `changed` contacts added (removed), `unchanged` ones already
    in (not in) the segment, and the ids that are no live contact."""

    changed: int = 0
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)  # at most MAX_REPORTED, input order
    unknown_count: int = 0


class Members:
    """Static members of one org's segments inside one write transaction."""

    def __init__(
        self, store: OrgStore, txn: lmdb.Transaction, field_of: Callable[[str], str] = member_field
    ) -> None:
        self.store = store
        self.txn = txn
        self.field_of = field_of  # static members by default; tracking keeps other sets
        self.bm = store.db["bm"]
        self.ids = store.db["ids"]
        self._live: dict[int, BitMap] = {}

    def contacts(self, external_ids: Iterable[str]) -> tuple[BitMap, list[str], int]:
        """(columns of the live contacts among `external_ids`, unknown ids, their count)."""
        cols = BitMap()
        unknown: list[str] = []
        unknown_count = 0
        seen: set[str] = set()
        for ext_id in external_ids:
            if ext_id in seen:
                continue
            seen.add(ext_id)
            col = self._column(ext_id)
            if col is None:
                unknown_count += 1
                if len(unknown) < MAX_REPORTED:
                    unknown.append(ext_id)
            else:
                cols.add(col)
        return cols, unknown, unknown_count

    def _column(self, ext_id: str) -> int | None:
        if not ext_id or "\x00" in ext_id or len(ext_id.encode()) > 480:
            return None
        raw = self.txn.get(keys.id_key(keys.CONTACT, ext_id), db=self.ids)
        if raw is None:
            return None
        col = keys.unpack_col(bytes(raw))
        return col if col in self._live_shard(col >> keys.SHARD_BITS) else None

    def _live_shard(self, shard: int) -> BitMap:
        live = self._live.get(shard)
        if live is None:
            live = self._read(keys.bitmap_key(keys.CONTACT, "", keys.LIVE, shard))
            self._live[shard] = live
        return live

    def change(self, segment_id: str, external_ids: Iterable[str], remove: bool) -> MemberChange:
        """Add (or remove) the contacts `external_ids` to (from) a static segment."""
        cols, unknown, unknown_count = self.contacts(external_ids)
        changed = 0
        for shard, part in _shards(cols):
            key = self._key(segment_id, shard)
            current = self._read(key)
            before = len(current)
            if remove:
                current.difference_update(part)
                changed += before - len(current)
            else:
                current.update(part)
                changed += len(current) - before
            self._write(key, current)
        return MemberChange(changed, len(cols) - changed, unknown, unknown_count)

    def replace(self, segment_id: str, cols: AnyBitMap) -> None:
        """Make `cols` the whole member set of a segment (for export and duplicate)."""
        self.delete(segment_id)
        for shard, part in _shards(cols):
            self._write(self._key(segment_id, shard), part)

    def read(self, segment_id: str) -> BitMap:
        """Every stored member column (not filtered by liveness)."""
        out = BitMap()
        for shard in range(self._shard_count()):
            out |= self._read(self._key(segment_id, shard))
        return out

    def delete(self, segment_id: str) -> None:
        """Remove every member bitmap of a segment."""
        prefix = keys.field_prefix(keys.CONTACT, self.field_of(segment_id)) + MEMBER_SLOT
        cursor = self.txn.cursor(db=self.bm)
        doomed: list[bytes] = []
        if cursor.set_range(prefix):
            for key in cursor.iternext(values=False):
                key = bytes(key)
                if not key.startswith(prefix):
                    break
                doomed.append(key)
        for key in doomed:
            self.txn.delete(key, db=self.bm)

    def _shard_count(self) -> int:
        next_col = self.store.get_u32(self.txn, next_col_key(keys.CONTACT))
        return (next_col + keys.SHARD_WIDTH - 1) >> keys.SHARD_BITS

    def _key(self, segment_id: str, shard: int) -> bytes:
        return keys.bitmap_key(keys.CONTACT, self.field_of(segment_id), MEMBER_SLOT, shard)

    def _read(self, key: bytes) -> BitMap:
        raw = self.txn.get(key, db=self.bm)
        return BitMap.deserialize(bytes(raw[_VERSION:])) if raw is not None else BitMap()

    def _write(self, key: bytes, bitmap: AnyBitMap) -> None:
        if not bitmap:
            self.txn.delete(key, db=self.bm)
            return
        stored = BitMap(bitmap)
        stored.run_optimize()
        version = self.store.generation(self.txn).to_bytes(_VERSION, "big")
        self.txn.put(key, version + stored.serialize(), db=self.bm)


def _shards(cols: AnyBitMap) -> list[tuple[int, AnyBitMap]]:
    """`cols` split by shard (column id >> 20), in shard order."""
    if not cols:
        return []
    first, last = cols.min() >> keys.SHARD_BITS, cols.max() >> keys.SHARD_BITS
    if first == last:
        return [(first, cols)]
    out: list[tuple[int, AnyBitMap]] = []
    for shard in range(first, last + 1):
        window = BitMap()
        window.add_range(shard << keys.SHARD_BITS, (shard + 1) << keys.SHARD_BITS)
        part = cols & window
        if part:
            out.append((shard, part))
    return out
