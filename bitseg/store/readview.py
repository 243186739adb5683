"""A consistent read of one org at one LMDB snapshot: what the engine evaluates against.

`ReadView` implements the engine's `BitmapSource` protocol: bitmaps by
(entity, field, slot, shard) through the org's cache, bit-slice depths, the value
and n-gram vocabularies of a field, lower-cased text values for exact checks, and
the id/record lookups that turn column ids back into members (many at once from the
store's id blocks, bitseg.store.idblocks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import lmdb
import numpy as np
import orjson
from pyroaring import BitMap, FrozenBitMap

from bitseg.schema import OrgSchema
from bitseg.store import keys
from bitseg.store.idblocks import PACKED_CHUNK_BYTES, IdBlocks, pack_strs
from bitseg.store.orgstore import SCHEMA_KEY, OrgStore, depth_key, next_col_key

BULK_MIN = 2_000  # fewer members are translated one `cols` entry at a time


class ReadView:
    """Reads of one org inside one read transaction (valid only while it is open)."""

    def __init__(self, store: OrgStore, txn: lmdb.Transaction) -> None:
        self.store = store
        self.txn = txn
        self.gen = store.generation(txn)
        self._bm = store.db["bm"]
        bm = self._bm  # not `self`: a closure over the view would keep it (and its
        self._fetch = lambda key: txn.get(key, db=bm)  # read transaction) alive until GC
        self._vocab: dict[tuple[str, str, bytes], list[str]] = {}
        self._range_index: bool | None = None

    @property
    def schema(self) -> OrgSchema:
        return self.store.schema(self.txn)

    def bitmap(self, entity: str, field: str, slot: bytes, shard: int) -> FrozenBitMap:
        return self.store.cache.get(
            keys.bitmap_key(entity, field, slot, shard), self.gen, self._fetch
        )

    def live(self, entity: str, shard: int) -> FrozenBitMap:
        return self.bitmap(entity, "", keys.LIVE, shard)

    def shard_count(self, entity: str) -> int:
        """Shards in use: enough to cover every column id ever assigned."""
        next_col = self.store.get_u32(self.txn, next_col_key(entity))
        return (next_col + keys.SHARD_WIDTH - 1) >> keys.SHARD_BITS

    def bsi_depth(self, entity: str, field: str) -> int:
        raw = self.txn.get(depth_key(entity, field), db=self.store.db["meta"])
        return raw[0] if raw is not None else 0

    @property
    def range_index(self) -> bool:
        if self._range_index is None:
            self._range_index = self.store.has_range_index(self.txn)
        return self._range_index

    def slots_between(
        self, entity: str, field: str, start: bytes, end: bytes, limit: int = 64
    ) -> list[bytes]:
        """Slots in [start, end) of `field` that hold a bitmap (at most `limit`), in
        order. Start and end are slots of one shape and length (e.g. range-index slots)."""
        prefix = keys.field_prefix(entity, field)
        stop = prefix + end
        found: list[bytes] = []
        cursor = self.txn.cursor(db=self._bm)
        if not cursor.set_range(prefix + start):
            return found
        skip = len(prefix)
        for key in cursor.iternext(values=False):
            slot_end = bytes(key[:-2])
            if slot_end >= stop or not slot_end.startswith(prefix):
                break
            found.append(slot_end[skip:])
            if len(found) >= limit:
                break
        return found

    def _shared(self, memo_key: tuple[str, str, bytes], compute: Callable[[], Any]) -> Any:
        """A per-generation value shared by every reader of the store."""
        cached = self.store.vocab_cache.get(memo_key)
        if cached is not None and cached[0] == self.gen:
            return cached[1]
        value = compute()
        self.store.vocab_cache[memo_key] = (self.gen, value)
        return value

    def vocabulary(self, entity: str, field: str, slot_kind: bytes) -> list[str]:
        """Distinct values (slot_kind VALUE) or n-grams (GRAM) a field has in any shard."""
        memo_key = (entity, field, slot_kind)
        if memo_key not in self._vocab:
            self._vocab[memo_key] = self._shared(
                memo_key, lambda: self._scan_vocabulary(entity, field, slot_kind)
            )
        return self._vocab[memo_key]

    def _scan_vocabulary(self, entity: str, field: str, slot_kind: bytes) -> list[str]:
        prefix = keys.field_prefix(entity, field) + slot_kind
        found: dict[str, None] = {}
        cursor = self.txn.cursor(db=self._bm)
        if cursor.set_range(prefix):
            for key in cursor.iternext(values=False):
                key = bytes(key)
                if not key.startswith(prefix):
                    break
                found[key[len(prefix) : -2].decode()] = None
        return list(found)

    def owner_array(self, deal_shard: int) -> np.ndarray:
        key = keys.bitmap_key(keys.DEAL, keys.OWNER_FIELD, keys.OWNER_SLOT, deal_shard)
        return self.store.cache.get(key, self.gen, self._fetch, decode=_owner_array)

    def campaigns(self) -> list[tuple[str, int | None]]:
        return self._shared(("m", "", b"campaigns"), self._scan_campaigns)  # type: ignore[no-any-return]

    def _scan_campaigns(self) -> list[tuple[str, int | None]]:
        prefix = keys.CAMPAIGN.encode()
        found: list[tuple[str, int | None]] = []
        cursor = self.txn.cursor(db=self.store.db["rec"])
        if cursor.set_range(prefix):
            for key, value in cursor.iternext():
                if not bytes(key).startswith(prefix) or len(key) != len(prefix) + 4:
                    break
                record = orjson.loads(bytes(value))
                sent_at = record.get("sent_at")
                found.append((record["id"], sent_at if isinstance(sent_at, int) else None))
        found.sort(key=lambda c: (c[1] if c[1] is not None else -(2**62), c[0]))
        return found

    def field_suffixes(self, entity: str, prefix: str) -> list[str]:
        return self._shared(  # type: ignore[no-any-return]
            (entity, prefix, b"fields"), lambda: self._scan_fields(entity, prefix)
        )

    def _scan_fields(self, entity: str, prefix: str) -> list[str]:
        start = f"{entity}\x00{prefix}".encode()
        found: list[str] = []
        cursor = self.txn.cursor(db=self._bm)
        ok = cursor.set_range(start)
        while ok:
            key = bytes(cursor.key())
            if not key.startswith(start):
                break
            end = key.index(b"\x00", len(start))
            found.append(key[len(start) : end].decode())
            ok = cursor.set_range(key[:end] + b"\x01")  # skip this field's other slots
        return found

    def text_values(self, entity: str, field: str, cols: Iterable[int]) -> dict[int, str]:
        """Lower-cased stored text of `field` for each of `cols` that has one."""
        db = self.store.db["txt"]
        out: dict[int, str] = {}
        for col in cols:
            raw = self.txn.get(keys.text_key(entity, field, col), db=db)
            if raw is not None:
                out[col] = bytes(raw).decode()
        return out

    def external_ids(self, entity: str, cols: Iterable[int]) -> list[str]:
        db = self.store.db["cols"]
        get = self.txn.get
        return [bytes(get(keys.col_key(entity, col), db=db)).decode() for col in cols]

    def _id_blocks(self, entity: str) -> IdBlocks | None:
        """The entity's id blocks, or None in a store created before them."""
        bits = self.store.id_block_bits(self.txn)
        return IdBlocks(self.txn, self.store.db["cols"], entity, bits) if bits else None

    def external_ids_bulk(self, entity: str, members: BitMap | FrozenBitMap) -> list[str]:
        """External ids of many columns at once: from the id blocks, or (older stores)
        through the org's in-memory id table."""
        if len(members) < BULK_MIN:
            return self.external_ids(entity, members)
        cols = np.frombuffer(members.to_array(), dtype=np.uint32)
        blocks = self._id_blocks(entity)
        if blocks is not None:
            return blocks.ids(cols)
        return self._legacy_ids(entity, cols)

    def _legacy_ids(self, entity: str, cols: np.ndarray) -> list[str]:
        next_col = self.store.get_u32(self.txn, next_col_key(entity))
        table = self.store.id_table(entity).ids(self.txn, self.store.db["cols"], next_col)
        return table[cols].tolist()

    def packed_ids(
        self, entity: str, members: BitMap | FrozenBitMap, chunk_bytes: int = PACKED_CHUNK_BYTES
    ) -> tuple[list[bytes], int]:
        """The external ids of `members` as newline-joined UTF-8 pieces of at most
        `chunk_bytes` (whole ids, no trailing newline; copied out of the transaction),
        and how many ids they hold. With id blocks no Python str is made per id."""
        blocks = self._id_blocks(entity)
        if blocks is not None and len(members) >= BULK_MIN:
            return blocks.packed(np.frombuffer(members.to_array(), dtype=np.uint32), chunk_bytes)
        ids = self.external_ids_bulk(entity, members)
        return pack_strs(ids, chunk_bytes), len(ids)

    def column_of(self, entity: str, external_id: str) -> int | None:
        raw = self.txn.get(keys.id_key(entity, external_id), db=self.store.db["ids"])
        return keys.unpack_col(bytes(raw)) if raw is not None else None

    def record(self, entity: str, col: int) -> dict[str, object] | None:
        raw = self.txn.get(keys.col_key(entity, col), db=self.store.db["rec"])
        return orjson.loads(bytes(raw)) if raw is not None else None


class WriteView(ReadView):
    """Reads inside a write transaction: they see its uncommitted changes, and nothing
    they read is put in the store's shared caches (the transaction may still abort, and
    its generation number would then be reused for different data)."""

    def __init__(self, store: OrgStore, txn: lmdb.Transaction) -> None:
        super().__init__(store, txn)
        self._new_version = self.gen.to_bytes(8, "big")
        self._committed_gen = self.gen - 1
        self._fresh: dict[bytes, Any] = {}  # written by this transaction, deserialized once

    @property
    def schema(self) -> OrgSchema:
        raw = self.txn.get(SCHEMA_KEY, db=self.store.db["meta"])
        return OrgSchema.from_json(orjson.loads(bytes(raw))) if raw else OrgSchema()

    def _versioned(self, key: bytes, decode: Callable[[Any], Any] | None) -> Any:
        hit = self._fresh.get(key)
        if hit is not None:
            return hit
        raw = self.txn.get(key, db=self._bm)
        if raw is None:  # absent now (maybe deleted by this transaction): never the cache
            return decode(None) if decode else FrozenBitMap()
        if bytes(raw[:8]) == self._new_version:
            body = raw[8:]
            value = decode(body) if decode else FrozenBitMap.deserialize(body)
            if b"\x00$current." not in key and b"\x00$ever." not in key:
                self._fresh[key] = value  # change detection rewrites only those two kinds
            return value
        # Unchanged by this transaction: the committed value, so the shared cache is right.
        return self.store.cache.get(key, self._committed_gen, self._fetch, decode=decode)

    def bitmap(self, entity: str, field: str, slot: bytes, shard: int) -> FrozenBitMap:
        return self._versioned(keys.bitmap_key(entity, field, slot, shard), None)  # type: ignore[no-any-return]

    def owner_array(self, deal_shard: int) -> np.ndarray:
        key = keys.bitmap_key(keys.DEAL, keys.OWNER_FIELD, keys.OWNER_SLOT, deal_shard)
        return self._versioned(key, _owner_array)  # type: ignore[no-any-return]

    def _shared(self, memo_key: tuple[str, str, bytes], compute: Callable[[], Any]) -> Any:
        return compute()

    def _legacy_ids(self, entity: str, cols: np.ndarray) -> list[str]:
        return self.external_ids(entity, cols.tolist())  # the id table must not see aborted ids


def _owner_array(raw: memoryview | None) -> np.ndarray:
    if raw is None:
        return np.zeros(0, dtype=np.uint32)
    return np.frombuffer(bytes(raw), dtype=np.uint32)


def union(bitmaps: list[FrozenBitMap]) -> FrozenBitMap | BitMap:
    if not bitmaps:
        return FrozenBitMap()
    if len(bitmaps) == 1:
        return bitmaps[0]
    return FrozenBitMap.union(*bitmaps)
