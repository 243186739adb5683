"""Round trips of the rule forms: canonical texts from the fixture file, and random trees.

text -> tree -> text prints back as written; tree -> JSON -> tree is equal (and so is
tree -> JSON text -> tree); for random valid-shaped trees (every node kind, depth up to
about 6, strings with quotes, backslashes, control characters and non-ASCII) the text
and JSON forms both read back to the same tree and print stably.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bitseg.rules import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    SegmentRef,
    WindowBetween,
    WindowLast,
    WindowSince,
    codec,
    parse_text,
    parser,
    printer,
    rule_from_json,
    rule_from_json_text,
    rule_to_json,
    rule_to_json_text,
    to_text,
    vocab,
)
from bitseg.rules.vocab import INT_MAX, INT_MIN, LIST_OPS, OP_NAMES, VALUE_FREE_OPS

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def canonical_texts() -> list[str]:
    lines = (FIXTURES / "canonical.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("text", canonical_texts())
def test_canonical_text_round_trips(text: str) -> None:
    tree = parse_text(text)
    assert to_text(tree) == text
    as_json = rule_to_json(tree)
    assert rule_from_json(as_json) == tree
    assert rule_to_json(rule_from_json(as_json)) == as_json
    assert rule_from_json_text(rule_to_json_text(tree)) == tree
    assert rule_to_json_text(rule_from_json_text(rule_to_json_text(tree))) == rule_to_json_text(
        tree
    )


def test_fixture_covers_every_operator_and_rule_kind() -> None:
    trees = [parse_text(t) for t in canonical_texts()]
    json_text = " ".join(rule_to_json_text(t) for t in trees)
    for op in OP_NAMES:
        assert f'"op":"{op}"' in json_text, op
    for key in (
        '"all"',
        '"any"',
        '"not"',
        '"has":"deals"',
        '"where"',
        '"event"',
        '"segment"',
        '"ever":true',
        '"in":',
        '"last":3',
        '"match":"all"',
        '"since"',
        '"between"',
    ):
        assert key in json_text, key


def test_modules_doctests() -> None:
    for module in (vocab, parser, printer, codec):
        assert doctest.testmod(module).failed == 0, module.__name__


# ---------------------------------------------------------------- random trees

_texts = st.text(max_size=8) | st.sampled_from(["", '"', "\\", 'a"b\\c', "\n\t", "Müller", "😀"])
_fields = st.sampled_from(
    [
        "country",
        "company.size",
        "fit_score.crm",
        "custom.x",
        "and",
        "not",
        "has",
        "ALL",
        "true",
        "x y",
        "a.b.c",
        "_",
        "9lives",
        "",
    ]
) | st.text(max_size=6)
_ints = st.integers(INT_MIN, INT_MAX) | st.integers(-3, 3)
_scalars = _texts | _ints | st.booleans()
_values = _scalars | st.lists(_scalars, max_size=3).map(tuple)


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    op = draw(st.sampled_from(OP_NAMES))
    if op in VALUE_FREE_OPS:
        return Condition(draw(_fields), op)
    if op in LIST_OPS:
        value = draw(st.lists(_scalars, max_size=3).map(tuple) | _scalars)
    else:
        value = draw(_values)
    return Condition(draw(_fields), op, value)


@st.composite
def cmps(draw: st.DrawFn) -> Cmp:
    keys = draw(st.sets(st.sampled_from(("eq", "gt", "gte", "lt", "lte")), min_size=1, max_size=2))
    return Cmp(**{k: draw(_ints) for k in keys})


_campaigns = (
    st.none()
    | _texts
    | st.lists(_texts, max_size=3).map(lambda ids: CampaignIn(tuple(ids)))
    | st.builds(CampaignLast, _ints, st.sampled_from(("any", "all")))
)
_windows = (
    st.none()
    | st.builds(WindowLast, _texts)
    | st.builds(WindowSince, _texts)
    | st.builds(WindowBetween, _texts, _texts)
)
_events = st.builds(EventRule, _texts, _campaigns, _windows, st.none() | cmps())
_segments = st.builds(SegmentRef, _texts, st.booleans())
_leaves = conditions() | _events | _segments | st.builds(HasDeals, st.none(), st.none() | cmps())


def _extend(children: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
    groups = st.lists(children, max_size=4).map(tuple)
    return st.one_of(
        groups.map(AllOf),
        groups.map(AnyOf),
        children.map(Not),
        st.builds(HasDeals, children, st.none() | cmps()),
    )


trees = st.recursive(_leaves, _extend, max_leaves=12)


@settings(max_examples=400)
@given(trees)
def test_random_tree_text_round_trip(tree: Rule) -> None:
    text = to_text(tree)
    assert parse_text(text) == tree
    assert to_text(parse_text(text)) == text


@settings(max_examples=400)
@given(trees)
def test_random_tree_json_round_trip(tree: Rule) -> None:
    as_json = rule_to_json(tree)
    assert rule_from_json(as_json) == tree
    json_text = rule_to_json_text(tree)
    assert rule_from_json_text(json_text) == tree
    assert rule_to_json_text(rule_from_json_text(json_text)) == json_text


@given(trees)
def test_text_and_json_agree(tree: Rule) -> None:
    """Equal trees can still differ as 1 vs true; the JSON text tells them apart."""
    assert rule_to_json_text(parse_text(to_text(tree))) == rule_to_json_text(tree)


@given(_texts)
def test_any_string_survives_as_value_and_field(s: str) -> None:
    rule = AllOf((Condition(s, "eq", s), Condition("f", "in", (s, s))))
    assert parse_text(to_text(rule)) == rule
