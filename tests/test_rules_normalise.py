"""The normaliser: fixture pairs for every rewrite, the output contract on random rules, and
meaning preserved (a tiny evaluator of the original rule against one of the normal form)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitseg.errors import InvalidArgument
from bitseg.rules import (
    AllOf,
    AnyOf,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    SegmentRef,
    normalise,
    parse_text,
    rule_to_json,
    to_text,
    validate,
)
from bitseg.rules.vocab import INT_MAX, INT_MIN
from bitseg.schema import FieldType, OrgSchema

NOW = 1_772_409_600  # 2026-03-02T00:00:00Z
SCHEMA = OrgSchema(custom={"features": FieldType.SET})
FIXTURE = Path(__file__).parent / "fixtures" / "rules" / "normalise.jsonl"


def _pairs() -> list[tuple[str, Any]]:
    rows = []
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            row = orjson.loads(line)
            rows.append((row["rule"], row["expect"]))
    return rows


def _bounds(obj: Any) -> Any:
    """Replace "MIN" / "MAX" in range values by the 64-bit bounds."""
    if isinstance(obj, list):
        return [_bounds(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _bounds(v) for k, v in obj.items()}
    if out.get("op") == "range":
        out["value"] = [{"MIN": INT_MIN, "MAX": INT_MAX}.get(v, v) for v in out["value"]]
    return out


@pytest.mark.parametrize(("text", "expect"), _pairs())
def test_fixture_pairs(text: str, expect: Any) -> None:
    rule = parse_text(text)
    validate(rule, SCHEMA)
    got = normalise(rule, SCHEMA, NOW)
    assert rule_to_json(got) == _bounds(expect)
    assert normalise(got, SCHEMA, NOW) == got  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        'created_at = "-1d"',
        'created_at between ("2026-01-01", "now")',
        'last_activity_at within last "30d"',
        'created_at older than "1d"',
        'has deals where (close_date > "-7d")',
    ],
)
def test_relative_time_needs_now(text: str) -> None:
    with pytest.raises(InvalidArgument, match="needs `now`"):
        normalise(parse_text(text), SCHEMA, None)


def test_absolute_times_need_no_now() -> None:
    rule = parse_text('created_at = "2026-03-01"')
    assert normalise(rule, SCHEMA, None) == Condition(
        "created_at", "range", (1772323200, 1772409599)
    )


def test_input_tree_is_not_changed_and_result_is_hashable() -> None:
    rule = parse_text('not (country in ("de", "fr") and tags has none ("x"))')
    before = rule_to_json(rule)
    out = normalise(rule, SCHEMA, NOW)
    assert rule_to_json(rule) == before
    assert hash(out) == hash(normalise(parse_text(to_text(rule)), SCHEMA, NOW))


# ---------------------------------------------------------------- random valid rules

DAY1 = (1772323200, 1772409599)  # 2026-03-01, as a rule value
TIMES: Mapping[str, tuple[int, int]] = {
    "2026-03-01": DAY1,
    "2026-03-01T12:00:00Z": (1772366400, 1772366400),
    "-1d": (NOW - 86_400, NOW - 86_400),
    "now": (NOW, NOW),
}
TIME_POINTS = (
    DAY1[0] - 1,
    DAY1[0],
    1772366400,
    DAY1[1],
    DAY1[1] + 1,
    NOW - 86_400,
    NOW,
    NOW - 2 * 86_400,
)
KEYWORDS = ("DE", "de", "FR", "Dx")
TAGS = ("a", "b", "A")
NAMES = ("Jo Smith", "jo", "SMITH", "")
INTS = (-1, 0, 1, 2, 5)


def _c(field: str, ops: tuple[str, ...], values: st.SearchStrategy[Any]) -> st.SearchStrategy[Rule]:
    return st.builds(Condition, st.just(field), st.sampled_from(ops), values)


def _tuples(pool: tuple[Any, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.sampled_from(pool), max_size=3).map(tuple)


_conditions = st.one_of(
    _c("country", ("eq", "ne", "starts_with", "contains"), st.sampled_from(KEYWORDS)),
    _c("country", ("in", "not_in"), _tuples(KEYWORDS)),
    _c("tags", ("has", "not_has"), st.sampled_from(TAGS)),
    _c("tags", ("has_any", "has_all", "has_none"), _tuples(TAGS)),
    _c("name", ("eq", "ne", "contains", "starts_with", "ends_with"), st.sampled_from(NAMES)),
    _c("lead_score", ("eq", "ne", "gt", "gte", "lt", "lte"), st.sampled_from(INTS)),
    _c("lead_score", ("between",), st.tuples(st.sampled_from(INTS), st.sampled_from(INTS))),
    _c("created_at", ("eq", "ne", "gt", "gte", "lt", "lte"), st.sampled_from(tuple(TIMES))),
    _c(
        "created_at",
        ("between",),
        st.tuples(st.sampled_from(tuple(TIMES)), st.sampled_from(tuple(TIMES))),
    ),
    _c("created_at", ("within_last", "older_than"), st.sampled_from(("1d", "2d", "36h"))),
    _c("unsubscribed", ("eq",), st.booleans()),
    *(
        _c(f, ("exists", "not_exists"), st.none())
        for f in ("country", "tags", "name", "lead_score", "created_at")
    ),
)
_leaves = _conditions | st.sampled_from([AllOf(()), AnyOf(()), EventRule("e"), SegmentRef("s")])


def _extend(children: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
    groups = st.lists(children, max_size=4).map(tuple)
    return st.one_of(groups.map(AllOf), groups.map(AnyOf), children.map(Not))


valid_rules = st.recursive(_leaves, _extend, max_leaves=14)

_contacts = st.fixed_dictionaries(
    {},
    optional={
        "country": st.sampled_from(("DE", "FR", "dE")),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3),
        "name": st.sampled_from(NAMES),
        "lead_score": st.sampled_from(INTS),
        "created_at": st.sampled_from(TIME_POINTS),
        "unsubscribed": st.booleans(),
    },
)

COMPLEMENTS = {
    "ne": "eq",
    "not_in": "in",
    "not_has": "has",
    "has_none": "has_any",
    "not_exists": "exists",
}
OTHER_LEAVES = {EventRule("e"): True, SegmentRef("s"): False}  # stand-ins with fixed answers


def holds(rule: Rule, c: Mapping[str, Any]) -> bool:
    """The original rule, straight from SPEC.md's semantics."""
    if isinstance(rule, AllOf):
        return all(holds(x, c) for x in rule.children)
    if isinstance(rule, AnyOf):
        return any(holds(x, c) for x in rule.children)
    if isinstance(rule, Not):
        return not holds(rule.child, c)
    if not isinstance(rule, Condition):
        return OTHER_LEAVES[rule]
    op, arg, v = rule.op, rule.value, c.get(rule.field)
    if op in COMPLEMENTS:
        return not holds(Condition(rule.field, COMPLEMENTS[op], arg), c)
    if rule.field == "unsubscribed":
        return (v is True) == arg
    if rule.field == "tags":
        v = set(v) if v else None
    if v is None:
        return False
    if op == "exists":
        return True
    if rule.field == "country":
        if op == "eq":
            return v == arg.upper()
        if op == "in":
            return v in {a.upper() for a in arg}
        return _text_op(op, v.lower(), arg.lower())
    if rule.field == "tags":
        return _set_op(op, v, arg)
    if rule.field == "name":
        return _text_op(op, v.lower(), arg.lower())
    if op in ("within_last", "older_than"):
        since = NOW - {"1d": 86_400, "2d": 172_800, "36h": 129_600}[arg]
        return since <= v <= NOW if op == "within_last" else v < since
    if rule.field == "created_at":
        lo, hi = (TIMES[arg[0]][0], TIMES[arg[1]][1]) if op == "between" else TIMES[arg]
    else:
        lo, hi = arg if op == "between" else (arg, arg)
    return {
        "eq": lo <= v <= hi,
        "between": lo <= v <= hi,
        "gt": v > hi,
        "gte": v >= lo,
        "lt": v < lo,
        "lte": v <= hi,
    }[op]


def holds_normal(rule: Rule, c: Mapping[str, Any]) -> bool:
    """The normal form, with only the positive operators of the contract."""
    if isinstance(rule, AllOf):
        return all(holds_normal(x, c) for x in rule.children)
    if isinstance(rule, AnyOf):
        return any(holds_normal(x, c) for x in rule.children)
    if isinstance(rule, Not):
        return not holds_normal(rule.child, c)
    if not isinstance(rule, Condition):
        return OTHER_LEAVES[rule]
    op, arg, v = rule.op, rule.value, c.get(rule.field)
    if rule.field == "tags":
        v = set(v) if v else None
    if v is None:
        return False
    if op == "exists":
        return True
    if op == "range":
        return arg[0] <= v <= arg[1]
    if rule.field == "unsubscribed":
        return v is True and arg is True
    if rule.field == "tags":
        return _set_op(op, v, arg)
    if op == "in":
        return v in arg
    if op == "eq":
        return v.lower() == arg if rule.field == "name" else v == arg
    return _text_op(op, v.lower(), arg)


def _set_op(op: str, values: set[str], arg: Any) -> bool:
    if op == "has":
        return arg in values
    return bool(values & set(arg)) if op == "has_any" else set(arg) <= values


def _text_op(op: str, value: str, needle: str) -> bool:
    if op == "eq":
        return value == needle
    if op == "contains":
        return needle in value
    return value.startswith(needle) if op == "starts_with" else value.endswith(needle)


ALLOWED = {
    "country": {"eq", "in", "exists", "starts_with", "contains"},
    "tags": {"has", "has_any", "has_all", "exists"},
    "name": {"eq", "contains", "starts_with", "ends_with", "exists"},
    "lead_score": {"range", "exists"},
    "created_at": {"range", "exists"},
    "unsubscribed": {"eq"},
}


def check_contract(rule: Rule, root: bool = True) -> None:
    if isinstance(rule, AllOf | AnyOf):
        assert root or len(rule.children) >= 2, rule
        assert len(set(rule.children)) == len(rule.children), rule
        for child in rule.children:
            assert not isinstance(child, type(rule)), rule
            check_contract(child, root=False)
    elif isinstance(rule, Not):
        assert isinstance(rule.child, Condition | HasDeals | EventRule | SegmentRef), rule
        check_contract(rule.child, root=False)
    elif isinstance(rule, Condition):
        assert rule.op in ALLOWED[rule.field], rule
        if rule.op in ("in", "has_any", "has_all"):
            assert isinstance(rule.value, tuple) and len(rule.value) >= 2
            assert list(rule.value) == sorted(set(rule.value))
        if rule.op == "range":
            assert isinstance(rule.value, tuple)
            lo, hi = rule.value
            assert INT_MIN <= lo <= hi <= INT_MAX
        if rule.field in ("name",) and isinstance(rule.value, str):
            assert rule.value == rule.value.lower()
        if rule.field == "unsubscribed":
            assert rule.value is True


@settings(max_examples=500)
@given(valid_rules, st.lists(_contacts, min_size=1, max_size=8))
def test_normal_form_keeps_the_meaning(rule: Rule, contacts: list[dict[str, Any]]) -> None:
    validate(rule, SCHEMA)
    normal = normalise(rule, SCHEMA, NOW)
    check_contract(normal)
    for contact in contacts:
        assert holds_normal(normal, contact) == holds(rule, contact), (contact, normal)


@given(valid_rules)
def test_normalise_is_idempotent_and_negation_is_an_involution(rule: Rule) -> None:
    normal = normalise(rule, SCHEMA, NOW)
    assert normalise(normal, SCHEMA, NOW) == normal
    assert normalise(Not(Not(rule)), SCHEMA, NOW) == normal
    check_contract(normalise(Not(rule), SCHEMA, NOW))
