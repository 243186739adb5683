"""Segment references in a rule: resolved by id or name, dynamic ones inlined, cycles refused.

Runs after `validate` and before `normalise`. For every `{"segment": S}`:
- S is looked up by id, else by name (NotFound if there is no such segment);
- a dynamic segment is replaced by its own rule, itself expanded (recursively), so
  the engine plans the whole tree at once and never reads a stale answer;
- a static segment stays a `SegmentRef` carrying its id: the engine reads its member
  bitmap;
- `{"segment": S, "ever": true}` stays a `SegmentRef(id, ever=True)` (its history comes
  with change detection; the planner says so).
A segment met again while its own rule is being expanded is a cycle, refused as
`segment cycle: A -> B -> A`. Each segment is expanded once per query and the result
shared, and the expanded tree is bounded (`budget`), so a diamond of references can
neither loop nor blow up. References nest at most `MAX_CHAIN` segments deep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.rules.model import AllOf, AnyOf, Not, Rule, SegmentRef
from bitseg.rules.walk import boolean_children, children, fold
from bitseg.segments.catalog import STATIC, SegmentRecord

MAX_CHAIN = 32
NODE_FACTOR = 10  # an expanded rule may have 10x the nodes of one rule
DEPTH_FACTOR = 4  # and 4x its depth (the executor recurses once per level)

Lookup = Callable[[str], SegmentRecord]
"""A segment by id or name; raises NotFound."""
RuleOf = Callable[[SegmentRecord], Rule]
"""A dynamic segment's stored rule as a validated tree."""


def expanded_limits(limits: Limits) -> Limits:
    """The limits an expanded rule is held to (and normalised under)."""
    return Limits(
        max_depth=limits.max_depth * DEPTH_FACTOR,
        max_nodes=limits.max_nodes * NODE_FACTOR,
        max_in_values=limits.max_in_values,
        max_message_bytes=limits.max_message_bytes,
    )


def has_references(rule: Rule) -> bool:
    """True if the rule holds any `SegmentRef` (outside deal filters, where none may be)."""
    stack = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, SegmentRef):
            return True
        stack.extend(boolean_children(node))
    return False


def references(rule: Rule) -> list[SegmentRef]:
    """Every `SegmentRef` of a rule, in reading order."""
    found: list[SegmentRef] = []
    stack = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, SegmentRef):
            found.append(node)
        stack.extend(reversed(boolean_children(node)))
    return found


def map_references(rule: Rule, replace: Callable[[SegmentRef], Rule]) -> Rule:
    """The rule with every `SegmentRef` replaced by `replace(ref)` (a new tree)."""

    def leave(node: Rule, kids: list[Rule]) -> Rule:
        if isinstance(node, AllOf):
            return AllOf(tuple(kids))
        if isinstance(node, AnyOf):
            return AnyOf(tuple(kids))
        if isinstance(node, Not):
            return Not(kids[0])
        if isinstance(node, SegmentRef):
            return replace(node)
        return node

    return fold(rule, leave, boolean_children)


@dataclass(frozen=True)
class _Expanded:
    rule: Rule
    nodes: int
    depth: int


Memo = dict[str, "_Expanded"]
"""Expanded dynamic segments by id; valid for one catalog and schema state (generation)."""


class ExpansionCache:
    """Per org, the memo of the latest generation, so queries at an unchanged generation
    (a segment builder counting on every keystroke) expand each segment only once."""

    def __init__(self) -> None:
        self._memos: dict[str, tuple[int, Memo]] = {}

    def memo(self, org: str, generation: int) -> Memo:
        held = self._memos.get(org)
        if held is not None and held[0] == generation:
            return held[1]
        memo: Memo = {}
        if held is None or held[0] < generation:
            self._memos[org] = (generation, memo)
        return memo


class Expander:
    """Expands the references of rules against one catalog snapshot (one query, or one save).

    `memo` may be shared by expanders over the same snapshot: a segment that expanded
    once has no cycle below it, whatever reaches it later.
    """

    def __init__(
        self, lookup: Lookup, rule_of: RuleOf, limits: Limits, memo: Memo | None = None
    ) -> None:
        self.lookup = lookup
        self.rule_of = rule_of
        self.budget = expanded_limits(limits)
        self._done: Memo = memo if memo is not None else {}

    def expand(self, rule: Rule, within: SegmentRecord | None = None) -> Rule:
        """`rule` with its references resolved; `within`: the segment whose rule it is."""
        if not has_references(rule):
            return rule
        chain = (within,) if within is not None else ()
        result = self._expand(rule, chain)
        self._check_budget(result, within)
        return result.rule

    def _expand(self, rule: Rule, chain: tuple[SegmentRecord, ...]) -> _Expanded:
        def leave(node: Rule, kids: list[_Expanded]) -> _Expanded:
            if isinstance(node, AllOf | AnyOf | Not):
                parts = tuple(k.rule for k in kids)
                built = Not(parts[0]) if isinstance(node, Not) else type(node)(parts)
                nodes = 1 + sum(k.nodes for k in kids)
                return _Expanded(built, nodes, 1 + max((k.depth for k in kids), default=0))
            if isinstance(node, SegmentRef):
                return self._reference(node, chain)
            return _Expanded(node, _size(node), _depth(node))

        return fold(rule, leave, boolean_children)

    def _reference(self, ref: SegmentRef, chain: tuple[SegmentRecord, ...]) -> _Expanded:
        record = self.lookup(ref.segment)
        if ref.ever:
            return _Expanded(SegmentRef(record.id, ever=True), 1, 1)
        ids = [r.id for r in chain]
        if record.id in ids:
            loop = [r.name for r in chain[ids.index(record.id) :]] + [record.name]
            raise InvalidArgument("segment cycle: " + " -> ".join(loop))
        if record.type == STATIC:
            return _Expanded(SegmentRef(record.id), 1, 1)
        done = self._done.get(record.id)
        if done is not None:
            return done
        if len(chain) >= MAX_CHAIN:
            raise InvalidArgument(
                f"segment references nested more than {MAX_CHAIN} deep (at {record.name})"
            )
        result = self._expand(self.rule_of(record), (*chain, record))
        self._check_budget(result, record)
        self._done[record.id] = result
        return result

    def _check_budget(self, result: _Expanded, record: SegmentRecord | None) -> None:
        where = f" (in segment {record.name})" if record is not None else ""
        if result.nodes > self.budget.max_nodes:
            raise InvalidArgument(
                f"rule too large once segment references are expanded: {result.nodes} nodes"
                f"{where} (limit {self.budget.max_nodes})"
            )
        if result.depth > self.budget.max_depth:
            raise InvalidArgument(
                f"rule too deep once segment references are expanded: {result.depth} levels"
                f"{where} (limit {self.budget.max_depth})"
            )


def _size(rule: Rule) -> int:
    return fold(rule, lambda _, kids: 1 + sum(kids), children)


def _depth(rule: Rule) -> int:
    return fold(rule, lambda _, kids: 1 + max(kids, default=0), children)


__all__ = [
    "ExpansionCache",
    "Expander",
    "expanded_limits",
    "has_references",
    "map_references",
    "references",
]
