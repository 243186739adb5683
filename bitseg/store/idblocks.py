"""Column id -> external id as packed blocks in LMDB, read zero-copy through its mmap.

A block holds the external ids of 2**bits consecutive columns of one entity (bits is
recorded in the store when it is created, see `OrgStore.id_block_bits`). It lives in
the `cols` database under `#` + entity + block number (4 bytes, big-endian), next to
the per-column entries, and is written by the writer in the same transaction as the
id assignments, so it is always exactly as current as they are. Its value:

    n (uint32 LE) | offsets (n + 1 uint32 LE, from 0) | data

where entry i is data[offsets[i]:offsets[i + 1]]: the id's UTF-8 followed by "\\n"
(ids hold no control characters), or nothing for a column without an id. Because every
id carries its newline, the packed Resolve answer for a set of columns is the
concatenation of their entries (minus the last newline): gathered per block with
numpy, no Python str per id. Columns are assigned densely and never change their id,
so a batch only ever rewrites the last, partial block and appends new ones.

Readers hold nothing of their own: the blocks are file-backed pages of LMDB's map,
shared by every process and bounded by the page cache, not anonymous memory.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

import lmdb
import numpy as np

BLOCK_BITS = 16  # 65,536 columns a block; a store keeps the value it was created with
BLOCK_PREFIX = b"#"  # sorts before every entity letter of the per-column keys
PACKED_CHUNK_BYTES = 1 << 20

_BLOCK = struct.Struct(">I")
_U32 = np.dtype("<u4")
_EMPTY_BYTES = np.zeros(0, dtype=np.uint8)
_EMPTY_ENDS = np.zeros(0, dtype=np.int64)
_NEWLINE = 10


def block_key(entity: str, block: int) -> bytes:
    return BLOCK_PREFIX + entity.encode() + _BLOCK.pack(block)


def _decode(raw: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a stored block: views of `raw`, no copy."""
    n = int(np.frombuffer(raw, _U32, count=1)[0])
    offsets = np.frombuffer(raw, _U32, count=n + 1, offset=4)
    return offsets, np.frombuffer(raw, np.uint8, offset=4 * (n + 2))


def _encode(offsets: np.ndarray, data: bytes) -> bytes:
    n = len(offsets) - 1
    return b"".join((struct.pack("<I", n), offsets.astype(_U32).tobytes(), data))


# -- write side ------------------------------------------------------------------------------


def append_ids(
    txn: lmdb.Transaction, db: lmdb._Database, entity: str, bits: int,
    cols: Sequence[int], ids: Sequence[str],
) -> None:
    """Add the ids of newly assigned columns (ascending, each past every column the
    blocks already cover). A column skipped over gets an empty entry: no id."""
    if not cols:
        return
    width = 1 << bits
    col_array = np.asarray(cols, dtype=np.int64)
    if np.any(np.diff(col_array) <= 0):
        raise ValueError("id blocks: new columns must be ascending")
    # One encode for the whole flush; the newlines give every id's end offset.
    data = ("\n".join(ids) + "\n").encode()
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _NEWLINE) + 1
    if len(ends) != len(col_array):
        raise ValueError("id blocks: an external id contains a line break")
    first, last = int(col_array[0]) >> bits, int(col_array[-1]) >> bits
    bounds = np.searchsorted(col_array, np.arange(first, last + 2, dtype=np.int64) * width)
    for block, lo, hi in zip(range(first, last + 1), bounds[:-1], bounds[1:], strict=True):
        if lo == hi:
            continue
        key = block_key(entity, block)
        old = txn.get(key, db=db)
        old_offsets, old_data = _decode(old) if old is not None else (np.zeros(1, _U32), b"")
        have = len(old_offsets) - 1
        local = col_array[lo:hi] - block * width
        if local[0] < have:
            raise ValueError(f"id blocks: column {block * width + local[0]} already has an id")
        base = int(ends[lo - 1]) if lo else 0
        # Entry ends relative to the new data; gaps repeat the previous end (empty entries).
        new_ends = np.zeros(int(local[-1]) + 1 - have, dtype=np.int64)
        new_ends[local - have] = ends[lo:hi] - base
        np.maximum.accumulate(new_ends, out=new_ends)
        offsets = np.concatenate((old_offsets.astype(np.int64), int(old_offsets[-1]) + new_ends))
        payload = bytes(old_data) + data[base : int(ends[hi - 1])]
        txn.put(key, _encode(offsets, payload), db=db)


# -- read side -------------------------------------------------------------------------------


class IdBlocks:
    """An entity's id blocks inside one read (or write) transaction. Everything it
    returns is copied out of the map: valid after the transaction ends."""

    def __init__(self, txn: lmdb.Transaction, db: lmdb._Database, entity: str, bits: int) -> None:
        self.txn = txn
        self.db = db
        self.entity = entity
        self.bits = bits

    def _block(self, block: int) -> tuple[np.ndarray, np.ndarray] | None:
        raw = self.txn.get(block_key(self.entity, block), db=self.db)
        return _decode(raw) if raw is not None else None

    def gather(self, cols: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per block touched by `cols` (ascending uint32): the entries of those columns
        concatenated (newline-terminated ids) and each entry's end in it (int64)."""
        if len(cols) == 0:
            return
        bits = self.bits
        first, last = int(cols[0]) >> bits, int(cols[-1]) >> bits
        bounds = np.searchsorted(cols, np.arange(first, last + 2, dtype=np.int64) << bits)
        for block, lo, hi in zip(range(first, last + 1), bounds[:-1], bounds[1:], strict=True):
            if lo == hi:
                continue
            stored = self._block(block)
            if stored is None:  # no column of this block was ever assigned: no ids
                continue
            local = cols[lo:hi].astype(np.int64) - (block << bits)
            yield _gather(*stored, local)

    def packed(
        self, cols: np.ndarray, chunk_bytes: int = PACKED_CHUNK_BYTES
    ) -> tuple[list[bytes], int]:
        """The ids of `cols` as newline-joined UTF-8 pieces of at most `chunk_bytes`
        (whole ids; no trailing newline), and how many ids they hold."""
        pieces: list[bytes] = []
        parts: list[np.ndarray] = []
        size = total = 0
        for out, ends in self.gather(cols):
            total += len(ends) - int(np.count_nonzero(np.diff(ends, prepend=0) == 0))
            while len(out):
                room = chunk_bytes + 1 - size  # + 1: a piece's last newline is dropped
                if len(out) <= room:
                    parts.append(out)
                    size += len(out)
                    break
                fit = int(np.searchsorted(ends, room, side="right"))
                cut = int(ends[fit - 1]) if fit else 0
                if cut == 0 and size == 0:  # one id longer than a piece: it goes alone
                    fit, cut = 1, int(ends[0])
                if cut:
                    parts.append(out[:cut])
                pieces.append(_join(parts))
                parts, size = [], 0
                out, ends = out[cut:], ends[fit:] - cut
        if parts:
            pieces.append(_join(parts))
        return [p for p in pieces if p], total

    def ids(self, cols: np.ndarray) -> list[str]:
        """The ids of `cols` as str (columns without an id are left out)."""
        out: list[str] = []
        for data, _ends in self.gather(cols):
            if len(data):
                out.extend(data[:-1].tobytes().decode().split("\n"))
        # An empty entry gathers as nothing, never as an empty line, so no "" appears.
        return out


def _gather(
    offsets: np.ndarray, data: np.ndarray, local: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The entries `local` (ascending block positions) of one block, copied out."""
    n = len(offsets) - 1
    if local[-1] >= n:  # past the block's end: columns without an id
        local = local[: int(np.searchsorted(local, n))]
        if len(local) == 0:
            return _EMPTY_BYTES, _EMPTY_ENDS
    starts = offsets[local].astype(np.int64)
    lens = offsets[local + 1].astype(np.int64) - starts
    ends = np.cumsum(lens)
    if int(local[-1]) - int(local[0]) + 1 == len(local):  # one run of columns: one slice
        out = data[int(starts[0]) : int(starts[0]) + int(ends[-1])].copy()
    elif len(local) * 2 >= n:  # dense (measured crossover): mask the block's bytes
        keep = np.zeros(n, dtype=bool)
        keep[local] = True
        out = data[: int(offsets[n])][np.repeat(keep, np.diff(offsets).astype(np.int64))]
    else:  # sparse: gather each entry's bytes by index
        index = np.repeat(starts - (ends - lens), lens) + np.arange(int(ends[-1]), dtype=np.int64)
        out = data[index]
    return out, ends


def _join(parts: list[np.ndarray]) -> bytes:
    """One piece: the parts' bytes without the last entry's newline."""
    joined = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return joined[:-1].tobytes()


def pack_strs(ids: list[str], chunk_bytes: int = PACKED_CHUNK_BYTES) -> list[bytes]:
    """`IdBlocks.packed` for ids already made str (small answers, older stores)."""
    if not ids:
        return []
    data = "\n".join(ids).encode()
    if len(data) <= chunk_bytes:
        return [data]
    pieces = max(1, -(-len(data) // chunk_bytes))
    # About equal pieces by count; a piece over the limit (long ids) is halved again.
    step = max(1, -(-len(ids) // pieces))
    out: list[bytes] = []
    for start in range(0, len(ids), step):
        part = ids[start : start + step]
        out.extend(pack_strs(part, chunk_bytes) if len(part) > 1 else ["\n".join(part).encode()])
    return out
