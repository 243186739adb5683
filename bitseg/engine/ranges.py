"""Int and time ranges answered from the range index (layout in bitseg.store.rangekeys).

`lo <= value <= hi` is `at_least(lo) - at_least(hi + 1)`, and `at_least(t)` is a union
of a handful of bitmaps: the cumulative bitmap of the next stored coarse bucket above
t's, the equality buckets above t's inside each enclosing bucket (at most 7 per level),
and the part of t's finest bucket at or above t (the whole bucket when it holds a single
int value, else an exact bit-sliced check on its few columns). A range costs one dense
operation and a few small ones instead of two or three per bit of the bit-sliced index.
"""

from __future__ import annotations

from pyroaring import BitMap, FrozenBitMap

from bitseg.engine.bsi import AnyBitMap, bsi_range
from bitseg.engine.source import BitmapSource
from bitseg.rules.vocab import INT_MAX, INT_MIN
from bitseg.schema import FieldType
from bitseg.store import keys
from bitseg.store.rangekeys import (
    cumulative_slot,
    equal_slot,
    levels,
    order_key,
)

_TOP = (1 << 64) - 1


def index_range(
    src: BitmapSource, entity: str, field: str, kind: FieldType, lo: int, hi: int, shard: int
) -> AnyBitMap:
    """Columns of `shard` whose value v satisfies lo <= v <= hi."""
    if lo > hi:
        return BitMap()
    if lo <= INT_MIN:
        result: AnyBitMap = src.bitmap(entity, field, keys.EXISTS, shard)
    else:
        result = at_least(src, entity, field, kind, lo, shard)
    if hi < INT_MAX and result:
        above = at_least(src, entity, field, kind, hi + 1, shard)
        if above:
            result = result - above
    return result


def at_least(
    src: BitmapSource, entity: str, field: str, kind: FieldType, t: int, shard: int
) -> AnyBitMap:
    lv = levels(kind)
    kt = order_key(kind, t)
    parts: list[AnyBitMap] = []
    coarse = kt >> lv.coarse
    if coarse < _TOP >> lv.coarse:
        nxt = src.slots_between(
            entity, field, cumulative_slot(shard, coarse + 1), _after(cumulative_slot(shard, _TOP)), 1
        )
        if nxt:
            parts.append(src.bitmap(entity, field, nxt[0], shard))
    parent = lv.coarse
    for level, shift in enumerate(lv.equal):
        first = (kt >> shift) + 1
        stop = ((kt >> parent) + 1) << (parent - shift)  # end of t's bucket one level up
        parent = shift
        if first >= stop:
            continue
        start, end = equal_slot(level, shard, first), equal_slot(level, shard, stop)
        for slot in src.slots_between(entity, field, start, end):
            parts.append(src.bitmap(entity, field, slot, shard))
    finest = src.bitmap(entity, field, equal_slot(len(lv.equal) - 1, shard, kt >> parent), shard)
    if finest:
        parts.append(finest if lv.exact(t) else _checked(src, entity, field, finest, t, shard))
    if not parts:
        return FrozenBitMap()
    return parts[0] if len(parts) == 1 else FrozenBitMap.union(*parts)


def _checked(
    src: BitmapSource, entity: str, field: str, bucket: AnyBitMap, t: int, shard: int
) -> AnyBitMap:
    """The columns of one (small) finest bucket whose value is >= t, from the slices."""
    depth = src.bsi_depth(entity, field)
    sign = src.bitmap(entity, field, keys.SIGN, shard)
    slices = [src.bitmap(entity, field, keys.bit_slot(bit), shard) for bit in range(depth)]
    return bsi_range(bucket, sign, slices, t, INT_MAX)


def _after(slot: bytes) -> bytes:
    return slot + b"\x00"
