"""Range queries over a sign-magnitude bit-sliced index (O'Neil's comparison algorithm).

Slices: `exists`, `sign` (negative values) and one bitmap per bit of |value|. A range
[lo, hi] splits into a non-negative part (magnitudes in [max(lo, 0), hi]) and a
negative part (value -m with lo <= -m <= hi, i.e. m in [max(-hi, 1), -lo]). Every step
is an in-place roaring operation, with an early exit once nothing is left undecided.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyroaring import BitMap, FrozenBitMap

AnyBitMap = BitMap | FrozenBitMap


def bsi_range(
    exists: AnyBitMap, sign: AnyBitMap, slices: Sequence[AnyBitMap], lo: int, hi: int
) -> AnyBitMap:
    """Columns whose value v satisfies lo <= v <= hi."""
    if lo > hi or not exists:
        return BitMap()
    result: AnyBitMap | None = None
    if hi >= 0:
        base = exists - sign if sign else exists
        result = magnitude_between(base, slices, max(lo, 0), hi)
    if lo < 0 and sign:
        negative = magnitude_between(exists & sign, slices, max(-hi, 1), -lo)
        result = negative if result is None else result | negative
    return result if result is not None else BitMap()


def magnitude_between(base: AnyBitMap, slices: Sequence[AnyBitMap], a: int, b: int) -> AnyBitMap:
    top = (1 << len(slices)) - 1
    if a > b or a > top or not base:
        return BitMap()
    selected = base if a <= 0 else _at_least(base, slices, a)
    return selected if b >= top else _at_most(selected, slices, b)


def _at_least(base: AnyBitMap, slices: Sequence[AnyBitMap], c: int) -> BitMap:
    greater = BitMap()
    equal = BitMap(base)
    for bit in range(len(slices) - 1, -1, -1):
        s = slices[bit]
        if (c >> bit) & 1:
            equal &= s
        else:
            greater |= equal & s
            equal -= s
        if not equal:
            return greater
    greater |= equal
    return greater


def _at_most(base: AnyBitMap, slices: Sequence[AnyBitMap], c: int) -> BitMap:
    less = BitMap()
    equal = BitMap(base)
    for bit in range(len(slices) - 1, -1, -1):
        s = slices[bit]
        if (c >> bit) & 1:
            less |= equal - s
            equal &= s
        else:
            equal -= s
        if not equal:
            return less
    less |= equal
    return less
