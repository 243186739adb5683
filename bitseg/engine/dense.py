"""Uncompressed bit arrays of one shard, for counting long ANDs of dense bitmaps.

Roaring keeps a container as a bitset while it holds over 4,096 of its 65,536 values
and as a sorted array below that. An AND of dense operands is cheap while the running
result stays a bitset, but the step that makes it sparse extracts every member into
arrays, and every later step then costs per member (~1.4 ns each): a 10-predicate
rule over 1M contacts spent two thirds of its time there. Over plain words the whole
chain is a fixed pass per operand (~3 us for 1M columns) and one popcount at the end,
whatever the densities. So a count with several operands uses `words_of` (kept in a
`DenseWords` cache by bitmap identity: stored and cached bitmaps are immutable objects,
and the entry holds its bitmap so the identity cannot be reused) and `count_and`.

`words_of` reads the portable serialization (RoaringFormatSpec): bitset containers are
copied as they are, array and run containers set their bits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from pyroaring import FrozenBitMap

from bitseg.engine.bsi import AnyBitMap
from bitseg.store.keys import SHARD_BITS, SHARD_WIDTH

WORDS = SHARD_WIDTH // 64  # uint64 words of one shard
_CONTAINER_WORDS = 1024
_SERIAL_COOKIE_NO_RUN = 12346
_SERIAL_COOKIE = 12347
_NO_OFFSET_THRESHOLD = 4


def words_of(bitmap: AnyBitMap, shard: int) -> np.ndarray:
    """The members of `bitmap` inside `shard` as WORDS little-endian uint64 bit words."""
    out = np.zeros(WORDS, dtype=np.uint64)
    data = bitmap.serialize()
    cookie = int.from_bytes(data[0:4], "little")
    pos = 4
    if cookie & 0xFFFF == _SERIAL_COOKIE:
        size = (cookie >> 16) + 1
        run_flags = np.frombuffer(data, dtype=np.uint8, count=(size + 7) // 8, offset=pos)
        pos += (size + 7) // 8
    elif cookie == _SERIAL_COOKIE_NO_RUN:
        size = int.from_bytes(data[4:8], "little")
        run_flags = None
        pos = 8
    else:
        raise ValueError(f"not a portable roaring serialization (cookie {cookie})")
    header = np.frombuffer(data, dtype="<u2", count=2 * size, offset=pos).astype(np.int64)
    pos += 4 * size
    if run_flags is None or size >= _NO_OFFSET_THRESHOLD:
        pos += 4 * size  # offsets: containers follow one another anyway
    first_key = shard << (SHARD_BITS - 16)
    bits = out.view(np.uint8)
    for i in range(size):
        key, card = int(header[2 * i]), int(header[2 * i + 1]) + 1
        is_run = run_flags is not None and (run_flags[i >> 3] >> (i & 7)) & 1
        start = pos
        if is_run:
            runs = int.from_bytes(data[pos : pos + 2], "little")
            pos += 2 + 4 * runs
        else:
            pos += 8 * _CONTAINER_WORDS if card > 4096 else 2 * card
        slot = key - first_key
        if not 0 <= slot < SHARD_WIDTH >> 16:
            continue
        base = slot * _CONTAINER_WORDS
        if not is_run and card > 4096:  # a bitset container: its words as they are
            out[base : base + _CONTAINER_WORDS] = np.frombuffer(
                data, dtype="<u8", count=_CONTAINER_WORDS, offset=start
            )
            continue
        if is_run:  # (start, length - 1) pairs: +1 where a run starts, -1 past its end
            pairs = np.frombuffer(data, dtype="<u2", count=2 * runs, offset=start + 2)
            firsts = pairs[0::2].astype(np.int64)
            marks = np.zeros((1 << 16) + 1, dtype=np.int32)
            np.add.at(marks, firsts, 1)
            np.add.at(marks, firsts + pairs[1::2] + 1, -1)
            flags = np.cumsum(marks[:-1]) > 0
        else:  # an array container: sorted 16-bit values
            flags = np.zeros(1 << 16, dtype=bool)
            flags[np.frombuffer(data, dtype="<u2", count=card, offset=start)] = True
        bits[base * 8 : (base + _CONTAINER_WORDS) * 8] = np.packbits(flags, bitorder="little")
    return out


def count_and(
    positives: Sequence[np.ndarray], negatives: Sequence[np.ndarray]
) -> int:
    """|p1 & p2 & ... & ~n1 & ~n2 ...| of word arrays (at least one positive)."""
    result = positives[0].copy()
    for words in positives[1:]:
        np.bitwise_and(result, words, out=result)
    scratch = np.empty_like(result)
    for words in negatives:
        np.invert(words, out=scratch)
        np.bitwise_and(result, scratch, out=result)
    return int(np.bitwise_count(result).sum())


class DenseWords:
    """bitmap object -> its word array per shard, an LRU of `max_bytes` of words. An entry
    keeps its bitmap alive (so the identity stays unique), which the bitmap cache may
    have let go: at most about as much again."""

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_entries = max(1, max_bytes // (WORDS * 8))
        self._entries: OrderedDict[tuple[int, int], tuple[AnyBitMap, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, bitmap: AnyBitMap, shard: int) -> np.ndarray:
        key = (id(bitmap), shard)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is bitmap:
                self._entries.move_to_end(key)
                return hit[1]
        words = words_of(bitmap, shard)
        words.flags.writeable = False  # shared by every thread's counts
        if isinstance(bitmap, FrozenBitMap):  # a mutable one may change under its id
            with self._lock:
                self._entries[key] = (bitmap, words)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return words

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
