"""One org's LMDB environment: its named databases, its meta values and its bitmap cache.

Databases: `meta` (generation, schema, counters), `bm` (bitmaps, see keys.py),
`ids` (entity + external id -> column id), `cols` (entity + column id -> external id,
and the same packed in blocks of columns: bitseg.store.idblocks),
`rec` (entity + column id -> stored record as JSON), `txt` (lower-cased text values
for the exact check behind n-gram narrowing). Every committed write transaction bumps
the generation, which readers use to revalidate their caches cheaply.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import lmdb
import orjson

from bitseg.engine.dense import DenseWords
from bitseg.engine.results import LeafResults
from bitseg.errors import InvalidArgument
from bitseg.schema import OrgSchema
from bitseg.store import idblocks, rangekeys
from bitseg.store.cache import BitmapCache
from bitseg.store.idtable import IdTable

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
_ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

DEFAULT_MAP_SIZE = 1 << 40  # sparse on Linux; the file grows with the data
DB_NAMES = ("meta", "bm", "ids", "cols", "rec", "txt", "seg", "log", "hooks")

GEN_KEY = b"gen"
SCHEMA_KEY = b"schema"
RANGE_INDEX_KEY = b"range-index"  # set in stores whose int/time fields have a range index
ID_BLOCKS_KEY = b"id-blocks"  # set (to the block bits) in stores that keep id blocks
_RECORD_ENTITIES = ("c", "o", "d")
_ID_ENTITIES = ("c", "o", "d", "m")  # every entity that is assigned columns


CACHE_ENV = "BITSEG_CACHE_MB"
DEFAULT_CACHE_MB = 1024


def cache_bytes_from_env() -> int:
    """The per-org cache budget: `BITSEG_CACHE_MB` (MiB; default 1024)."""
    raw = os.environ.get(CACHE_ENV, "").strip()
    try:
        mb = int(raw) if raw else DEFAULT_CACHE_MB
    except ValueError:
        raise InvalidArgument(f"{CACHE_ENV}: expected a whole number of MiB, got {raw!r}") from None
    if mb < 1:
        raise InvalidArgument(f"{CACHE_ENV}: must be at least 1 (MiB), got {mb}")
    return mb << 20


def valid_org_name(org: str) -> bool:
    return bool(_ORG_NAME.match(org))


def check_org_name(org: str) -> None:
    if not valid_org_name(org):
        raise InvalidArgument(
            f'org: "{org}" is not a valid org name (letters, digits, "_", "-", "."; at most 64)'
        )


def depth_key(entity: str, field: str) -> bytes:
    return f"depth\x00{entity}\x00{field}".encode()


def next_col_key(entity: str) -> bytes:
    return f"next\x00{entity}".encode()


class OrgStore:
    """An open org environment. Thread-safe for readers; one writer thread at a time."""

    def __init__(
        self, path: Path, map_size: int = DEFAULT_MAP_SIZE, cache_bytes: int | None = None
    ):
        if cache_bytes is None:
            cache_bytes = cache_bytes_from_env()
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.env = lmdb.open(
            str(path),
            map_size=map_size,
            max_dbs=len(DB_NAMES) + 2,
            max_readers=512,
            readahead=False,
            metasync=True,
            sync=True,
        )
        self.db = {name: self.env.open_db(name.encode()) for name in DB_NAMES}
        # What a reader process holds of an org beyond LMDB's page cache: deserialized
        # bitmaps, and cached leaf answers within an eighth of the same budget.
        self.cache = BitmapCache(cache_bytes)
        self.vocab_cache: dict[tuple[str, str, bytes], tuple[int, list[str]]] = {}
        self._id_tables: dict[str, IdTable] = {}
        self.leaf_results = LeafResults(max_bytes=max(cache_bytes // 8, 1 << 20))
        self.dense_words = DenseWords(max_bytes=max(cache_bytes // 16, 1 << 20))
        self.commit_listeners: list[Callable[[str], None]] = []  # called with the org name
        self.write_lock = threading.Lock()
        self._schema: tuple[int, OrgSchema] = (-1, OrgSchema())

    def id_table(self, entity: str) -> IdTable:
        table = self._id_tables.get(entity)
        if table is None:
            table = self._id_tables.setdefault(entity, IdTable(entity))
        return table

    def close(self) -> None:
        self.env.close()

    @contextmanager
    def read(self) -> Iterator[lmdb.Transaction]:
        with self.env.begin(buffers=True) as txn:
            yield txn

    @contextmanager
    def write(self) -> Iterator[lmdb.Transaction]:
        """One atomic write transaction; the generation is bumped inside it. Commit
        listeners run after it committed (not after an abort)."""
        with self.write_lock:
            with self.env.begin(write=True) as txn:
                gen = self.generation(txn) + 1
                txn.put(GEN_KEY, _U64.pack(gen), db=self.db["meta"])
                yield txn
            for listener in list(self.commit_listeners):
                listener(self.path.name)

    def generation(self, txn: lmdb.Transaction) -> int:
        raw = txn.get(GEN_KEY, db=self.db["meta"])
        return _U64.unpack(raw)[0] if raw is not None else 0

    def schema(self, txn: lmdb.Transaction) -> OrgSchema:
        gen = self.generation(txn)
        cached_gen, schema = self._schema  # one tuple: readers on other threads see a pair
        if gen != cached_gen:
            raw = txn.get(SCHEMA_KEY, db=self.db["meta"])
            schema = OrgSchema.from_json(orjson.loads(bytes(raw))) if raw else OrgSchema()
            self._schema = (gen, schema)
        return schema

    def put_schema(self, txn: lmdb.Transaction, schema: OrgSchema) -> None:
        txn.put(SCHEMA_KEY, orjson.dumps(schema.to_json()), db=self.db["meta"])

    def has_range_index(self, txn: lmdb.Transaction) -> bool:
        """Whether int/time fields keep a range index in this version's layout."""
        return txn.get(RANGE_INDEX_KEY, db=self.db["meta"]) == rangekeys.LAYOUT

    def start_range_index(self, txn: lmdb.Transaction) -> None:
        """Stores created by this version keep a range index from their first record on;
        an older store (records but no flag, or the flag of an older layout of levels)
        goes on answering ranges from the bit-sliced index alone, and its writes leave
        the old index alone."""
        if txn.get(RANGE_INDEX_KEY, db=self.db["meta"]) is not None:
            return
        if all(self.get_u32(txn, next_col_key(e)) == 0 for e in _RECORD_ENTITIES):
            txn.put(RANGE_INDEX_KEY, rangekeys.LAYOUT, db=self.db["meta"])

    def id_block_bits(self, txn: lmdb.Transaction) -> int:
        """log2 of the columns an id block covers in this store; 0: no id blocks."""
        raw = txn.get(ID_BLOCKS_KEY, db=self.db["meta"])
        return raw[0] if raw is not None else 0

    def start_id_blocks(self, txn: lmdb.Transaction) -> int:
        """Stores created by this version keep id blocks from their first column on (with
        the block size of the day, recorded); an older store (columns but no flag) goes on
        translating through the `cols` entries. The store's block bits, or 0."""
        bits = self.id_block_bits(txn)
        if bits == 0 and all(self.get_u32(txn, next_col_key(e)) == 0 for e in _ID_ENTITIES):
            bits = idblocks.BLOCK_BITS
            txn.put(ID_BLOCKS_KEY, bytes((bits,)), db=self.db["meta"])
        return bits

    def get_u32(self, txn: lmdb.Transaction, key: bytes) -> int:
        raw = txn.get(key, db=self.db["meta"])
        return _U32.unpack(raw)[0] if raw is not None else 0

    def put_u32(self, txn: lmdb.Transaction, key: bytes, value: int) -> None:
        txn.put(key, _U32.pack(value), db=self.db["meta"])


def open_store(data_dir: Path, org: str, create: bool, **kwargs: int) -> OrgStore | None:
    """The org's store, or None if it does not exist and `create` is false."""
    check_org_name(org)
    path = data_dir / org
    if not create and not (path / "data.mdb").exists():
        return None
    return OrgStore(path, **kwargs)
