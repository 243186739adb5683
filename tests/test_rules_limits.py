"""Depth and size limits in every stage: refused cleanly and quickly, never a RecursionError."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest

from bitseg.errors import InvalidArgument
from bitseg.rules import (
    AllOf,
    Condition,
    HasDeals,
    Limits,
    Not,
    Rule,
    collect_errors,
    normalise,
    parse_text,
    rule_from_json,
    rule_from_json_text,
    rule_to_json,
    rule_to_json_text,
    to_text,
    validate,
)
from bitseg.schema import OrgSchema

LEAF = Condition("phone", "exists")
LEAF_JSON: dict[str, Any] = {"field": "phone", "op": "exists"}
SCHEMA = OrgSchema()
AT = r"^(line \d+, column \d+: )?"  # parse errors say where
DEEP = AT + r"rule too deep: more than 64 levels of nesting.* \(limit 64\)"
LARGE = AT + r"rule too large: .*\(limit 2000( nodes)?\)"


@contextmanager
def quick(seconds: float = 3.0) -> Iterator[None]:
    start = time.perf_counter()
    yield
    assert time.perf_counter() - start < seconds


def nots(n: int) -> Rule:
    rule: Rule = LEAF
    for _ in range(n):
        rule = Not(rule)
    return rule


def not_json(n: int) -> dict[str, Any]:
    obj = LEAF_JSON
    for _ in range(n):
        obj = {"not": obj}
    return obj


def wide(n: int) -> Rule:
    return AllOf(tuple(Condition("lead_score", "eq", i) for i in range(n)))


# ---------------------------------------------------------------- depth 64 / 65


def test_depth_64_accepted_everywhere() -> None:
    rule = nots(63)  # 63 Not nodes and the leaf: depth 64
    assert rule_from_json(not_json(63)) == rule
    assert rule_from_json_text(rule_to_json_text(rule)) == rule
    assert parse_text(to_text(rule)) == rule
    validate(rule, SCHEMA)
    assert normalise(rule, SCHEMA, 0) == Not(LEAF)


@pytest.mark.parametrize(
    "decode",
    [
        lambda: rule_from_json(not_json(64)),
        lambda: rule_from_json_text(rule_to_json_text(nots(64))),
        lambda: parse_text(to_text(nots(64))),
        lambda: parse_text("(" * 65 + "phone exists" + ")" * 65),
        lambda: validate(nots(64), SCHEMA),
        lambda: normalise(nots(64), SCHEMA, 0),
    ],
)
def test_depth_65_refused(decode: Callable[[], object]) -> None:
    with pytest.raises(InvalidArgument, match=DEEP):
        decode()


def test_depth_65_of_groups_refused() -> None:
    text = "phone exists"
    for _ in range(64):
        text = f"all({text})"
    with pytest.raises(InvalidArgument, match=DEEP):
        parse_text(text)
    obj: dict[str, Any] = LEAF_JSON
    for _ in range(64):
        obj = {"any": [obj, LEAF_JSON]}
    with pytest.raises(InvalidArgument, match=DEEP):
        rule_from_json(obj)


def test_deal_filter_counts_towards_depth() -> None:
    rule: Rule = LEAF
    for _ in range(64):
        rule = HasDeals(rule)
    assert collect_errors(rule, SCHEMA)[0].startswith("rule too deep")
    with pytest.raises(InvalidArgument, match=DEEP):
        rule_from_json(rule_to_json(rule))


def test_collect_errors_reports_the_limit_alone() -> None:
    assert collect_errors(nots(64), SCHEMA) == [
        "rule too deep: more than 64 levels of nesting (limit 64)"
    ]


# ---------------------------------------------------------------- 2000 / 2001 nodes


def test_2000_nodes_accepted_2001_refused() -> None:
    ok, big = wide(1999), wide(2000)
    assert rule_from_json(rule_to_json(ok)) == ok
    assert parse_text(to_text(ok)) == ok
    validate(ok, SCHEMA)
    for decode in (
        lambda: rule_from_json(rule_to_json(big)),
        lambda: rule_from_json_text(rule_to_json_text(big)),
        lambda: parse_text(to_text(big)),
        lambda: validate(big, SCHEMA),
        lambda: normalise(big, SCHEMA, 0),
    ):
        with pytest.raises(InvalidArgument, match=LARGE):
            decode()


def test_nodes_counted_across_nesting() -> None:
    # 1000 x Not(leaf) = 2000 nodes, plus the AllOf = 2001
    rule = AllOf(tuple(Not(Condition("a", "eq", i)) for i in range(1000)))
    with pytest.raises(InvalidArgument, match=LARGE):
        parse_text(to_text(rule))
    with pytest.raises(InvalidArgument, match=LARGE):
        rule_from_json(rule_to_json(rule))


def test_configured_limits() -> None:
    limits = Limits(max_depth=3, max_nodes=5)
    assert parse_text("not not a exists", limits) == nots(2).__class__(
        Not(Condition("a", "exists"))
    )
    with pytest.raises(InvalidArgument, match=r"\(limit 3\)"):
        parse_text("not not not a exists", limits)
    with pytest.raises(InvalidArgument, match=r"\(limit 5\)"):
        parse_text("a = 1 or b = 1 or c = 1 or d = 1 or e = 1", limits)
    with pytest.raises(InvalidArgument, match=r"\(limit 3\)"):
        rule_from_json(not_json(3), limits)


# ---------------------------------------------------------------- absurd input, quickly


def test_100k_parentheses() -> None:
    with quick(), pytest.raises(InvalidArgument, match=DEEP):
        parse_text("(" * 100_000 + "phone exists" + ")" * 100_000)
    with quick(), pytest.raises(InvalidArgument, match=DEEP):
        parse_text("(" * 100_000)


def test_100k_nots() -> None:
    with quick(), pytest.raises(InvalidArgument, match=DEEP):
        parse_text("not " * 100_000 + "phone exists")


def test_100k_nested_json_objects() -> None:
    deep = not_json(100_000)
    with quick(), pytest.raises(InvalidArgument, match=DEEP):
        rule_from_json(deep)
    text = '{"not":' * 100_000 + '{"field":"phone","op":"exists"}' + "}" * 100_000
    with quick(), pytest.raises(InvalidArgument, match="^rule too (deep|large)"):
        rule_from_json_text(text)
    with quick(), pytest.raises(InvalidArgument, match=DEEP):
        rule_from_json_text(text, Limits(max_nodes=1_000_000))
    with quick(), pytest.raises(InvalidArgument, match="^rule too (deep|large)"):
        rule_from_json_text("[" * 1_000_000 + "]" * 1_000_000)


def test_100k_deep_hand_built_tree() -> None:
    rule = nots(100_000)
    with quick():
        assert collect_errors(rule, SCHEMA)[0].startswith("rule too deep")
        with pytest.raises(InvalidArgument, match=DEEP):
            normalise(rule, SCHEMA, 0)
        text = to_text(rule)  # the printer walks any depth, in linear time
        assert text == "not " * 100_000 + "phone exists"
        with pytest.raises(InvalidArgument, match=DEEP):
            parse_text(text)
        assert rule_to_json(rule)["not"]["not"]["not"]


def test_a_million_conditions() -> None:
    text = " and ".join(["phone exists"] * 200_000)  # 3.4 MB: under the message limit
    with quick(), pytest.raises(InvalidArgument, match=LARGE):
        parse_text(text)
    with quick(), pytest.raises(InvalidArgument, match=LARGE):
        rule_from_json({"all": [LEAF_JSON] * 1_000_000})


def test_long_lists() -> None:
    values = ", ".join(f'"{i}"' for i in range(10_001))
    with pytest.raises(InvalidArgument, match=r"more than 10000 values in a list \(limit 10000\)"):
        parse_text(f"country in ({values})")
    with pytest.raises(InvalidArgument, match=r"^value: 10001 values \(limit 10000\)$"):
        rule_from_json({"field": "country", "op": "in", "value": list(range(10_001))})
    ok = f"country in ({', '.join(f'{chr(34)}{i}{chr(34)}' for i in range(10_000))})"
    assert len(parse_text(ok).value) == 10_000  # type: ignore[union-attr,arg-type]


def test_message_size_limit() -> None:
    limits = Limits(max_message_bytes=1000)
    with pytest.raises(InvalidArgument, match=r"^rule too large: 1011 bytes \(limit 1000\)$"):
        parse_text('name = "' + "é" * 501 + '"', limits)


def test_brackets_inside_strings_do_not_count() -> None:
    values = ["[{" * 4] * 8000  # 64,000 brackets, all inside strings
    rule = rule_from_json_text(orjson.dumps({"field": "country", "op": "in", "value": values}))
    assert isinstance(rule, Condition) and len(rule.value) == 8000  # type: ignore[arg-type]
