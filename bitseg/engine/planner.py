"""The planner: a normalised rule tree -> a plan tree the executor runs per shard.

A plan separates every AND into positive operands (intersected, smallest first, as
measured on the shard at run time) and negated leaves (subtracted with `difference`),
so `a and not b` never materialises `not b`. OR is one multi-way union. The planner is
a pure function of the rule; it needs no statistics because the executor orders the
operands by their exact cardinality (bitmap lengths are O(containers) to read).
"""

from __future__ import annotations

from dataclasses import dataclass

from bitseg.errors import InvalidArgument
from bitseg.rules.model import AllOf, AnyOf, Condition, EventRule, HasDeals, Not, Rule, SegmentRef


@dataclass(frozen=True, slots=True)
class Leaf:
    cond: Condition


@dataclass(frozen=True, slots=True)
class And:
    positive: tuple[Plan, ...]  # empty: start from every live contact
    negative: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Plan, ...]  # empty: nobody


@dataclass(frozen=True, slots=True)
class Complement:
    """Live contacts minus the child (a leaf: normalisation pushed `not` down to leaves)."""

    child: Plan


Plan = Leaf | And | Or | Complement


def plan(rule: Rule) -> Plan:
    """Plan a normalised rule (see bitseg.rules.normalise for the form it must have)."""
    stack: list[tuple[Rule, list[Plan] | None]] = [(rule, None)]
    results: list[Plan] = []
    # Post-order with an explicit stack: normalised trees are shallow, but never trust depth.
    while stack:
        node, done = stack.pop()
        if isinstance(node, AllOf | AnyOf):
            if done is None:
                stack.append((node, []))
                for child in reversed(node.children):
                    stack.append((child, None))
                continue
            count = len(node.children)
            children = results[len(results) - count :] if count else []
            del results[len(results) - count :]
            results.append(_group(node, children))
        elif isinstance(node, Not):
            results.append(Complement(_leaf(node.child)))
        else:
            results.append(_leaf(node))
    assert len(results) == 1
    return results[0]


def _group(node: AllOf | AnyOf, children: list[Plan]) -> Plan:
    if isinstance(node, AnyOf):
        return Or(tuple(children))
    positive = tuple(c for c in children if not isinstance(c, Complement))
    negative = tuple(c.child for c in children if isinstance(c, Complement))
    return And(positive, negative)


def _leaf(node: Rule) -> Leaf:
    if isinstance(node, Condition):
        return Leaf(node)
    if isinstance(node, HasDeals | EventRule):
        raise InvalidArgument(
            "deal and event rules are not indexed by this version yet (contacts and companies are)"
        )
    if isinstance(node, SegmentRef):
        raise InvalidArgument("segment references are not available in this version yet")
    raise InvalidArgument(f"not a normalised rule node: {type(node).__name__}")
