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

from bitseg.engine.bsi import AnyBitMap, bsi_range, magnitude_between
from bitseg.engine.source import BitmapSource
from bitseg.rules.vocab import INT_MAX, INT_MIN
from bitseg.schema import FieldType
from bitseg.store import keys
from bitseg.store.rangekeys import (
    cumulative_slot,
    equal_slot,
    kept_mantissa_bits,
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
        result = _union(at_least_parts(src, entity, field, kind, lo, shard))
    if hi < INT_MAX and result:
        above = _union(at_least_parts(src, entity, field, kind, hi + 1, shard))
        if above:
            result = result - above
    return result


def index_range_count(
    src: BitmapSource, entity: str, field: str, kind: FieldType, lo: int, hi: int, shard: int
) -> int:
    """How many columns `index_range` would return, without building the set: the parts
    of `at_least` are disjoint, and at_least(hi + 1) lies inside at_least(lo)."""
    if lo > hi:
        return 0
    if lo <= INT_MIN:
        total = len(src.bitmap(entity, field, keys.EXISTS, shard))
    else:
        total = sum(map(len, at_least_parts(src, entity, field, kind, lo, shard)))
    if hi < INT_MAX and total:
        total -= sum(map(len, at_least_parts(src, entity, field, kind, hi + 1, shard)))
    return total


def at_least_parts(
    src: BitmapSource, entity: str, field: str, kind: FieldType, t: int, shard: int
) -> list[AnyBitMap]:
    """Disjoint bitmaps whose union is the columns of `shard` with value >= t."""
    lv = levels(kind)
    kt = order_key(kind, t)
    parts: list[AnyBitMap] = []
    coarse = kt >> lv.coarse
    if coarse < _TOP >> lv.coarse:
        first, last = cumulative_slot(shard, coarse + 1), _after(cumulative_slot(shard, _TOP))
        nxt = src.slots_between(entity, field, first, last, 1)
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
        if not lv.exact(t):
            finest = _checked(src, entity, field, kind, finest, t, shard)
        if finest:
            parts.append(finest)
    return parts


def _checked(
    src: BitmapSource,
    entity: str,
    field: str,
    kind: FieldType,
    bucket: AnyBitMap,
    t: int,
    shard: int,
) -> AnyBitMap:
    """The columns of t's (small) finest bucket whose value is >= t, from the bit slices.

    Every value in the bucket shares all but its lowest `low` bits of magnitude with t
    (times >= 0: the bucket's width; ints: the mantissa bits below those the levels keep), so
    only those slices are compared; other buckets take the full signed comparison."""
    magnitude = abs(t)
    if kind == FieldType.TIME:
        low = levels(kind).equal[-1] if t >= 0 else 0
    else:
        e, kept = magnitude.bit_length(), kept_mantissa_bits()
        low = e - 1 - kept if kept + 2 <= e <= 57 else 0
    if low:
        slices = [src.bitmap(entity, field, keys.bit_slot(bit), shard) for bit in range(low)]
        mask = (1 << low) - 1
        if t >= 0:
            return magnitude_between(bucket, slices, magnitude & mask, mask)
        return magnitude_between(bucket, slices, 0, magnitude & mask)  # |v| <= |t| on top
    depth = src.bsi_depth(entity, field)
    sign = src.bitmap(entity, field, keys.SIGN, shard)
    slices = [src.bitmap(entity, field, keys.bit_slot(bit), shard) for bit in range(depth)]
    return bsi_range(bucket, sign, slices, t, INT_MAX)


def _union(parts: list[AnyBitMap]) -> AnyBitMap:
    if not parts:
        return FrozenBitMap()
    return parts[0] if len(parts) == 1 else FrozenBitMap.union(*parts)


def _after(slot: bytes) -> bytes:
    return slot + b"\x00"
