"""Normalisation: a VALIDATED rule -> the small positive form the bitmap engine evaluates.

Owns the output contract the engine relies on (`normalise(rule, schema, now)`):

Structure
- `Not` wraps only leaves (Condition, HasDeals, EventRule, SegmentRef): De Morgan pushes
  it through AllOf / AnyOf, and `Not(Not(x))` is `x`.
- No AllOf directly inside an AllOf, no AnyOf inside an AnyOf; a group of one child is
  that child; `AllOf(())` is every live contact, `AnyOf(())` nobody. An AllOf holding
  `AnyOf(())` is `AnyOf(())`; an AnyOf holding `AllOf(())` is `AllOf(())`; the other
  empty groups vanish when flattened. Exact duplicate children are dropped (first kept,
  order otherwise unchanged). So every group left has 2+ children, and an empty group
  is only ever the whole result (or, AnyOf(()) only, a HasDeals `where`).

Conditions (only positive operators; a complement is `Not` of the positive form)
- keyword, ref: `eq` str, `in` tuple of 2+ distinct sorted str, `exists`, and for keyword
  `starts_with` / `contains` (value lower-cased: they compare case-insensitively).
  eq / in values pass through schema.normalise_keyword (country upper-case, domains
  lower-case). `in ()` -> AnyOf(()), `in (x)` -> eq x.
- set: `has` str, `has_any` / `has_all` tuple of 2+ distinct sorted str, `exists`.
  `has_any ()` -> AnyOf(()); `has_all ()` -> `exists` (a set with every one of no values
  is any non-empty set: an empty set counts as missing, as in tests/reference.py);
  a one-value has_any / has_all -> `has`. Set values are not case-folded.
- text: `eq`, `contains`, `starts_with`, `ends_with` (value str.lower()), `exists`.
- int, time: `range` with value (lo, hi), inclusive ints, an open end being -(2**63) or
  2**63 - 1, and `exists`. An empty range (lo > hi) -> AnyOf(()).
  int: eq c -> (c, c); gt c -> (c+1, MAX); gte c -> (c, MAX); lt c -> (MIN, c-1);
  lte c -> (MIN, c); between [a, b] -> (a, b).
  time, with [V.lo, V.hi] = timeutil.parse_time_interval(V, now) (a date is its whole
  UTC day, an instant has lo == hi): eq -> (V.lo, V.hi); gt -> (V.hi+1, MAX);
  gte -> (V.lo, MAX); lt -> (MIN, V.lo-1); lte -> (MIN, V.hi); between [A, B] ->
  (A.lo, B.hi); within_last D -> (now-D, now); older_than D -> (MIN, now-D-1). A
  relative time or within_last / older_than with now=None is an InvalidArgument.
- bool: `eq` True; `eq false` -> Not(eq True).
- ne -> Not(eq form), not_in -> Not(in form), not_has -> Not(has), has_none ->
  Not(has_any form), not_exists -> Not(exists); Not(AnyOf(())) is AllOf(()) and back.

Other leaves
- HasDeals: `where` normalised the same way against the deal fields
  (schema.deal_field_type); a `where` that normalises to AllOf(()) becomes None (every
  deal); one that normalises to AnyOf(()) stays, since a count can still match zero
  deals. `count` passes through.
- EventRule and SegmentRef pass through unchanged (a later stage resolves them).

`normalise` is idempotent: a normal form (including `range` conditions) normalises to
itself. The walk is a bottom-up fold on an explicit stack computing, for every node, both its
normal form and the normal form of its negation, so De Morgan costs one pass.
"""

from __future__ import annotations

from collections.abc import Callable

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.rules.model import (
    AllOf,
    AnyOf,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    SegmentRef,
)
from bitseg.rules.vocab import INT_MAX, INT_MIN
from bitseg.rules.walk import DEFAULT_LIMITS, boolean_children, check_limits, fold
from bitseg.schema import FieldType, OrgSchema, normalise_keyword
from bitseg.timeutil import parse_duration, parse_time_interval

FieldTypeOf = Callable[[str], FieldType | None]
EVERYONE = AllOf(())
NOBODY = AnyOf(())
_COMPLEMENT = {"ne": "eq", "not_in": "in", "not_has": "has", "has_none": "has_any",
               "not_exists": "exists"}  # fmt: skip
_Pair = tuple[Rule, Rule]  # (normal form, normal form of the negation)


def normalise(
    rule: Rule, schema: OrgSchema, now: int | None, limits: Limits = DEFAULT_LIMITS
) -> Rule:
    """The normal form of a validated rule (see the module docstring)."""
    check_limits(rule, limits)
    return normalise_with(rule, schema.field_type, now, schema.deal_field_type)


def normalise_with(
    rule: Rule, field_type: FieldTypeOf, now: int | None, deal_field_type: FieldTypeOf | None
) -> Rule:
    """Normalise against any field-type lookup; `deal_field_type` None forbids HasDeals."""

    def leave(node: Rule, kids: list[_Pair]) -> _Pair:
        if isinstance(node, AllOf):
            return all_of([p for p, _ in kids]), any_of([n for _, n in kids])
        if isinstance(node, AnyOf):
            return any_of([p for p, _ in kids]), all_of([n for _, n in kids])
        if isinstance(node, Not):
            return kids[0][1], kids[0][0]
        positive = _leaf(node, field_type, now, deal_field_type)
        return positive, negate(positive)

    return fold(rule, leave, boolean_children)[0]


def _leaf(
    node: Rule, field_type: FieldTypeOf, now: int | None, deal_field_type: FieldTypeOf | None
) -> Rule:
    if isinstance(node, Condition):
        ftype = field_type(node.field)
        if ftype is None:
            raise InvalidArgument(f'unknown field "{node.field}" (validate before normalising)')
        try:
            return condition(node, ftype, now)
        except InvalidArgument as e:
            raise InvalidArgument(f"{node.field}: {e.message}") from None
    if deal_field_type is None:
        raise InvalidArgument("only field conditions, all, any and not can filter deals")
    if isinstance(node, HasDeals):
        if node.where is None:
            return node
        where = normalise_with(node.where, deal_field_type, now, None)
        return HasDeals(None if where == EVERYONE else where, node.count)
    if isinstance(node, EventRule | SegmentRef):
        return node
    raise InvalidArgument(f"not a rule node: {type(node).__name__}")


# ---------------------------------------------------------------- structure


def negate(rule: Rule) -> Rule:
    """The normal form of Not(rule) for a normalised leaf, Not(leaf) or empty group."""
    if isinstance(rule, Not):
        return rule.child
    if isinstance(rule, AllOf | AnyOf):
        if rule.children:
            raise AssertionError("negate() takes a leaf, not a group")
        return NOBODY if isinstance(rule, AllOf) else EVERYONE
    return Not(rule)


def all_of(children: list[Rule]) -> Rule:
    """AllOf of normalised children: flattened, de-duplicated, simplified."""
    return _group(children, AllOf, absorbing=NOBODY)


def any_of(children: list[Rule]) -> Rule:
    """AnyOf of normalised children: flattened, de-duplicated, simplified."""
    return _group(children, AnyOf, absorbing=EVERYONE)


def _group(children: list[Rule], kind: type[AllOf] | type[AnyOf], absorbing: Rule) -> Rule:
    out: list[Rule] = []
    seen: set[Rule] = set()
    for child in children:
        parts = child.children if isinstance(child, kind) else (child,)
        for part in parts:
            if part == absorbing:
                return absorbing
            if part not in seen:
                seen.add(part)
                out.append(part)
    return out[0] if len(out) == 1 else kind(tuple(out))


# ---------------------------------------------------------------- conditions


def condition(rule: Condition, ftype: FieldType, now: int | None) -> Rule:
    """The normal form of one validated condition on a field of type `ftype`."""
    if rule.op in _COMPLEMENT:
        positive = Condition(rule.field, _COMPLEMENT[rule.op], rule.value)
        return negate(condition(positive, ftype, now))
    if rule.op == "exists":
        return Condition(rule.field, "exists")
    if rule.op == "range" and isinstance(rule.value, tuple):  # already normal: idempotent
        lo, hi = rule.value
        return int_range(rule.field, int(lo), int(hi))
    if ftype is FieldType.BOOL:
        positive = Condition(rule.field, "eq", True)
        return positive if rule.value is True else negate(positive)
    if ftype in (FieldType.KEYWORD, FieldType.REF):
        return _keyword(rule)
    if ftype is FieldType.SET:
        return _set(rule)
    if ftype is FieldType.TEXT:
        return Condition(rule.field, rule.op, str(rule.value).lower())
    if ftype is FieldType.INT:
        return _int(rule)
    return _time(rule, now)


def _keyword(rule: Condition) -> Rule:
    field, op, value = rule.field, rule.op, rule.value
    if op == "eq":
        return Condition(field, "eq", normalise_keyword(field, str(value)))
    if op == "in":
        assert isinstance(value, tuple)
        return _one_of(field, "in", "eq", {normalise_keyword(field, str(v)) for v in value})
    return Condition(field, op, str(value).lower())  # starts_with, contains


def _set(rule: Condition) -> Rule:
    field, op, value = rule.field, rule.op, rule.value
    if op == "has":
        return rule
    assert isinstance(value, tuple)
    values = {str(v) for v in value}
    if op == "has_all" and not values:
        return Condition(field, "exists")
    return _one_of(field, op, "has", values)


def _one_of(field: str, op: str, single_op: str, values: set[str]) -> Rule:
    if not values:
        return NOBODY
    if len(values) == 1:
        return Condition(field, single_op, next(iter(values)))
    return Condition(field, op, tuple(sorted(values)))


def _int(rule: Condition) -> Rule:
    field, op, value = rule.field, rule.op, rule.value
    if op == "between":
        assert isinstance(value, tuple)
        lo, hi = value
        return int_range(field, int(lo), int(hi))
    assert isinstance(value, int)
    return int_range(field, *_bounds(op, value, value))


def _time(rule: Condition, now: int | None) -> Rule:
    field, op, value = rule.field, rule.op, rule.value
    if op in ("within_last", "older_than"):
        if now is None:
            raise InvalidArgument(f"{op} needs `now`")
        since = now - parse_duration(value)
        if op == "within_last":
            return int_range(field, since, now)
        return int_range(field, INT_MIN, since - 1)
    if op == "between":
        assert isinstance(value, tuple)
        start, end = value
        lo, hi = parse_time_interval(start, now)[0], parse_time_interval(end, now)[1]
        return int_range(field, lo, hi)
    lo, hi = parse_time_interval(value, now)
    return int_range(field, *_bounds(op, lo, hi))


def _bounds(op: str, lo: int, hi: int) -> tuple[int, int]:
    """The inclusive range `op` selects against a value standing for [lo, hi]."""
    if op == "eq":
        return lo, hi
    if op == "gt":
        return hi + 1, INT_MAX
    if op == "gte":
        return lo, INT_MAX
    if op == "lt":
        return INT_MIN, lo - 1
    if op == "lte":
        return INT_MIN, hi
    raise InvalidArgument(f'"{op}" is not an operator for int and time fields')


def int_range(field: str, lo: int, hi: int) -> Rule:
    """`Condition(field, "range", (lo, hi))` clamped to 64 bits; AnyOf(()) if empty."""
    lo, hi = max(lo, INT_MIN), min(hi, INT_MAX)
    return NOBODY if lo > hi else Condition(field, "range", (lo, hi))
