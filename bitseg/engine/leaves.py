"""Evaluation of one normalised condition on one shard, per field type.

keyword/ref/set/bool read value bitmaps; int/time use the range index (engine/ranges.py),
or a bit-sliced range inside a small candidate set or in stores without one; text
intersects trigram bitmaps and checks the candidates exactly against the stored
lower-cased values (a query whose padded form is a single trigram, or shorter, is
answered from the gram bitmaps alone, with no check); with many candidates, a keyed
text field tests its distinct values instead. The unkeyed fields (email, phone: one
value per contact) have no value bitmaps, so their `eq` is a trigram search too.
"""

from __future__ import annotations

from collections.abc import Callable

from pyroaring import BitMap, FrozenBitMap

from bitseg.engine.bsi import AnyBitMap, bsi_range
from bitseg.engine.ranges import index_range, index_range_count
from bitseg.engine.source import BitmapSource
from bitseg.errors import InvalidArgument
from bitseg.rules.model import Condition
from bitseg.schema import FieldType
from bitseg.store import keys, rangekeys

EMPTY = FrozenBitMap()


def evaluate_leaf(
    src: BitmapSource,
    entity: str,
    cond: Condition,
    shard: int,
    field_type: Callable[[str], FieldType | None] | None = None,
    within: AnyBitMap | None = None,
) -> AnyBitMap:
    """The columns of `shard` meeting `cond`. A range comes from the range index, or,
    with `within` (or in a store without the index), from the bit-sliced index computed
    only inside `within` (the answer is then a subset of it); other leaves ignore it."""
    kind = (field_type or src.schema.field_type)(cond.field)
    if kind is None:
        raise InvalidArgument(f'field: unknown field "{cond.field}"')
    field, op, value = cond.field, cond.op, cond.value
    if op == "exists":
        return src.bitmap(entity, field, keys.EXISTS, shard)
    if kind in (FieldType.INT, FieldType.TIME) and op == "range":
        lo, hi = value  # type: ignore[misc]
        if within is None and src.range_index and rangekeys.indexed(kind, field):
            return index_range(src, entity, field, kind, int(lo), int(hi), shard)
        return _range(src, entity, field, int(lo), int(hi), shard, within)
    return _materialise(_other(src, entity, cond, kind, shard))


class Disjoint(list):  # type: ignore[type-arg]
    """Bitmaps no two of which share a column (values of a single-valued field): the
    answer is their union, and its size the sum of theirs."""


def count_leaf(
    src: BitmapSource,
    entity: str,
    cond: Condition,
    shard: int,
    field_type: Callable[[str], FieldType | None] | None = None,
) -> int:
    """`len(evaluate_leaf(...))`, without building the set where its parts are disjoint
    (indexed ranges, `in` over keywords, text matched value by value)."""
    ranged = indexed_range(src, entity, cond, field_type)
    if ranged is not None:
        return count_range(src, entity, cond, ranged, shard)
    kind = (field_type or src.schema.field_type)(cond.field)
    if kind is None or cond.op in ("exists", "range"):
        return len(evaluate_leaf(src, entity, cond, shard, field_type))
    answer = _other(src, entity, cond, kind, shard)
    return sum(map(len, answer)) if isinstance(answer, Disjoint) else len(answer)


def _materialise(answer: AnyBitMap | Disjoint) -> AnyBitMap:
    return _union(answer) if isinstance(answer, Disjoint) else answer


def indexed_range(
    src: BitmapSource,
    entity: str,
    cond: Condition,
    field_type: Callable[[str], FieldType | None] | None = None,
) -> FieldType | None:
    """The field type when `cond` is a range the range index answers, else None."""
    if cond.op != "range" or not src.range_index:
        return None
    kind = (field_type or src.schema.field_type)(cond.field)
    return kind if kind is not None and rangekeys.indexed(kind, cond.field) else None


def count_range(
    src: BitmapSource, entity: str, cond: Condition, kind: FieldType, shard: int
) -> int:
    """`len(evaluate_leaf(...))` of an indexed range, without building the set."""
    lo, hi = cond.value  # type: ignore[misc]
    return index_range_count(src, entity, cond.field, kind, int(lo), int(hi), shard)


def _other(
    src: BitmapSource, entity: str, cond: Condition, kind: FieldType, shard: int
) -> AnyBitMap | Disjoint:
    field, op, value = cond.field, cond.op, cond.value
    if kind == FieldType.TEXT:
        return _text(src, entity, field, op, str(value), shard)
    if op in ("eq", "has"):
        slot_value = "true" if kind == FieldType.BOOL else str(value)
        return src.bitmap(entity, field, keys.value_slot(slot_value), shard)
    if op in ("in", "has_any"):
        found = [src.bitmap(entity, field, keys.value_slot(str(v)), shard) for v in value]  # type: ignore[union-attr]
        if kind in (FieldType.KEYWORD, FieldType.REF) and len(set(value)) == len(found):  # type: ignore[arg-type]
            return Disjoint(found)
        return _union(found)
    if op == "has_all":
        parts = sorted(
            (src.bitmap(entity, field, keys.value_slot(str(v)), shard) for v in value),  # type: ignore[union-attr]
            key=len,
        )
        return _intersect(parts)
    if op in ("starts_with", "contains"):
        needle = str(value).lower()
        match = str.startswith if op == "starts_with" else str.__contains__
        hits = [v for v in src.vocabulary(entity, field, keys.VALUE) if match(v.lower(), needle)]
        return _union([src.bitmap(entity, field, keys.value_slot(v), shard) for v in hits])
    raise InvalidArgument(f'op: "{op}" cannot be evaluated on {kind} field {field}')


def _range(
    src: BitmapSource,
    entity: str,
    field: str,
    lo: int,
    hi: int,
    shard: int,
    within: AnyBitMap | None = None,
) -> AnyBitMap:
    exists = src.bitmap(entity, field, keys.EXISTS, shard)
    if within is not None:
        exists = exists & within  # every slice operation then runs on the small set
    depth = src.bsi_depth(entity, field)
    sign = src.bitmap(entity, field, keys.SIGN, shard)
    slices = [src.bitmap(entity, field, keys.bit_slot(bit), shard) for bit in range(depth)]
    return bsi_range(exists, sign, slices, lo, hi)


VALUE_LEVEL_AFTER = 2_000  # candidates beyond which checking distinct values is cheaper


def _text(
    src: BitmapSource, entity: str, field: str, op: str, q: str, shard: int
) -> AnyBitMap | Disjoint:
    keyed = keys.keeps_text_values(entity, field)
    if op == "eq":
        if q == "":
            return EMPTY  # an empty text is no value
        if keyed and len(q.encode()) <= keys.MAX_TEXT_VALUE_KEY:
            return src.bitmap(entity, field, keys.value_slot(q), shard)
        padded = keys.TEXT_START + q + keys.TEXT_END
    elif op == "starts_with":
        padded = keys.TEXT_START + q
    elif op == "ends_with":
        padded = q + keys.TEXT_END
    elif op == "contains":
        padded = q
    else:
        raise InvalidArgument(f'op: "{op}" is not an operator for text field {field}')
    if q == "":
        return src.bitmap(entity, field, keys.EXISTS, shard)
    if len(padded) < 3:
        # Every value of length >= 1 pads to >= 3 chars, so a shorter needle lies inside one
        # of its trigrams: the union of the grams containing it is the exact answer.
        grams = [g for g in src.vocabulary(entity, field, keys.GRAM) if padded in g]
        return _union([src.bitmap(entity, field, keys.gram_slot(g), shard) for g in grams])
    grams = {padded[i : i + 3] for i in range(len(padded) - 2)}
    parts = sorted((src.bitmap(entity, field, keys.gram_slot(g), shard) for g in grams), key=len)
    candidates = _intersect(parts)
    if len(padded) == 3 or not candidates:
        return candidates
    match = _TEXT_MATCH[op]
    if keyed and len(candidates) > VALUE_LEVEL_AFTER:
        # Many candidates usually means few distinct values (titles, cities, company
        # names): test each distinct value once and union the bitmaps of those that match.
        hits = [v for v in src.vocabulary(entity, field, keys.VALUE) if match(v, q)]
        values = [src.bitmap(entity, field, keys.value_slot(v), shard) for v in hits]
        long_ones = src.bitmap(entity, field, keys.LONG_TEXT, shard) & candidates
        if not long_ones:
            return Disjoint(values)  # every value is one bitmap, stored lower-cased: exact
        found = _union(values)
        candidates = long_ones
        extra = _check(src, entity, field, candidates, match, q)
        return (found & parts[0]) | extra
    return _check(src, entity, field, candidates, match, q)


def _check(
    src: BitmapSource,
    entity: str,
    field: str,
    candidates: AnyBitMap,
    match: Callable[[str, str], bool],
    q: str,
) -> BitMap:
    values = src.text_values(entity, field, candidates)
    return BitMap([c for c, v in values.items() if match(v, q)])


_TEXT_MATCH: dict[str, Callable[[str, str], bool]] = {
    "eq": str.__eq__,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
    "contains": str.__contains__,
}


def _union(parts: list[AnyBitMap]) -> AnyBitMap:
    if not parts:
        return EMPTY
    if len(parts) == 1:
        return parts[0]
    return FrozenBitMap.union(*parts)


def _intersect(parts: list[AnyBitMap]) -> AnyBitMap:
    """Intersect smallest first, stopping as soon as the result is empty."""
    if not parts:
        return EMPTY
    result = parts[0]
    for part in parts[1:]:
        if not result:
            break
        result = result & part
    return result
