"""Small rule-building helpers shared by the grammar and the assembler.

`negate` turns "not X" into the positive operator where the SPEC makes them equal
(`ne`, `not_in`, `not_has`, `has_none`, `not_exists`, a flipped bool; all complements
within live contacts) and into `Not` otherwise; `merge_any` folds "country = DE or country
= FR" into `country in ("DE", "FR")`; `all_of` / `any_of` flatten and unwrap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bitseg.nl.pieces import Compare
from bitseg.rules.model import AllOf, AnyOf, Cmp, Condition, Not, Rule, Scalar

_FLIP = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in", "has": "not_has",
         "not_has": "has", "has_any": "has_none", "has_none": "has_any",
         "exists": "not_exists", "not_exists": "exists"}  # fmt: skip
_BOOL_FIELDS_OP = "eq"


def negate(rule: Rule) -> Rule:
    """`not rule`, written with the complementary operator when there is one."""
    if isinstance(rule, Not):
        return rule.child
    if isinstance(rule, Condition):
        if rule.op == "eq" and isinstance(rule.value, bool):
            return Condition(rule.field, "eq", not rule.value)
        if rule.op in _FLIP:
            return Condition(rule.field, _FLIP[rule.op], rule.value)
    return Not(rule)


def all_of(rules: Iterable[Rule]) -> Rule:
    """AND of `rules`, nested ANDs flattened; one rule stays itself."""
    flat: list[Rule] = []
    for rule in rules:
        flat.extend(rule.children if isinstance(rule, AllOf) else (rule,))
    return flat[0] if len(flat) == 1 else AllOf(tuple(flat))


def any_of(rules: Iterable[Rule]) -> Rule:
    """OR of `rules`, nested ORs flattened, same-field equalities merged; one stays itself."""
    flat: list[Rule] = []
    for rule in rules:
        flat.extend(rule.children if isinstance(rule, AnyOf) else (rule,))
    merged = merge_any(flat)
    return merged[0] if len(merged) == 1 else AnyOf(tuple(merged))


def merge_any(rules: Sequence[Rule]) -> list[Rule]:
    """Fold `f = a or f = b` / `f in (..)` into one `in`, and `has` / `has_any` into `has_any`."""
    out: list[Rule] = []
    at: dict[tuple[str, str], int] = {}
    for rule in rules:
        kind = _positive_kind(rule)
        if kind is None:
            out.append(rule)
            continue
        assert isinstance(rule, Condition)
        slot = (rule.field, kind)
        if slot not in at:
            at[slot] = len(out)
            out.append(rule)
            continue
        previous = out[at[slot]]
        assert isinstance(previous, Condition)
        values = _values(previous) + tuple(v for v in _values(rule) if v not in _values(previous))
        op = "in" if kind == "eq" else "has_any"
        out[at[slot]] = Condition(rule.field, op, values)
    return out


def _positive_kind(rule: Rule) -> str | None:
    if isinstance(rule, Condition) and not isinstance(rule.value, bool):
        if rule.op in ("eq", "in"):
            return "eq"
        if rule.op in ("has", "has_any"):
            return "has"
    return None


def _values(rule: Condition) -> tuple[Scalar, ...]:
    value = rule.value
    return tuple(value) if isinstance(value, tuple) else (value,)  # type: ignore[arg-type]


def values_condition(
    field: str, values: Sequence[str], joiner: str = "or", is_set: bool = False
) -> Condition:
    """`field = v`, `field in (...)`; for sets `has`, `has_any` ("or") or `has_all` ("and")."""
    unique = tuple(dict.fromkeys(values))
    if len(unique) == 1:
        return Condition(field, "has" if is_set else "eq", unique[0])
    if is_set:
        return Condition(field, "has_all" if joiner == "and" else "has_any", unique)
    return Condition(field, "in", unique)


def compare_condition(field: str, compare: Compare, scale: int = 1) -> Condition:
    """The condition "`field` <compare>", values multiplied by `scale`."""
    if compare.op == "between":
        lo, hi = compare.value  # type: ignore[misc]
        return Condition(field, "between", (lo * scale, hi * scale))
    return Condition(field, compare.op, int(compare.value) * scale)  # type: ignore[arg-type]


def compare_cmp(compare: Compare) -> Cmp:
    """A count comparison; a bare number ("3 tickets") means "at least"."""
    if compare.op == "between":
        lo, hi = compare.value  # type: ignore[misc]
        return Cmp(gte=lo, lte=hi)
    return Cmp(**{compare.op: int(compare.value)})  # type: ignore[arg-type]
