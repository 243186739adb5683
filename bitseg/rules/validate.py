"""Checking a rule tree against an org's schema: `validate` (first problem) and
`collect_errors` (every problem, for a UI).

Owns the rules of what a well-formed rule means beyond its shape: the field exists, the
operator suits its type (schema.OPERATORS), the value suits the operator and the type
(scalar, list of at most max_in_values, [lo, hi], duration, time, no value for
exists / not_exists, no NUL in strings, keyword-like strings at most
schema.MAX_KEYWORD_BYTES), counts (one key, or a lower and an upper key), events
(type, campaign selector with `last` 1..1000, window), segment names, deal filters
(only conditions on deal fields and all / any / not), and the depth / node limits.

Every message starts with the path of the offending part: `all[2].value: ...`,
`any[0].field: ...`, `not.op: ...`, `where.field: ...`; a part of the root rule has just
its key (`field: ...`), the root itself is `rule`. The tree is walked with an explicit
stack, pre-order, so problems come in reading order.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator

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
    SegmentRef,
    Window,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.rules.vocab import (
    CMP_KEYS,
    LIST_OPS,
    OP_NAMES,
    VALUE_FREE_OPS,
    at,
    in_int_range,
    is_int,
    show,
    sub,
    where,
)
from bitseg.rules.walk import DEFAULT_LIMITS, check_limits
from bitseg.schema import (
    COMPANY_FIELDS,
    CONTACT_FIELDS,
    DEAL_FIELDS,
    MAX_KEYWORD_BYTES,
    OPERATORS,
    FieldType,
    OrgSchema,
)
from bitseg.timeutil import DAY, check_time, parse_duration

MAX_CAMPAIGN_LAST = 1000
_KEYWORDISH = frozenset({FieldType.KEYWORD, FieldType.SET, FieldType.REF})
_STRINGY = _KEYWORDISH | {FieldType.TEXT}
_Lookup = Callable[[str], FieldType | None]


def validate(rule: Rule, schema: OrgSchema, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise InvalidArgument for the first problem of `rule` under `schema`."""
    for message in _problems(rule, schema, limits):
        raise InvalidArgument(message)


def collect_errors(rule: Rule, schema: OrgSchema, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Every problem of `rule` under `schema`, in reading order ([] if it is valid)."""
    return list(_problems(rule, schema, limits))


def _problems(rule: Rule, schema: OrgSchema, limits: Limits) -> Iterator[str]:
    try:
        check_limits(rule, limits)
    except InvalidArgument as e:
        yield e.message
        return
    fields = _Fields("field", schema.field_type, _contact_names(schema))
    deal_fields = _Fields("deal field", schema.deal_field_type, tuple(DEAL_FIELDS))
    stack: list[tuple[Rule, str, bool]] = [(rule, "", False)]
    while stack:
        node, path, in_deal = stack.pop()
        if isinstance(node, AllOf | AnyOf):
            key = sub(path, "all" if isinstance(node, AllOf) else "any")
            kids = [(c, at(key, i), in_deal) for i, c in enumerate(node.children)]
            stack.extend(reversed(kids))
        elif isinstance(node, Not):
            stack.append((node.child, sub(path, "not"), in_deal))
        elif isinstance(node, Condition):
            yield from _condition(node, path, deal_fields if in_deal else fields, limits)
        elif in_deal and isinstance(node, HasDeals | EventRule | SegmentRef):
            yield f"{where(path)}: only field conditions, all, any and not can filter deals"
        elif isinstance(node, HasDeals):
            yield from _cmp(node.count, sub(path, "count"))
            if node.where is not None:
                stack.append((node.where, sub(path, "where"), True))
        elif isinstance(node, EventRule):
            yield from _event(node, path, limits)
        elif isinstance(node, SegmentRef):
            yield from _segment(node, path)
        else:
            yield f"{where(path)}: expected a rule node, got {type(node).__name__}"


class _Fields:
    """The fields one kind of condition may name: contact fields, or deal fields."""

    def __init__(self, noun: str, lookup: _Lookup, names: Iterable[str]) -> None:
        self.noun = noun
        self.lookup = lookup
        self.names = tuple(names)

    def unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names, n=1, cutoff=0.8)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f"unknown {self.noun} {show(name)}{hint}"


def _contact_names(schema: OrgSchema) -> tuple[str, ...]:
    company = (f"company.{name}" for name in COMPANY_FIELDS)
    custom = (f"custom.{name}" for name in schema.custom)
    return (*CONTACT_FIELDS, *company, *custom)


# ---------------------------------------------------------------- conditions


def _condition(rule: Condition, path: str, fields: _Fields, limits: Limits) -> Iterator[str]:
    fpath, opath = sub(path, "field"), sub(path, "op")
    if not isinstance(rule.field, str):
        yield f"{fpath}: expected a string, got {show(rule.field)}"
        return
    ftype = fields.lookup(rule.field)
    if ftype is None:
        yield f"{fpath}: {fields.unknown(rule.field)}"
        return
    if rule.op not in OP_NAMES:
        yield f"{opath}: unknown operator {show(rule.op)}"
        return
    if rule.op not in OPERATORS[ftype]:
        allowed = ", ".join(op for op in OP_NAMES if op in OPERATORS[ftype])
        yield (
            f'{opath}: "{rule.op}" is not an operator for {ftype} {fields.noun} {rule.field}'
            f" (use {allowed})"
        )
        return
    yield from _value(rule, ftype, sub(path, "value"), limits)


def _value(rule: Condition, ftype: FieldType, path: str, limits: Limits) -> Iterator[str]:
    op, value = rule.op, rule.value
    if op in VALUE_FREE_OPS:
        if value is not None:
            yield f"{path}: {op} takes no value, got {show(value)}"
        return
    if value is None:
        yield f"{path}: missing"
    elif op in LIST_OPS or op == "between":
        yield from _list(rule, ftype, path, limits)
    elif op in ("within_last", "older_than"):
        yield from _duration(value, path)
    else:
        yield from _scalar(value, rule.field, ftype, path)


def _list(rule: Condition, ftype: FieldType, path: str, limits: Limits) -> Iterator[str]:
    value = rule.value
    if rule.op == "between":
        if not isinstance(value, tuple) or len(value) != 2:
            yield f"{path}: between takes a list [lo, hi], got {show(value)}"
            return
    elif not isinstance(value, tuple):
        yield f"{path}: {rule.op} takes a list of values, got {show(value)}"
        return
    if len(value) > limits.max_in_values:
        yield f"{path}: {len(value)} values (limit {limits.max_in_values})"
        return
    for i, item in enumerate(value):
        yield from _scalar(item, rule.field, ftype, at(path, i))


def _scalar(value: object, name: str, ftype: FieldType, path: str) -> Iterator[str]:
    if ftype in _STRINGY:
        yield from _string(value, name, ftype, path)
    elif ftype is FieldType.INT:
        if not is_int(value):
            yield f"{path}: {name} takes an integer, got {show(value)}"
        elif not in_int_range(value):  # type: ignore[arg-type]
            yield f"{path}: {name} takes a 64-bit integer, got {value}"
    elif ftype is FieldType.BOOL:
        if not isinstance(value, bool):
            yield f"{path}: {name} takes true or false, got {show(value)}"
    elif not isinstance(value, str):
        yield f'{path}: {name} takes a time such as "2026-03-01" or "-30d", got {show(value)}'
    else:
        yield from _time(value, path)


def _string(value: object, name: str, ftype: FieldType, path: str) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"{path}: {name} takes a string, got {show(value)}"
    elif "\x00" in value:
        yield f"{path}: strings must not contain NUL"
    elif ftype in _KEYWORDISH and len(value.encode("utf-8", "surrogatepass")) > MAX_KEYWORD_BYTES:
        yield f"{path}: {ftype} values are at most {MAX_KEYWORD_BYTES} bytes, got {show(value)}"


def _time(value: object, path: str) -> Iterator[str]:
    try:
        check_time(value)
    except InvalidArgument as e:
        yield f"{path}: {e.message}"


def _duration(value: object, path: str, whole_days: bool = False) -> Iterator[str]:
    try:
        seconds = parse_duration(value)
    except InvalidArgument as e:
        yield f"{path}: {e.message}"
        return
    if whole_days and (seconds == 0 or seconds % DAY):
        yield f'{path}: event windows are whole UTC days, e.g. "30d" or "2w", got {show(value)}'


# ---------------------------------------------------------------- other rule kinds


def _cmp(cmp: Cmp | None, path: str) -> Iterator[str]:
    if cmp is None:
        return
    keys = [k for k in CMP_KEYS if getattr(cmp, k) is not None]
    for key in keys:
        n = getattr(cmp, key)
        if not is_int(n) or n < 0 or not in_int_range(n):
            yield f"{sub(path, key)}: expected a non-negative integer, got {show(n)}"
    lower = [k for k in keys if k in ("gt", "gte")]
    upper = [k for k in keys if k in ("lt", "lte")]
    if not keys:
        yield f"{path}: expected one of {', '.join(CMP_KEYS)}"
    elif len(keys) > 2 or (len(keys) == 2 and (len(lower), len(upper)) != (1, 1)):
        yield f"{path}: expected one key, or two keys forming a range (gt or gte, and lt or lte)"


def _event(rule: EventRule, path: str, limits: Limits) -> Iterator[str]:
    yield from _name(rule.type, sub(path, "event"), "an event type")
    yield from _campaign(rule.campaign, sub(path, "campaign"), limits)
    yield from _window(rule.within, sub(path, "within"))
    yield from _cmp(rule.count, sub(path, "count"))


def _campaign(campaign: CampaignSelector | None, path: str, limits: Limits) -> Iterator[str]:
    if campaign is None:
        return
    if isinstance(campaign, CampaignLast):
        n, mpath = campaign.n, sub(path, "last")
        if not is_int(n) or not 1 <= n <= MAX_CAMPAIGN_LAST:
            yield f"{mpath}: expected 1 to {MAX_CAMPAIGN_LAST} campaigns, got {show(n)}"
        if campaign.match not in ("any", "all"):
            yield f'{sub(path, "match")}: expected "all" or "any", got {show(campaign.match)}'
    elif isinstance(campaign, CampaignIn):
        ids, ipath = campaign.ids, sub(path, "in")
        if not ids:
            yield f"{ipath}: expected at least one campaign id"
        elif len(ids) > limits.max_in_values:
            yield f"{ipath}: {len(ids)} values (limit {limits.max_in_values})"
        else:
            for i, cid in enumerate(ids):
                yield from _name(cid, at(ipath, i), "a campaign id")
    else:
        yield from _name(campaign, path, "a campaign id")


def _window(window: Window | None, path: str) -> Iterator[str]:
    if window is None:
        return
    if isinstance(window, WindowLast):
        yield from _duration(window.duration, sub(path, "last"), whole_days=True)
    elif isinstance(window, WindowBetween):
        yield from _time(window.start, at(sub(path, "between"), 0))
        yield from _time(window.end, at(sub(path, "between"), 1))
    elif isinstance(window, WindowSince):
        yield from _time(window.time, sub(path, "since"))
    else:
        yield f"{path}: expected a window (last, since or between), got {show(window)}"


def _segment(rule: SegmentRef, path: str) -> Iterator[str]:
    yield from _name(rule.segment, sub(path, "segment"), "a segment name or id")
    if not isinstance(rule.ever, bool):
        yield f"{sub(path, 'ever')}: expected true or false, got {show(rule.ever)}"


def _name(value: object, path: str, what: str) -> Iterator[str]:
    if not isinstance(value, str) or not value.strip():
        yield f"{path}: expected {what} (a non-empty string), got {show(value)}"
    elif "\x00" in value:
        yield f"{path}: strings must not contain NUL"
