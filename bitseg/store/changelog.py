"""The durable, ordered change log of one org: `segment.joined` / `segment.left` entries.

Entries live in the org's "log" database under their sequence number (8 bytes,
big-endian, so LMDB order is sequence order). Sequence numbers start at 1 and have no
gaps: they are assigned from the `logseq` meta counter inside the same write
transaction as the change that caused them, so an entry exists if and only if its
cause was committed. Each entry is JSON:
  {"seq": 17, "type": "segment.joined", "segment_id": "seg_…", "segment": "VIP",
   "contact_id": "c42", "at": "2026-11-20T12:00:00Z", "cause": "write" | "time" | "segment"}
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

import lmdb
import orjson

from bitseg.store.orgstore import OrgStore

LOG_SEQ_KEY = b"logseq"
_SEQ = struct.Struct(">Q")

JOINED = "segment.joined"
LEFT = "segment.left"


def last_seq(store: OrgStore, txn: lmdb.Transaction) -> int:
    raw = txn.get(LOG_SEQ_KEY, db=store.db["meta"])
    return _SEQ.unpack(bytes(raw))[0] if raw is not None else 0


def append(store: OrgStore, txn: lmdb.Transaction, entries: Iterable[dict[str, object]]) -> int:
    """Append entries (seq is assigned here); returns the last sequence number."""
    seq = last_seq(store, txn)
    db = store.db["log"]
    cursor = txn.cursor(db=db)
    for entry in entries:
        seq += 1
        entry["seq"] = seq
        cursor.put(_SEQ.pack(seq), orjson.dumps(entry), append=True)
    txn.put(LOG_SEQ_KEY, _SEQ.pack(seq), db=store.db["meta"])
    return seq


def read_after(
    store: OrgStore, txn: lmdb.Transaction, after: int, limit: int = 10_000
) -> Iterator[dict[str, object]]:
    """Entries with seq > `after`, in order, at most `limit`."""
    cursor = txn.cursor(db=store.db["log"])
    if not cursor.set_range(_SEQ.pack(after + 1)):
        return
    for count, value in enumerate(cursor.iternext(keys=False)):
        if count >= limit:
            return
        yield orjson.loads(bytes(value))


def read_backwards(store: OrgStore, txn: lmdb.Transaction) -> Iterator[dict[str, object]]:
    """Every entry, newest first."""
    cursor = txn.cursor(db=store.db["log"])
    if not cursor.last():
        return
    for value in cursor.iterprev(keys=False):
        yield orjson.loads(bytes(value))
