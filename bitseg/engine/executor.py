"""The executor: runs a plan on every shard and combines the answers.

Counting avoids materialising the last step (`intersection_cardinality`,
`difference_cardinality`). Shard answers are disjoint column ranges, so a count is
their sum and a member set their union. Evaluation per shard is a pure function of
(shard bitmaps, plan), so shards can later move to other processes or machines.
"""

from __future__ import annotations

from pyroaring import BitMap, FrozenBitMap

from bitseg.engine.bsi import AnyBitMap
from bitseg.engine.leaves import EMPTY, evaluate_leaf
from bitseg.engine.planner import And, Complement, Leaf, Or, Plan
from bitseg.engine.source import BitmapSource
from bitseg.store.keys import CONTACT


class Executor:
    def __init__(self, source: BitmapSource, entity: str = CONTACT) -> None:
        self.src = source
        self.entity = entity

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
        if isinstance(plan, Leaf):
            return evaluate_leaf(self.src, self.entity, plan.cond, shard)
        if isinstance(plan, Complement):
            return self.src.live(self.entity, shard) - self.evaluate(plan.child, shard)
        if isinstance(plan, Or):
            parts = [self.evaluate(child, shard) for child in plan.children]
            parts = [p for p in parts if p]
            if not parts:
                return EMPTY
            return parts[0] if len(parts) == 1 else FrozenBitMap.union(*parts)
        return self._and(plan, shard, count_only=False)  # type: ignore[return-value]

    def _count_shard(self, plan: Plan, shard: int) -> int:
        if isinstance(plan, And):
            return self._and(plan, shard, count_only=True)  # type: ignore[return-value]
        if isinstance(plan, Complement):
            live = self.src.live(self.entity, shard)
            return len(live) - live.intersection_cardinality(self.evaluate(plan.child, shard))
        return len(self.evaluate(plan, shard))

    def _and(self, plan: And, shard: int, count_only: bool) -> AnyBitMap | int:
        positives: list[AnyBitMap] = []
        for child in plan.positive:
            bitmap = self.evaluate(child, shard)
            if not bitmap:
                return 0 if count_only else EMPTY
            positives.append(bitmap)
        if not positives:
            positives.append(self.src.live(self.entity, shard))
        positives.sort(key=len)
        negatives = [self.evaluate(child, shard) for child in plan.negative]
        negatives = [n for n in negatives if n]
        steps: list[tuple[bool, AnyBitMap]] = [(True, p) for p in positives[1:]]
        steps += [(False, n) for n in negatives]
        result = positives[0]
        for index, (intersect, operand) in enumerate(steps):
            last = index == len(steps) - 1
            if count_only and last:
                if intersect:
                    return result.intersection_cardinality(operand)
                return result.difference_cardinality(operand)
            result = result & operand if intersect else result - operand
            if not result:
                return 0 if count_only else EMPTY
        return len(result) if count_only else result
