"""The structured rule form on the wire: `bitseg.v1.RuleNode` <-> the tree of bitseg.rules.model.

Both directions walk the tree with an explicit stack, so a deeply nested message can
never hit Python's recursion limit; decoding refuses a rule deeper than
`Limits.max_depth`, larger than `Limits.max_nodes` nodes, or with a list longer than
`Limits.max_in_values`, with an `InvalidArgument` naming the offending node by its
path (e.g. `all[2].not.condition.value`). Decoding checks shape only; field names,
operators and value types are checked by `bitseg.rules.validate` against the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.rules.model import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    CampaignSelector,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    Scalar,
    SegmentRef,
    Value,
    Window,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.v1 import bitseg_pb2 as pb

_CMP_KEYS = ("gte", "gt", "lte", "lt", "eq")
_MATCHES = ("any", "all")


# ---------------------------------------------------------------------------
# proto -> model


@dataclass
class _Pending:
    """A proto node seen in the pre-order walk, waiting for its children to be built."""

    msg: pb.RuleNode
    path: str
    children: list[int] = field(default_factory=list)  # indexes into the walk
    where: int | None = None


def from_proto(node: pb.RuleNode, limits: Limits | None = None) -> Rule:
    """Decode a `RuleNode` into the model tree, enforcing the depth / size limits."""
    limits = limits or Limits()
    walk: list[_Pending] = []
    stack: list[tuple[pb.RuleNode, str, int, int | None, bool]] = [(node, "", 1, None, False)]
    while stack:
        msg, path, depth, parent, is_where = stack.pop()
        if depth > limits.max_depth:
            raise InvalidArgument(f"{_at(path)}: rule nested deeper than {limits.max_depth} levels")
        if len(walk) >= limits.max_nodes:
            raise InvalidArgument(f"rule: more than {limits.max_nodes} nodes")
        index = len(walk)
        walk.append(_Pending(msg, path))
        if parent is not None:
            if is_where:
                walk[parent].where = index
            else:
                walk[parent].children.append(index)
        kind = msg.WhichOneof("kind")
        if kind != "logic" and len(msg.children):
            raise InvalidArgument(f"{_at(path)}: only logic nodes have children (this is {kind})")
        if kind == "logic":
            prefix = _logic_name(msg, path)
            # pushed in reverse so that children are visited (and numbered) in order
            for i in reversed(range(len(msg.children))):
                part = f"{prefix}[{i}]" if prefix != "not" else "not"
                stack.append((msg.children[i], _join(path, part), depth + 1, index, False))
        elif kind == "has_deals" and msg.has_deals.HasField("where"):
            stack.append((msg.has_deals.where, _join(path, "where"), depth + 1, index, True))
    built: list[Rule | None] = [None] * len(walk)
    for index in range(len(walk) - 1, -1, -1):  # children come after their parent
        built[index] = _build(walk[index], built, limits)
    root = built[0]
    assert root is not None
    return root


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _at(path: str) -> str:
    """How an error names a node: its path, or "rule" for the root."""
    return path or "rule"


def _logic_name(msg: pb.RuleNode, path: str) -> str:
    if msg.logic == pb.LOGIC_ALL:
        return "all"
    if msg.logic == pb.LOGIC_ANY:
        return "any"
    if msg.logic == pb.LOGIC_NOT:
        if len(msg.children) != 1:
            got = len(msg.children)
            raise InvalidArgument(f"{_at(path)}: not takes exactly one child, got {got}")
        return "not"
    raise InvalidArgument(f"{_join(path, 'logic')}: set LOGIC_ALL, LOGIC_ANY or LOGIC_NOT")


def _build(item: _Pending, built: list[Rule | None], limits: Limits) -> Rule:
    msg, path = item.msg, item.path
    kind = msg.WhichOneof("kind")
    if kind == "logic":
        children = tuple(_child(built, i) for i in item.children)
        if msg.logic == pb.LOGIC_ALL:
            return AllOf(children)
        if msg.logic == pb.LOGIC_ANY:
            return AnyOf(children)
        return Not(children[0])
    if kind == "condition":
        c = msg.condition
        where = _join(path, "value")
        value = _value(c.value, where, limits) if c.HasField("value") else None
        return Condition(field=c.field, op=c.op, value=value)
    if kind == "has_deals":
        h = msg.has_deals
        where = _child(built, item.where) if item.where is not None else None
        count = _cmp(h.count, _join(path, "count")) if h.HasField("count") else None
        return HasDeals(where=where, count=count)
    if kind == "event":
        return _event(msg.event, path, limits)
    if kind == "segment":
        return SegmentRef(segment=msg.segment.segment, ever=msg.segment.ever)
    raise InvalidArgument(
        f"{_at(path)}: empty rule node (set one of logic, condition, has_deals, event, segment)"
    )


def _child(built: list[Rule | None], index: int) -> Rule:
    rule = built[index]
    assert rule is not None
    return rule


def _scalar(msg: pb.Scalar | pb.Value, path: str) -> Scalar:
    kind = msg.WhichOneof("kind")
    if kind == "string_value":
        return msg.string_value
    if kind == "int_value":
        return msg.int_value
    if kind == "bool_value":
        return msg.bool_value
    raise InvalidArgument(f"{path}: empty value (set string_value, int_value or bool_value)")


def _value(msg: pb.Value, path: str, limits: Limits) -> Value:
    if msg.WhichOneof("kind") != "list_value":
        return _scalar(msg, path)
    values = msg.list_value.values
    if len(values) > limits.max_in_values:
        raise InvalidArgument(f"{path}: more than {limits.max_in_values} values in one list")
    return tuple(_scalar(v, f"{path}[{i}]") for i, v in enumerate(values))


def _cmp(msg: pb.Cmp, path: str) -> Cmp:
    bounds = {key: getattr(msg, key) for key in _CMP_KEYS if msg.HasField(key)}
    if not bounds:
        raise InvalidArgument(f"{path}: a count comparison needs one of gte, gt, lte, lt, eq")
    return Cmp(**bounds)


def _event(msg: pb.EventRule, path: str, limits: Limits) -> EventRule:
    campaign: CampaignSelector | None = None
    if msg.HasField("campaign"):
        campaign = _campaign(msg.campaign, _join(path, "campaign"), limits)
    within: Window | None = None
    if msg.HasField("within"):
        within = _window(msg.within, _join(path, "within"))
    count = _cmp(msg.count, _join(path, "count")) if msg.HasField("count") else None
    return EventRule(type=msg.type, campaign=campaign, within=within, count=count)


def _campaign(msg: pb.CampaignSelector, path: str, limits: Limits) -> CampaignSelector:
    kind = msg.WhichOneof("kind")
    if kind == "id":
        return msg.id
    if kind == "ids":
        if len(msg.ids.ids) > limits.max_in_values:
            raise InvalidArgument(f"{path}.ids: more than {limits.max_in_values} campaign ids")
        return CampaignIn(tuple(msg.ids.ids))
    if kind == "last":
        match = msg.last.match or "any"
        if match not in _MATCHES:
            raise InvalidArgument(f'{path}.last.match: "any" or "all", got "{match}"')
        return CampaignLast(n=msg.last.n, match="all" if match == "all" else "any")
    raise InvalidArgument(f"{path}: empty campaign selector (set id, ids or last)")


def _window(msg: pb.Window, path: str) -> Window:
    kind = msg.WhichOneof("kind")
    if kind == "last":
        return WindowLast(msg.last)
    if kind == "since":
        return WindowSince(msg.since)
    if kind == "between":
        return WindowBetween(msg.between.start, msg.between.end)
    raise InvalidArgument(f"{path}: empty window (set last, since or between)")


# ---------------------------------------------------------------------------
# model -> proto


def to_proto(rule: Rule) -> pb.RuleNode:
    """Encode a model tree as a `RuleNode` (no limits: the tree was built under them)."""
    root = pb.RuleNode()
    stack: list[tuple[Rule, pb.RuleNode]] = [(rule, root)]
    while stack:
        node, out = stack.pop()
        if isinstance(node, AllOf | AnyOf):
            out.logic = pb.LOGIC_ALL if isinstance(node, AllOf) else pb.LOGIC_ANY
            stack.extend((child, out.children.add()) for child in node.children)
        elif isinstance(node, Not):
            out.logic = pb.LOGIC_NOT
            stack.append((node.child, out.children.add()))
        elif isinstance(node, Condition):
            out.condition.field = node.field
            out.condition.op = node.op
            if node.value is not None:
                _put_value(out.condition.value, node.value)
        elif isinstance(node, HasDeals):
            out.has_deals.SetInParent()
            if node.count is not None:
                _put_cmp(out.has_deals.count, node.count)
            if node.where is not None:
                stack.append((node.where, out.has_deals.where))
        elif isinstance(node, EventRule):
            _put_event(out.event, node)
        elif isinstance(node, SegmentRef):
            out.segment.segment = node.segment
            out.segment.ever = node.ever
        else:
            raise TypeError(f"not a rule node: {node!r}")
    return root


def _put_scalar(out: pb.Scalar | pb.Value, value: Scalar) -> None:
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, str):
        out.string_value = value
    else:
        raise TypeError(f"not a rule value: {value!r}")


def _put_value(out: pb.Value, value: Value) -> None:
    if isinstance(value, tuple | list):
        out.list_value.SetInParent()
        for item in value:
            _put_scalar(out.list_value.values.add(), item)
    elif value is not None:
        _put_scalar(out, value)


def _put_cmp(out: pb.Cmp, cmp: Cmp) -> None:
    out.SetInParent()
    for key in _CMP_KEYS:
        bound = getattr(cmp, key)
        if bound is not None:
            setattr(out, key, bound)


def _put_event(out: pb.EventRule, node: EventRule) -> None:
    out.type = node.type
    campaign = node.campaign
    if isinstance(campaign, str):
        out.campaign.id = campaign
    elif isinstance(campaign, CampaignIn):
        out.campaign.ids.ids.extend(campaign.ids)
    elif isinstance(campaign, CampaignLast):
        out.campaign.last.n = campaign.n
        out.campaign.last.match = campaign.match
    within = node.within
    if isinstance(within, WindowLast):
        out.within.last = within.duration
    elif isinstance(within, WindowSince):
        out.within.since = within.time
    elif isinstance(within, WindowBetween):
        out.within.between.start = within.start
        out.within.between.end = within.end
    if node.count is not None:
        _put_cmp(out.count, node.count)
