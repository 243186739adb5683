"""The JSON form of rules (SPEC.md "Rules (JSON form)"): decoding with shape checks, encoding.

Owns `rule_from_json`, `rule_from_json_text`, `rule_to_json`, `rule_to_json_text`.
Decoding checks shape only (what the JSON says, not whether the org has the field):
unknown / missing keys, wrong JSON types, two rule kinds in one object, bools or floats
where integers belong, integers outside 64-bit, unknown operators, a `value` on
exists / not_exists or none on any other operator, and the depth / node / list limits.
Every error names the path of the offending part (`all[2].op: missing`).

Canonical JSON, which `rule_to_json` writes and which round-trips exactly:
- keys in a fixed order: field, op, value; has, where, count; event, campaign,
  within, count; segment, ever; Cmp keys eq, gt, gte, lt, lte;
- defaults are omitted: no `value` for exists / not_exists, no `"ever": false`, no
  `"match": "any"` in a campaign selector, no `where` / `count` / `campaign` / `within`
  when absent (`null` is accepted on input for these and for an exists `value`);
- lists are JSON arrays (tuples in the tree).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from itertools import accumulate, count
from typing import Any

import orjson

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
from bitseg.rules.vocab import (
    CMP_KEYS,
    OP_NAMES,
    ROOT_NAMES,
    VALUE_FREE_OPS,
    at,
    in_int_range,
    is_int,
    show,
    sub,
    where,
)
from bitseg.rules.walk import DEFAULT_LIMITS, Builder, assemble, fold, too_deep, too_large

_KEYS: dict[str, tuple[str, ...]] = {
    "all": ("all",),
    "any": ("any",),
    "not": ("not",),
    "field": ("field", "op", "value"),
    "has": ("has", "where", "count"),
    "event": ("event", "campaign", "within", "count"),
    "segment": ("segment", "ever"),
}
_GUESS = {"op": "field", "value": "field", "where": "has", "campaign": "event",
          "within": "event", "ever": "segment"}  # fmt: skip

_Pending = list[tuple[Any, str]]


# ---------------------------------------------------------------- decoding


def rule_from_json(obj: object, limits: Limits = DEFAULT_LIMITS) -> Rule:
    """The rule tree of already-parsed JSON; InvalidArgument names the first bad part."""
    plan: list[tuple[Builder, int]] = []
    stack: list[tuple[object, str, int]] = [(obj, "", 1)]
    nodes = 1
    while stack:
        item, path, depth = stack.pop()
        builder, kids = _decode_node(item, path, limits)
        plan.append((builder, len(kids)))
        if not kids:
            continue
        if depth + 1 > limits.max_depth:
            raise too_deep(limits, kids[0][1])
        nodes += len(kids)
        if nodes > limits.max_nodes:
            raise too_large(limits)
        stack.extend((k, p, depth + 1) for k, p in reversed(kids))
    return assemble(plan)


def rule_from_json_text(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> Rule:
    """Parse JSON text and decode it; malformed JSON is an InvalidArgument too."""
    data = text.encode() if isinstance(text, str) else bytes(text)
    if len(data) > limits.max_message_bytes:
        raise InvalidArgument(
            f"rule too large: {len(data)} bytes (limit {limits.max_message_bytes})"
        )
    _check_json_nesting(data, limits)
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidArgument(f"malformed JSON: {e}") from None
    return rule_from_json(obj, limits)


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_OPENS_PER_NODE = 6  # an event: itself, campaign {"in": [...]}, within {"between": [...]}, count
_ORJSON_SAFE_DEPTH = 10_000  # orjson 3.8 overflows the C stack somewhere past 50,000


def _check_json_nesting(data: bytes, limits: Limits) -> None:
    """Refuse absurd nesting before orjson sees it (deep enough input crashes orjson)."""
    most = _OPENS_PER_NODE * limits.max_nodes + 2
    opens = data.count(b"[") + data.count(b"{")
    if opens <= min(most, _ORJSON_SAFE_DEPTH):
        return
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", data))  # outside strings only
    opens = brackets.count(b"[") + brackets.count(b"{")
    if opens > most:
        raise InvalidArgument(
            f"rule too large: {opens} JSON objects and arrays, more than a rule of"
            f" {limits.max_nodes} nodes can have (limit {limits.max_nodes} nodes)"
        )
    if opens <= _ORJSON_SAFE_DEPTH:
        return
    depth = max(map(operator.sub, accumulate(brackets.translate(_STEPS)), count(1)), default=0)
    if depth > 2 * limits.max_depth + 4:  # a rule level is an object and at most an array
        raise too_deep(limits)


def _decode_node(obj: object, path: str, limits: Limits) -> tuple[Builder, _Pending]:
    """Check one rule object; return its builder and its child objects with their paths."""
    if not isinstance(obj, dict):
        raise InvalidArgument(f"{where(path)}: expected a rule object, got {show(obj)}")
    kind = _kind(obj, path)
    for key in obj:
        if key not in _KEYS[kind]:
            allowed = ", ".join(_KEYS[kind])
            raise InvalidArgument(
                f"{sub(path, str(key))}: unknown key (a {kind} rule takes {allowed})"
            )
    return _DECODERS[kind](obj, path, limits)


def _kind(obj: dict[Any, Any], path: str) -> str:
    kinds = [k for k in ROOT_NAMES if k in obj]
    if len(kinds) > 1:
        raise InvalidArgument(
            f'{where(path)}: one rule object cannot have both "{kinds[0]}" and "{kinds[1]}"'
        )
    if kinds:
        return kinds[0]
    for key in obj:
        if key in _GUESS:
            return _GUESS[key]
    names = ", ".join(ROOT_NAMES)
    raise InvalidArgument(f"{where(path)}: expected a rule object with one of {names}")


def _decode_group(obj: dict[str, Any], path: str, limits: Limits) -> tuple[Builder, _Pending]:
    key = "all" if "all" in obj else "any"
    items = obj[key]
    if not isinstance(items, list):
        raise InvalidArgument(f"{sub(path, key)}: expected a list of rules, got {show(items)}")
    if len(items) >= limits.max_nodes:
        raise too_large(limits)
    cls = AllOf if key == "all" else AnyOf
    kids = [(item, at(sub(path, key), i)) for i, item in enumerate(items)]
    return (lambda rules: cls(rules)), kids


def _decode_not(obj: dict[str, Any], path: str, _: Limits) -> tuple[Builder, _Pending]:
    return (lambda rules: Not(rules[0])), [(obj["not"], sub(path, "not"))]


def _decode_condition(obj: dict[str, Any], path: str, limits: Limits) -> tuple[Builder, _Pending]:
    field = _string(obj, "field", path)
    op = _string(obj, "op", path)
    if op not in OP_NAMES:
        raise InvalidArgument(
            f"{sub(path, 'op')}: unknown operator {show(op)} (operators: {', '.join(OP_NAMES)})"
        )
    raw = obj.get("value")
    vpath = sub(path, "value")
    if op in VALUE_FREE_OPS:
        if raw is not None:
            raise InvalidArgument(f"{vpath}: {op} takes no value, got {show(raw)}")
        value: Value = None
    elif raw is None:
        raise InvalidArgument(f"{vpath}: missing")
    else:
        value = decode_value(raw, vpath, limits)
    cond = Condition(field, op, value)
    return (lambda _: cond), []


def decode_value(raw: object, path: str, limits: Limits) -> Value:
    """A condition value: a scalar, or a list of scalars (as a tuple); validate checks the rest."""
    if isinstance(raw, list):
        if len(raw) > limits.max_in_values:
            raise InvalidArgument(f"{path}: {len(raw)} values (limit {limits.max_in_values})")
        return tuple(_scalar(v, at(path, i)) for i, v in enumerate(raw))
    return _scalar(raw, path, "a string, integer, true, false or a list of them")


def _scalar(raw: object, path: str, what: str = "a string, integer, true or false") -> Scalar:
    if isinstance(raw, str | bool):
        return raw
    if isinstance(raw, int):
        return _int_in_range(raw, path)
    raise InvalidArgument(f"{path}: expected {what}, got {show(raw)}")


def _int_in_range(raw: int, path: str) -> int:
    if not in_int_range(raw):
        raise InvalidArgument(f"{path}: integer out of the 64-bit range, got {raw}")
    return raw


def _decode_deals(obj: dict[str, Any], path: str, _: Limits) -> tuple[Builder, _Pending]:
    if obj["has"] != "deals":
        raise InvalidArgument(f'{sub(path, "has")}: expected "deals", got {show(obj["has"])}')
    count = _cmp(obj.get("count"), sub(path, "count"))
    if obj.get("where") is None:
        rule = HasDeals(None, count)
        return (lambda _: rule), []
    return (lambda rules: HasDeals(rules[0], count)), [(obj["where"], sub(path, "where"))]


def _decode_event(obj: dict[str, Any], path: str, limits: Limits) -> tuple[Builder, _Pending]:
    rule = EventRule(
        _string(obj, "event", path),
        _campaign(obj.get("campaign"), sub(path, "campaign"), limits),
        _window(obj.get("within"), sub(path, "within")),
        _cmp(obj.get("count"), sub(path, "count")),
    )
    return (lambda _: rule), []


def _decode_segment(obj: dict[str, Any], path: str, _: Limits) -> tuple[Builder, _Pending]:
    ever = obj.get("ever", False)
    if not isinstance(ever, bool):
        raise InvalidArgument(f"{sub(path, 'ever')}: expected true or false, got {show(ever)}")
    rule = SegmentRef(_string(obj, "segment", path), ever)
    return (lambda _: rule), []


_DECODERS: dict[str, Callable[[dict[str, Any], str, Limits], tuple[Builder, _Pending]]] = {
    "all": _decode_group,
    "any": _decode_group,
    "not": _decode_not,
    "field": _decode_condition,
    "has": _decode_deals,
    "event": _decode_event,
    "segment": _decode_segment,
}


def _string(obj: dict[str, Any], key: str, path: str) -> str:
    if key not in obj:
        raise InvalidArgument(f"{sub(path, key)}: missing")
    value = obj[key]
    if not isinstance(value, str):
        raise InvalidArgument(f"{sub(path, key)}: expected a string, got {show(value)}")
    return value


def _integer(value: object, path: str) -> int:
    if not is_int(value):
        raise InvalidArgument(f"{path}: expected an integer, got {show(value)}")
    assert isinstance(value, int)
    return _int_in_range(value, path)


def _object(value: object, path: str, example: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument(f"{path}: expected an object such as {example}, got {show(value)}")
    return value


def _cmp(raw: object, path: str) -> Cmp | None:
    if raw is None:
        return None
    obj = _object(raw, path, '{"gte": 1}')
    for key in obj:
        if key not in CMP_KEYS:
            raise InvalidArgument(f"{sub(path, str(key))}: unknown key (use {', '.join(CMP_KEYS)})")
    if not obj:
        raise InvalidArgument(f"{path}: expected at least one of {', '.join(CMP_KEYS)}")
    return Cmp(**{k: _integer(v, sub(path, k)) for k, v in obj.items()})


def _campaign(raw: object, path: str, limits: Limits) -> CampaignSelector | None:
    if raw is None or isinstance(raw, str):
        return raw
    obj = _object(raw, path, '"campaign-id", {"in": ["id"]} or {"last": 3}')
    if "in" in obj:
        for key in obj:
            if key != "in":
                raise InvalidArgument(f'{sub(path, str(key))}: unknown key (with "in" alone)')
        ids = obj["in"]
        ipath = sub(path, "in")
        if not isinstance(ids, list):
            raise InvalidArgument(f"{ipath}: expected a list of campaign ids, got {show(ids)}")
        if len(ids) > limits.max_in_values:
            raise InvalidArgument(f"{ipath}: {len(ids)} values (limit {limits.max_in_values})")
        for i, v in enumerate(ids):
            if not isinstance(v, str):
                raise InvalidArgument(f"{at(ipath, i)}: expected a string, got {show(v)}")
        return CampaignIn(tuple(ids))
    return _campaign_last(obj, path)


def _campaign_last(obj: dict[str, Any], path: str) -> CampaignLast:
    for key in obj:
        if key not in ("last", "match"):
            raise InvalidArgument(f"{sub(path, str(key))}: unknown key (use in, or last and match)")
    if "last" not in obj:
        raise InvalidArgument(f"{sub(path, 'last')}: missing")
    n = _integer(obj["last"], sub(path, "last"))
    match = obj.get("match", "any")
    if match not in ("any", "all"):
        raise InvalidArgument(f'{sub(path, "match")}: expected "all" or "any", got {show(match)}')
    return CampaignLast(n, match)


def _window(raw: object, path: str) -> Window | None:
    if raw is None:
        return None
    obj = _object(raw, path, '{"last": "30d"}')
    if len(obj) != 1 or next(iter(obj)) not in ("last", "since", "between"):
        raise InvalidArgument(
            f'{path}: expected exactly one of "last", "since" or "between", got {show(obj)}'
        )
    key, value = next(iter(obj.items()))
    kpath = sub(path, key)
    if key == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidArgument(f"{kpath}: expected a list of two times, got {show(value)}")
        return WindowBetween(_text(value[0], at(kpath, 0)), _text(value[1], at(kpath, 1)))
    text = _text(value, kpath)
    return WindowLast(text) if key == "last" else WindowSince(text)


def _text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{path}: expected a string, got {show(value)}")
    return value


# ---------------------------------------------------------------- encoding


def rule_to_json(rule: Rule) -> dict[str, Any]:
    """The canonical JSON object of a rule (lists, not tuples; defaults omitted)."""
    return fold(rule, _encode_node)


def rule_to_json_text(rule: Rule) -> str:
    """Compact canonical JSON text of a rule."""
    try:
        return orjson.dumps(rule_to_json(rule)).decode()
    except TypeError as e:
        raise InvalidArgument(f"cannot write rule as JSON: {e}") from None


def _encode_node(rule: Rule, kids: list[dict[str, Any]]) -> dict[str, Any]:
    if isinstance(rule, AllOf):
        return {"all": kids}
    if isinstance(rule, AnyOf):
        return {"any": kids}
    if isinstance(rule, Not):
        return {"not": kids[0]}
    if isinstance(rule, Condition):
        return _encode_condition(rule)
    if isinstance(rule, HasDeals):
        out: dict[str, Any] = {"has": "deals"}
        if kids:
            out["where"] = kids[0]
        if rule.count is not None:
            out["count"] = encode_cmp(rule.count)
        return out
    if isinstance(rule, EventRule):
        return _encode_event(rule)
    if isinstance(rule, SegmentRef):
        return {"segment": rule.segment, "ever": True} if rule.ever else {"segment": rule.segment}
    raise InvalidArgument(f"not a rule node: {rule!r}"[:200])


def _encode_condition(rule: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"field": rule.field, "op": rule.op}
    if rule.value is not None:
        out["value"] = list(rule.value) if isinstance(rule.value, tuple) else rule.value
    return out


def encode_cmp(cmp: Cmp) -> dict[str, int]:
    """A Cmp as JSON: its set keys in the order eq, gt, gte, lt, lte."""
    return {k: v for k in CMP_KEYS if (v := getattr(cmp, k)) is not None}


def _encode_event(rule: EventRule) -> dict[str, Any]:
    out: dict[str, Any] = {"event": rule.type}
    campaign = rule.campaign
    if isinstance(campaign, CampaignIn):
        out["campaign"] = {"in": list(campaign.ids)}
    elif isinstance(campaign, CampaignLast):
        last: dict[str, Any] = {"last": campaign.n}
        if campaign.match != "any":
            last["match"] = campaign.match
        out["campaign"] = last
    elif campaign is not None:
        out["campaign"] = campaign
    if rule.within is not None:
        out["within"] = _encode_window(rule.within)
    if rule.count is not None:
        out["count"] = encode_cmp(rule.count)
    return out


def _encode_window(window: Window) -> dict[str, Any]:
    if isinstance(window, WindowLast):
        return {"last": window.duration}
    if isinstance(window, WindowSince):
        return {"since": window.time}
    return {"between": [window.start, window.end]}
