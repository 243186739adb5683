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
from bitseg.rules.model import (
    AllOf,
    AnyOf,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    SegmentRef,
)
from bitseg.segments.layout import MEMBER_SLOT, ever_field, member_field


@dataclass(frozen=True, slots=True)
class Leaf:
    cond: Condition


@dataclass(frozen=True, slots=True)
class DealsLeaf:
    """Contacts with a number of deals (matching `where`, all on the same deal) in `count`."""

    where: Plan | None
    count: Cmp | None


@dataclass(frozen=True, slots=True)
class EventLeaf:
    """Contacts whose number of events of a type (campaigns, window) satisfies the count."""

    rule: EventRule


@dataclass(frozen=True, slots=True)
class SegmentMembers:
    """The live members of a static segment: its member bitmap (see bitseg.segments.layout)."""

    segment: str
    field: str
    slot: bytes


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


Plan = Leaf | DealsLeaf | EventLeaf | SegmentMembers | And | Or | Complement


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


def _leaf(node: Rule) -> Plan:
    if isinstance(node, Condition):
        return Leaf(node)
    if isinstance(node, HasDeals):
        return DealsLeaf(plan(node.where) if node.where is not None else None, node.count)
    if isinstance(node, EventRule):
        return EventLeaf(node)
    if isinstance(node, SegmentRef):
        return _segment(node)
    raise InvalidArgument(f"not a normalised rule node: {type(node).__name__}")


def _segment(ref: SegmentRef) -> Plan:
    """A reference left after expansion (bitseg.segments.expand): a static segment, by id,
    or "ever a member" of any segment, answered from the bitmap of everyone who ever
    joined it (kept by change detection from the same joined events as the log)."""
    if ref.ever:
        return SegmentMembers(ref.segment, ever_field(ref.segment), MEMBER_SLOT)
    return SegmentMembers(ref.segment, member_field(ref.segment), MEMBER_SLOT)
