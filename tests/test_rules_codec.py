"""The JSON codec: decoding every rule kind, canonical encoding, and shape errors by path."""

from __future__ import annotations

from typing import Any

import pytest

from bitseg.errors import InvalidArgument
from bitseg.rules import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Limits,
    Not,
    SegmentRef,
    WindowBetween,
    WindowLast,
    rule_from_json,
    rule_from_json_text,
    rule_to_json,
    rule_to_json_text,
)


def test_decodes_every_kind() -> None:
    obj = {
        "all": [
            {"field": "country", "op": "in", "value": ["DE", "FR"]},
            {
                "not": {
                    "has": "deals",
                    "where": {"field": "stage", "op": "eq", "value": "won"},
                    "count": {"gte": 2, "lt": 5},
                }
            },
            {
                "event": "email_opened",
                "campaign": {"last": 3, "match": "all"},
                "within": {"last": "30d"},
                "count": {"gte": 1},
            },
            {"event": "x", "campaign": {"in": ["c1"]}, "within": {"between": ["a", "b"]}},
            {"any": [{"segment": "VIP", "ever": True}, {"field": "phone", "op": "exists"}]},
        ]
    }
    assert rule_from_json(obj) == AllOf(
        (
            Condition("country", "in", ("DE", "FR")),
            Not(HasDeals(Condition("stage", "eq", "won"), Cmp(gte=2, lt=5))),
            EventRule("email_opened", CampaignLast(3, "all"), WindowLast("30d"), Cmp(gte=1)),
            EventRule("x", CampaignIn(("c1",)), WindowBetween("a", "b")),
            AnyOf((SegmentRef("VIP", True), Condition("phone", "exists"))),
        )
    )
    assert rule_to_json(rule_from_json(obj)) == obj


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ({"segment": "s", "ever": False}, {"segment": "s"}),
        (
            {"event": "e", "campaign": {"last": 2, "match": "any"}},
            {"event": "e", "campaign": {"last": 2}},
        ),
        ({"field": "phone", "op": "exists", "value": None}, {"field": "phone", "op": "exists"}),
        ({"has": "deals", "where": None, "count": None}, {"has": "deals"}),
        ({"event": "e", "campaign": None, "within": None, "count": None}, {"event": "e"}),
        (
            {"count": {"lt": 5, "gte": 2}, "has": "deals"},
            {"has": "deals", "count": {"gte": 2, "lt": 5}},
        ),
    ],
)
def test_defaults_are_omitted_in_canonical_json(
    given: dict[str, Any], canonical: dict[str, Any]
) -> None:
    assert rule_to_json(rule_from_json(given)) == canonical
    assert rule_to_json_text(rule_from_json(given)) == rule_to_json_text(rule_from_json(canonical))


def test_json_text_is_compact_with_fixed_key_order() -> None:
    rule = Condition("country", "in", ("DE",))
    assert rule_to_json_text(rule) == '{"field":"country","op":"in","value":["DE"]}'
    assert rule_from_json_text(b'{"value": ["DE"], "op": "in", "field": "country"}') == rule


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (3, "rule: expected a rule object, got 3"),
        ({}, "rule: expected a rule object with one of all, any, not, field, has, event, segment"),
        ({"any": [{"not": 3}]}, "any[0].not: expected a rule object, got 3"),
        (
            {"all": [{"field": "a", "op": "eq", "value": 1}, {}, {"field": "x", "value": 1}]},
            "all[1]: expected a rule object with one of all, any, not, field, has, event, segment",
        ),
        (
            {
                "all": [
                    {"field": "a", "op": "eq", "value": 1},
                    {"field": "b", "op": "eq", "value": 1},
                    {"field": "x", "value": 1},
                ]
            },
            "all[2].op: missing",
        ),
        ({"op": "eq", "value": 1}, "field: missing"),
        ({"field": "x", "op": "eq"}, "value: missing"),
        ({"field": "x", "op": "eq", "value": None}, "value: missing"),
        ({"field": 3, "op": "eq", "value": 1}, "field: expected a string, got 3"),
        (
            {"field": "x", "op": "equals", "value": 1},
            'op: unknown operator "equals" (operators: eq, ne, gt, gte, lt, lte, in, not_in, has, '
            "not_has, has_any, has_all, has_none, exists, not_exists, contains, starts_with, "
            "ends_with, between, within_last, older_than)",
        ),
        ({"field": "x", "op": "exists", "value": 1}, "value: exists takes no value, got 1"),
        (
            {"field": "x", "op": "eq", "value": 1.5},
            "value: expected a string, integer, true, false or a list of them, got 1.5",
        ),
        (
            {"field": "x", "op": "eq", "value": {"a": 1}},
            'value: expected a string, integer, true, false or a list of them, got {"a":1}',
        ),
        (
            {"field": "x", "op": "in", "value": ["a", [1]]},
            "value[1]: expected a string, integer, true or false, got [1]",
        ),
        (
            {"field": "x", "op": "eq", "value": 2**63},
            "value: integer out of the 64-bit range, got 9223372036854775808",
        ),
        (
            {"field": "x", "op": "eq", "value": 1, "extra": 2},
            "extra: unknown key (a field rule takes field, op, value)",
        ),
        ({"all": [], "field": "x"}, 'rule: one rule object cannot have both "all" and "field"'),
        ({"all": {"field": "x"}}, 'all: expected a list of rules, got {"field":"x"}'),
        (
            {"not": [{"field": "x", "op": "exists"}]},
            'not: expected a rule object, got [{"field":"x","op":"exists"}]',
        ),
        ({"has": "contacts"}, 'has: expected "deals", got "contacts"'),
        ({"has": "deals", "count": {"gte": True}}, "count.gte: expected an integer, got true"),
        ({"has": "deals", "count": {"gte": 1.0}}, "count.gte: expected an integer, got 1.0"),
        ({"has": "deals", "count": {"gte": "1"}}, 'count.gte: expected an integer, got "1"'),
        ({"has": "deals", "count": {}}, "count: expected at least one of eq, gt, gte, lt, lte"),
        ({"has": "deals", "count": {"ge": 1}}, "count.ge: unknown key (use eq, gt, gte, lt, lte)"),
        ({"has": "deals", "count": 2}, 'count: expected an object such as {"gte": 1}, got 2'),
        ({"has": "deals", "where": {"not": 1}}, "where.not: expected a rule object, got 1"),
        ({"event": 1}, "event: expected a string, got 1"),
        (
            {"event": "e", "campaign": {"last": True}},
            "campaign.last: expected an integer, got true",
        ),
        (
            {"event": "e", "campaign": {"last": 3, "match": "some"}},
            'campaign.match: expected "all" or "any", got "some"',
        ),
        ({"event": "e", "campaign": {"in": ["a", 2]}}, "campaign.in[1]: expected a string, got 2"),
        (
            {"event": "e", "campaign": {"in": "a"}},
            'campaign.in: expected a list of campaign ids, got "a"',
        ),
        ({"event": "e", "campaign": {"match": "all"}}, "campaign.last: missing"),
        (
            {"event": "e", "within": {"last": "1d", "since": "x"}},
            'within: expected exactly one of "last", "since" or "between", '
            'got {"last":"1d","since":"x"}',
        ),
        (
            {"event": "e", "within": {"between": ["a"]}},
            'within.between: expected a list of two times, got ["a"]',
        ),
        ({"event": "e", "within": {"since": 5}}, "within.since: expected a string, got 5"),
        ({"segment": "s", "ever": 1}, "ever: expected true or false, got 1"),
        ({"segment": "s", "foo": 1}, "foo: unknown key (a segment rule takes segment, ever)"),
    ],
)
def test_shape_errors_name_the_path(obj: object, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        rule_from_json(obj)
    assert e.value.message == message


def test_list_values_limited() -> None:
    limits = Limits(max_in_values=3)
    assert rule_from_json({"field": "x", "op": "in", "value": [1, 2, 3]}, limits)
    with pytest.raises(InvalidArgument, match=r"^all\[0\]\.value: 4 values \(limit 3\)$"):
        rule_from_json({"all": [{"field": "x", "op": "in", "value": [1, 2, 3, 4]}]}, limits)
    with pytest.raises(InvalidArgument, match=r"^campaign\.in: 4 values \(limit 3\)$"):
        rule_from_json({"event": "e", "campaign": {"in": ["a", "b", "c", "d"]}}, limits)


@pytest.mark.parametrize("text", ["", "{", '{"all": [}', "nul", b"\xff", '{"field": "a" "op": 1}'])
def test_malformed_json_text(text: str | bytes) -> None:
    with pytest.raises(InvalidArgument, match="^malformed JSON: "):
        rule_from_json_text(text)


def test_json_text_size_limit() -> None:
    with pytest.raises(InvalidArgument, match=r"^rule too large: 101 bytes \(limit 100\)$"):
        rule_from_json_text('{"segment": "' + "x" * 86 + '"}', Limits(max_message_bytes=100))
