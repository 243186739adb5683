"""Walking rule trees without recursion, and the depth / size limits.

Owns: `children` (the sub-rules of a node), `fold` (a bottom-up rebuild with an explicit
stack), `assemble` (building a tree from a pre-order plan), `check_limits`, and the
"rule too deep" / "rule too large" messages every stage uses. Depth counts rule nodes on
the longest root-to-leaf path (a lone condition has depth 1); size counts rule nodes
(`Cmp`, windows and campaign selectors are parts of their node, not nodes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.rules.model import AllOf, AnyOf, HasDeals, Not, Rule

T = TypeVar("T")

DEFAULT_LIMITS = Limits()
"""The SPEC.md defaults (depth 64, 2,000 nodes, 10,000 list values); frozen, so shared."""
Builder = Callable[[tuple[Rule, ...]], Rule]
"""Makes one node from its already built child rules (in order)."""


def children(rule: Rule) -> tuple[Rule, ...]:
    """The direct sub-rules of `rule`, including a `HasDeals` filter."""
    if isinstance(rule, AllOf | AnyOf):
        return rule.children
    if isinstance(rule, Not):
        return (rule.child,)
    if isinstance(rule, HasDeals) and rule.where is not None:
        return (rule.where,)
    return ()


def boolean_children(rule: Rule) -> tuple[Rule, ...]:
    """Like `children`, but a `HasDeals` is a leaf (its filter is a separate tree)."""
    return () if isinstance(rule, HasDeals) else children(rule)


def fold(
    root: Rule,
    leave: Callable[[Rule, list[T]], T],
    kids: Callable[[Rule], Sequence[Rule]] = children,
) -> T:
    """Post-order fold: `leave(node, results of its kids in order)`, using a heap stack."""
    stack: list[tuple[Rule, bool]] = [(root, False)]
    done: list[T] = []
    while stack:
        node, expanded = stack.pop()
        sub_rules = kids(node)
        if expanded or not sub_rules:
            n = len(sub_rules)
            results = done[len(done) - n :] if n else []
            del done[len(done) - n :]
            done.append(leave(node, results))
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(sub_rules))
    return done[0]


def assemble(plan: Sequence[tuple[Builder, int]]) -> Rule:
    """Build a tree from its nodes in pre-order, each given as (builder, number of kids)."""
    built: list[Rule] = []
    for builder, n in reversed(plan):
        kids = tuple(reversed(built[len(built) - n :])) if n else ()
        del built[len(built) - n :]
        built.append(builder(kids))
    return built[0]


def too_deep(limits: Limits, place: str = "") -> InvalidArgument:
    """The error for a rule nested deeper than `limits.max_depth`."""
    where = f" at {_shorten(place)}" if place else ""
    return InvalidArgument(
        f"rule too deep: more than {limits.max_depth} levels of nesting{where}"
        f" (limit {limits.max_depth})"
    )


def too_large(limits: Limits) -> InvalidArgument:
    """The error for a rule with more than `limits.max_nodes` nodes."""
    return InvalidArgument(
        f"rule too large: more than {limits.max_nodes} nodes (limit {limits.max_nodes})"
    )


def check_limits(root: Rule, limits: Limits) -> None:
    """Raise InvalidArgument if `root` is deeper or larger than `limits` allow."""
    nodes = 1
    stack: list[tuple[Rule, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        sub_rules = children(node)
        if not sub_rules:
            continue
        if depth + 1 > limits.max_depth:
            raise too_deep(limits)
        nodes += len(sub_rules)
        if nodes > limits.max_nodes:
            raise too_large(limits)
        stack.extend((k, depth + 1) for k in sub_rules)


def _shorten(path: str, limit: int = 80) -> str:
    return path if len(path) <= limit else "..." + path[-(limit - 3) :]
