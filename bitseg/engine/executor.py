"""The executor: runs a plan on every shard and combines the answers.

An AND's steps are ordered by what they cost on roaring's containers (`_cheap_order`)
and run in place on one private copy; counting avoids materialising the last step
(`intersection_cardinality`, `difference_cardinality`), and a long AND of dense operands
is counted over plain words instead (bitseg.engine.dense). Shard answers are disjoint
column ranges, so a count is their sum and a member set their union. Evaluation per
shard is a pure function of (shard bitmaps, plan), so shards can later move to other
processes or machines.
"""

from __future__ import annotations

from collections.abc import Callable

from pyroaring import BitMap, FrozenBitMap

from bitseg.engine import activity
from bitseg.engine.bsi import AnyBitMap, bsi_range
from bitseg.engine.dense import DenseWords, count_and
from bitseg.engine.leaves import (
    EMPTY,
    count_leaf,
    evaluate_leaf,
    indexed_range,
)
from bitseg.engine.planner import (
    And,
    Complement,
    DealsLeaf,
    EventLeaf,
    Leaf,
    Or,
    Plan,
    SegmentMembers,
)
from bitseg.engine.results import LeafResults
from bitseg.engine.source import BitmapSource
from bitseg.schema import DEAL_FIELDS, FieldType
from bitseg.store.keys import (
    CONTACT,
    DEAL,
    DEAL_COUNT_FIELD,
    EXISTS,
    SHARD_BITS,
    SHARD_WIDTH,
    bit_slot,
)


class Executor:
    def __init__(
        self,
        source: BitmapSource,
        entity: str = CONTACT,
        now: int = 0,
        field_type: Callable[[str], FieldType | None] | None = None,
        results: LeafResults | None = None,
        gen: int = 0,
        dense: DenseWords | None = None,
        reused_plan: bool = False,
    ) -> None:
        self.src = source
        self.results = results
        # Leaf answers are kept by plan-node identity only for plans that come back (from
        # the plan cache): a plan made for one query would fill the cache with entries
        # nothing finds again, pushing out the ones that are (at 10M contacts, 100 a count).
        self.by_node = results if reused_plan else None
        self.dense = dense
        self.gen = gen
        self.entity = entity
        self.now = now
        self.field_type = field_type
        self._memo: dict[int, tuple[Plan, object]] = {}  # per-query results of global leaves

    def count(self, plan: Plan) -> int:
        return sum(
            self._count_shard(plan, shard) for shard in range(self.src.shard_count(self.entity))
        )

    def members(self, plan: Plan) -> AnyBitMap:
        parts = [self.evaluate(plan, shard) for shard in range(self.src.shard_count(self.entity))]
        parts = [p for p in parts if p]
        if not parts:
            return BitMap()
        return parts[0] if len(parts) == 1 else FrozenBitMap.union(*parts)

    def evaluate(self, plan: Plan, shard: int) -> AnyBitMap:
        if isinstance(plan, Leaf) and self.by_node is not None:
            # The same plan object comes back from the plan cache for a repeated rule:
            # its leaves' answers are found by the node's identity, before any of the
            # work of telling what kind of leaf it is.
            return self.by_node.get_or_compute(
                self.gen, _Node(plan, self.entity, shard), lambda: _frozen(self._leaf(plan, shard))
            )
        if isinstance(plan, Leaf):
            return self._leaf(plan, shard)
        return self._node(plan, shard)

    def _leaf(self, plan: Leaf, shard: int) -> AnyBitMap:
        cond = plan.cond
        if indexed_range(self.src, self.entity, cond, self.field_type):
            return self._range(plan, shard)
        if cond.op in _UNIONS and len(cond.value) > 1:  # type: ignore[arg-type]
            # A union of several value bitmaps is the costly part of a keyword list:
            # kept per generation like ranges (builder UIs repeat their leaves).
            return self._cached(
                ("leaf", self.entity, cond, shard),
                lambda: evaluate_leaf(self.src, self.entity, cond, shard, self.field_type),
            )
        return evaluate_leaf(self.src, self.entity, cond, shard, self.field_type)

    def _node(self, plan: Plan, shard: int) -> AnyBitMap:
        if isinstance(plan, DealsLeaf):
            return self._deals(plan, shard)
        if isinstance(plan, EventLeaf):
            groups = self._once(plan, lambda: activity.event_fields(self.src, plan.rule, self.now))
            key = ("event", shard, tuple(map(tuple, groups)), plan.rule.count)  # type: ignore[call-overload]
            return self._cached(
                key,
                lambda: activity.event_shard(self.src, groups, plan.rule.count, shard),  # type: ignore[arg-type]
            )
        if isinstance(plan, SegmentMembers):
            stored = self.src.bitmap(self.entity, plan.field, plan.slot, shard)
            return stored & self.src.live(self.entity, shard) if stored else EMPTY
        if isinstance(plan, Complement):
            return self.src.live(self.entity, shard) - self.evaluate(plan.child, shard)
        if isinstance(plan, Or):
            if all(isinstance(child, Leaf) for child in plan.children):
                # A union of leaves is a bigger `in`: kept per generation like one.
                return self._cached(("or", self.entity, plan, shard), lambda: self._or(plan, shard))
            return self._or(plan, shard)
        return self._and(plan, shard, count_only=False)  # type: ignore[return-value]

    def _or(self, plan: Or, shard: int) -> AnyBitMap:
        parts = [self.evaluate(child, shard) for child in plan.children]
        parts = [p for p in parts if p]
        if not parts:
            return EMPTY
        return parts[0] if len(parts) == 1 else FrozenBitMap.union(*parts)

    def _range(self, plan: Leaf, shard: int, within: AnyBitMap | None = None) -> AnyBitMap:
        """An indexed range: cached per generation (a builder UI asks the same leaves on
        every keystroke), or computed inside a small `within` without the index."""
        cond = plan.cond
        if within is not None and len(within) <= RESTRICTED_BSI_BELOW:
            return evaluate_leaf(self.src, self.entity, cond, shard, self.field_type, within)
        key = ("range", self.entity, cond.field, cond.value, shard)
        found = self._cached(
            key, lambda: evaluate_leaf(self.src, self.entity, cond, shard, self.field_type)
        )
        return found if within is None else found & within

    def _cached(self, key: object, compute: Callable[[], AnyBitMap]) -> AnyBitMap:
        """Across queries (same data generation), through the caller's LeafResults."""
        if self.results is None:
            return compute()
        return self.results.get_or_compute(self.gen, key, lambda: _frozen(compute()))

    def _once(self, plan: Plan, compute: Callable[[], object]) -> object:
        """A per-query memo for leaves computed over all shards at once."""
        hit = self._memo.get(id(plan))
        if hit is None or hit[0] is not plan:
            hit = (plan, compute())
            self._memo[id(plan)] = hit
        return hit[1]

    def _deals(self, plan: DealsLeaf, shard: int) -> AnyBitMap:
        lo, hi = activity.count_range(plan.count)
        if lo > hi:
            return EMPTY
        if plan.where is None:
            # Every deal counts: the contact-level `$deals` count BSI answers directly.
            field = DEAL_COUNT_FIELD
            # Deals may name contacts that are not (or no longer) live: count only live ones.
            exists = self.src.bitmap(CONTACT, field, EXISTS, shard) & self.src.live(CONTACT, shard)
            if lo <= 1 and hi == activity.INT_MAX:
                return exists if lo == 1 else self.src.live(CONTACT, shard)
            depth = self.src.bsi_depth(CONTACT, field)
            slices = [self.src.bitmap(CONTACT, field, bit_slot(b), shard) for b in range(depth)]
            part = bsi_range(exists, EMPTY, slices, max(lo, 1), hi) if hi >= 1 else BitMap()
            return part | (self.src.live(CONTACT, shard) - exists) if lo <= 0 else part
        where = plan.where

        def contacts() -> AnyBitMap:
            deals = Executor(self.src, DEAL, self.now, DEAL_FIELDS.get).members(where)
            owners = activity.deal_owners(self.src, deals)
            return activity.contacts_by_count(self.src, owners, lo, hi)

        everywhere = self._once(plan, lambda: self._cached(("deals", where, plan.count), contacts))
        return _shard_slice(everywhere, shard)  # type: ignore[arg-type]

    def _count_shard(self, plan: Plan, shard: int) -> int:
        if isinstance(plan, Leaf):
            if self.results is not None and indexed_range(
                self.src, self.entity, plan.cond, self.field_type
            ):
                return len(self._range(plan, shard))  # cached: a handful of lookups saved
            return count_leaf(self.src, self.entity, plan.cond, shard, self.field_type)
        if isinstance(plan, And):
            return self._and(plan, shard, count_only=True)  # type: ignore[return-value]
        if isinstance(plan, Complement):
            live = self.src.live(self.entity, shard)
            return len(live) - live.intersection_cardinality(self.evaluate(plan.child, shard))
        return len(self.evaluate(plan, shard))

    def _and(self, plan: And, shard: int, count_only: bool) -> AnyBitMap | int:
        positives: list[AnyBitMap] = []
        ranges = [c for c in plan.positive if _is_range(c)]
        for child in plan.positive:
            if ranges and _is_range(child):
                continue
            bitmap = self.evaluate(child, shard)
            if not bitmap:
                return 0 if count_only else EMPTY
            positives.append(bitmap)
        if ranges and positives and min(map(len, positives)) <= RESTRICTED_BSI_BELOW:
            # Few candidates: each range is computed only inside them, from the bit slices.
            running = _intersect_all(sorted(positives, key=len))
            for leaf in ranges:
                if not running:
                    break
                running = self._range(leaf, shard, running)  # type: ignore[arg-type]
            if not running:
                return 0 if count_only else EMPTY
            positives = [running]
        else:
            for leaf in ranges:
                found = self._range(leaf, shard)  # type: ignore[arg-type]
                if not found:
                    return 0 if count_only else EMPTY
                positives.append(found)
        if not positives:
            positives.append(self.src.live(self.entity, shard))
        negatives = [self.evaluate(child, shard) for child in plan.negative]
        negatives = [n for n in negatives if n]
        if len(positives) + len(negatives) <= 2:  # a single step: nothing to choose
            steps = [(True, p) for p in positives] + [(False, n) for n in negatives]
        else:
            # the columns the answer can span: from the shard's start to the highest one
            universe = (max(p.max() for p in positives) & (SHARD_WIDTH - 1)) + 1
            smallest = min(map(len, positives))
            if (
                count_only
                and self.dense is not None
                and _dense_pays(len(positives) + len(negatives), smallest, universe)
                # only immutable operands: their words are kept for the next count
                and all(isinstance(b, FrozenBitMap) for b in positives + negatives)
            ):
                return count_and(
                    [self.dense.get(p, shard) for p in positives],
                    [self.dense.get(n, shard) for n in negatives],
                )
            steps = _cheap_order(positives, negatives, smallest, universe)
        result = steps.pop(0)[1]
        if not steps:
            return len(result) if count_only else result
        last = steps.pop() if count_only else None
        if steps:
            # One private copy, then in place: a new bitmap per step would allocate every
            # container again (a dense step costs ~3x more), and the copy must skip
            # run_optimize, which costs ten times the copy on bitset containers.
            result = BitMap(result, optimize=False)
            for intersect, operand in steps:
                if intersect:
                    result &= operand
                else:
                    result -= operand
                if not result:
                    return 0 if count_only else EMPTY
        if last is None:
            return result
        intersect, operand = last
        if intersect:
            return result.intersection_cardinality(operand)
        return result.difference_cardinality(operand)


_UNIONS = ("in", "has_any")
RESTRICTED_BSI_BELOW = 2_048  # inside fewer candidates, slice-by-slice beats the index
DENSE_FRACTION = 16  # a container holding over 1/16 of its 65,536 values is a bitset
SMALL_FRACTION = 64  # an operand this sparse makes every step cheaper than a dense pass
DENSE_COUNT_OPERANDS = 4  # fewer: roaring's own steps cost less than words and a popcount


class _Node:
    """A cache key naming one plan node by identity (hashing a node's conditions costs
    more than the lookup); it holds the node, so the identity stays unique."""

    __slots__ = ("node", "entity", "shard", "_hash")

    def __init__(self, node: Plan, entity: str, shard: int) -> None:
        self.node = node
        self.entity = entity
        self.shard = shard
        self._hash = hash((id(node), entity, shard))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Node)
            and other.node is self.node
            and other.entity == self.entity
            and other.shard == self.shard
        )


def _frozen(bitmap: AnyBitMap) -> FrozenBitMap:
    return bitmap if isinstance(bitmap, FrozenBitMap) else FrozenBitMap(bitmap)


def _dense_pays(operands: int, smallest: int, universe: int) -> bool:
    """Whether counting over plain words (bitseg.engine.dense) beats roaring: with no
    small operand to run every step on, and enough steps to outweigh the popcount."""
    return operands >= DENSE_COUNT_OPERANDS and smallest > universe // SMALL_FRACTION


def _cheap_order(
    positives: list[AnyBitMap], negatives: list[AnyBitMap], smallest: int, universe: int
) -> list[tuple[bool, AnyBitMap]]:
    """The operands of an AND as (intersect?, bitmap) steps, the first being the start.

    What a step costs depends on the containers, not only on sizes: while the running
    result is dense (bitset containers) a step with a dense operand is a fixed
    word-by-word pass (~1 us per 65,536 columns), but a sparse operand (array
    containers) or a sparse running result costs per member, and so does the step that
    turns the result sparse. With a small operand every step is cheap on it, so the
    classic order applies: smallest first, negatives last. Otherwise the dense operands
    go first (the largest positive, the dense negatives while the result is densest, the
    other dense positives largest first, keeping the result dense longest), then the
    sparse positives smallest first, then the sparse negatives: the costly steps come
    last, on the smallest running set, and a count makes the very last one a
    cardinality that builds nothing. The first step is always a positive."""
    ordered = sorted(positives, key=len)
    cut = universe // DENSE_FRACTION
    if smallest <= universe // SMALL_FRACTION or len(ordered[-1]) <= cut:
        return [(True, p) for p in ordered] + [(False, n) for n in negatives]
    dense = [p for p in reversed(ordered) if len(p) > cut]
    steps = [(True, dense[0])] + [(False, n) for n in negatives if len(n) > cut]
    steps += [(True, p) for p in dense[1:]] + [(True, p) for p in ordered if len(p) <= cut]
    return steps + [(False, n) for n in negatives if len(n) <= cut]


def _is_range(plan: Plan) -> bool:
    return isinstance(plan, Leaf) and plan.cond.op == "range"


def _intersect_all(parts: list[AnyBitMap]) -> AnyBitMap:
    result = parts[0]
    for part in parts[1:]:
        if not result:
            break
        result = result & part
    return result


def _shard_slice(bitmap: AnyBitMap, shard: int) -> AnyBitMap:
    """The part of a whole-org bitmap that falls in one shard's column range."""
    lo = shard << SHARD_BITS
    hi = (shard + 1) << SHARD_BITS
    if not bitmap or (bitmap.min() >= lo and bitmap.max() < hi):
        return bitmap
    return bitmap & BitMap(range(lo, hi))
