"""Validation against an org schema: exact messages with paths, and collecting them all."""

from __future__ import annotations

import pytest

from bitseg.errors import InvalidArgument
from bitseg.rules import (
    AllOf,
    CampaignIn,
    CampaignLast,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Limits,
    Not,
    Rule,
    SegmentRef,
    WindowLast,
    collect_errors,
    parse_text,
    validate,
)
from bitseg.schema import FieldType, OrgSchema

SCHEMA = OrgSchema(custom={"seats": FieldType.INT, "features": FieldType.SET})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'country = "DE" and phone exists and lead_score > "eighty"',
            'all[2].value: lead_score takes an integer, got "eighty"',
        ),
        (
            'lead_scor > 3 or country = "DE"',
            'any[0].field: unknown field "lead_scor" (did you mean "lead_score"?)',
        ),
        ("company.sise = 3", 'field: unknown field "company.sise" (did you mean "company.size"?)'),
        ("nonsense exists", 'field: unknown field "nonsense"'),
        (
            'phone exists and tags contains "x"',
            'all[1].op: "contains" is not an operator for set field tags '
            "(use has, not_has, has_any, has_all, has_none, exists, not_exists)",
        ),
        (
            'company_id starts with "x"',
            'op: "starts_with" is not an operator for ref field company_id '
            "(use eq, ne, in, not_in, exists, not_exists)",
        ),
        ('created_at > "2026-13-45" and phone exists', 'all[0].value: malformed date "2026-13-45"'),
        (
            'not created_at > "yesterday"',
            'not.value: malformed time "yesterday": expected ISO-8601',
        ),
        ("created_at = 5", 'value: created_at takes a time such as "2026-03-01" or "-30d", got 5'),
        ('unsubscribed = "yes"', 'value: unsubscribed takes true or false, got "yes"'),
        ("lead_score = true", "value: lead_score takes an integer, got true"),
        ('country in "DE"', 'value: in takes a list of values, got "DE"'),
        ('country in ("DE", 3)', "value[1]: country takes a string, got 3"),
        ('tags has ("a")', 'value: tags takes a string, got ["a"]'),
        ("lead_score between (1)", "value: between takes a list [lo, hi], got [1]"),
        ("lead_score between (1, true)", "value[1]: lead_score takes an integer, got true"),
        (
            'last_activity_at within last "30x"',
            'value: malformed duration "30x": '
            'expected a number and a unit (s, m, h, d, w), e.g. "30d"',
        ),
        ('name = "a\\u0000b"', "value: strings must not contain NUL"),
        ('custom.seats = "x"', 'value: custom.seats takes an integer, got "x"'),
        ("custom.undeclared = 3", "value: custom.undeclared takes a string, got 3"),
        (
            'has deals where (stage = "won" and stag = "x")',
            'where.all[1].field: unknown deal field "stag" (did you mean "stage"?)',
        ),
        (
            'not has deals where (not value > "big")',
            'not.where.not.value: value takes an integer, got "big"',
        ),
        ('has deals where (country = "DE")', 'where.field: unknown deal field "country"'),
        (
            'has deals where (in segment "x")',
            "where: only field conditions, all, any and not can filter deals",
        ),
        (
            "has deals count (> 1, < 2, = 3)",
            "count: expected one key, or two keys forming a range (gt or gte, and lt or lte)",
        ),
        (
            "has deals count (> 1, >= 2)",
            "count: expected one key, or two keys forming a range (gt or gte, and lt or lte)",
        ),
        (
            "has deals count (= 1, < 2)",
            "count: expected one key, or two keys forming a range (gt or gte, and lt or lte)",
        ),
        ('event ""', 'event: expected an event type (a non-empty string), got ""'),
        ('event "e" campaign last 0', "campaign.last: expected 1 to 1000 campaigns, got 0"),
        ('event "e" campaign last 1001', "campaign.last: expected 1 to 1000 campaigns, got 1001"),
        ('event "e" campaign in ()', "campaign.in: expected at least one campaign id"),
        (
            'event "e" campaign in ("a", " ")',
            'campaign.in[1]: expected a campaign id (a non-empty string), got " "',
        ),
        (
            'event "e" within last "12h"',
            'within.last: event windows are whole UTC days, e.g. "30d" or "2w", got "12h"',
        ),
        (
            'event "e" within between ("2026-01-01", "nope")',
            'within.between[1]: malformed time "nope": expected ISO-8601',
        ),
        ('event "e" within since "-3x"', 'within.since: malformed time "-3x": expected ISO-8601'),
        ('event "e" count >= -1', "count.gte: expected a non-negative integer, got -1"),
        ('in segment ""', 'segment: expected a segment name or id (a non-empty string), got ""'),
    ],
)
def test_messages(text: str, message: str) -> None:
    rule = parse_text(text)
    assert collect_errors(rule, SCHEMA) == [message]
    with pytest.raises(InvalidArgument) as e:
        validate(rule, SCHEMA)
    assert e.value.message == message


@pytest.mark.parametrize(
    "text",
    [
        'country = "de" and lifecycle_stage in ("MQL", "SQL") and not tags has "churned"',
        "country in () and tags has_all () and tags has_none ()",
        "lead_score between (20, 10) and lead_score != -5",
        'created_at between ("2026-01-01", "-1d") and last_activity_at within last "30d"',
        'created_at >= "2026-03-01T12:00:00Z" and created_at < "now"',
        "unsubscribed = false and suppressed = true",
        'custom.seats > 3 and custom.features has "sso" and custom.anything = "x"',
        "fit_score.crm >= 70 and company.size between (10, 500) and company.domain exists",
        'name contains "" and email ends with "@acme.com" and email_domain = "acme.com"',
        'has deals where (stage = "won" and close_date within last "90d") count (>= 2, < 5)',
        "has deals count = 0 and has deals where (all()) and has deals where (any())",
        'event "custom type" campaign last 1000 match all within last "2w" count (> 0, <= 9)',
        'event "email_opened" campaign in ("c1") within since "-30d"',
        'ever in segment "VIP" or not in segment "42"',
        "all() and any() and not all()",
    ],
)
def test_valid_rules(text: str) -> None:
    assert collect_errors(parse_text(text), SCHEMA) == []
    validate(parse_text(text), SCHEMA)


def test_collect_errors_returns_every_problem_in_order() -> None:
    rule = parse_text(
        'lead_scor > 3 and country = 3 and not tags contains "x"'
        " and has deals where (stage = 1 or value exists) count >= -1"
        ' and event "" campaign last 0'
    )
    assert collect_errors(rule, SCHEMA) == [
        'all[0].field: unknown field "lead_scor" (did you mean "lead_score"?)',
        "all[1].value: country takes a string, got 3",
        'all[2].not.op: "contains" is not an operator for set field tags '
        "(use has, not_has, has_any, has_all, has_none, exists, not_exists)",
        "all[3].count.gte: expected a non-negative integer, got -1",
        "all[3].where.any[0].value: stage takes a string, got 1",
        'all[4].event: expected an event type (a non-empty string), got ""',
        "all[4].campaign.last: expected 1 to 1000 campaigns, got 0",
    ]
    with pytest.raises(InvalidArgument, match=r"^all\[0\]\.field: unknown field"):
        validate(rule, SCHEMA)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Condition("phone", "exists", "x"), 'value: exists takes no value, got "x"'),
        (Condition("phone", "eq"), "value: missing"),
        (Condition("lead_score", "range", (1, 2)), 'op: unknown operator "range"'),
        (Condition(3, "eq", 1), "field: expected a string, got 3"),  # type: ignore[arg-type]
        (
            Condition("lead_score", "eq", 2**63),
            "value: lead_score takes a 64-bit integer, got 9223372036854775808",
        ),
        (Condition("lead_score", "eq", 1.5), "value: lead_score takes an integer, got 1.5"),  # type: ignore[arg-type]
        (
            Condition("country", "eq", "x" * 257),
            "value: keyword values are at most 256 bytes, got " + '"' + "x" * 56 + "...",
        ),
        (
            Condition("tags", "has", "é" * 129),
            "value: set values are at most 256 bytes, got " + '"' + "é" * 56 + "...",
        ),
        (Condition("country", "in", ("a",) * 4), "value: 4 values (limit 3)"),
        (HasDeals(None, Cmp()), "count: expected one of eq, gt, gte, lt, lte"),
        (HasDeals(None, Cmp(gte=True)), "count.gte: expected a non-negative integer, got true"),
        (
            EventRule("e", CampaignLast(2, "some")),
            'campaign.match: expected "all" or "any", got "some"',
        ),  # type: ignore[arg-type]
        (EventRule("e", CampaignIn(("a",) * 4)), "campaign.in: 4 values (limit 3)"),
        (
            EventRule("e", None, WindowLast("0d")),
            'within.last: event windows are whole UTC days, e.g. "30d" or "2w", got "0d"',
        ),
        (EventRule("e", ""), 'campaign: expected a campaign id (a non-empty string), got ""'),
        (SegmentRef("x", 1), "ever: expected true or false, got 1"),  # type: ignore[arg-type]
        (AllOf(("x",)), "all[0]: expected a rule node, got str"),  # type: ignore[arg-type]
        (
            Not(HasDeals(HasDeals())),
            "not.where: only field conditions, all, any and not can filter deals",
        ),
    ],
)
def test_hand_built_trees(rule: Rule, message: str) -> None:
    assert collect_errors(rule, SCHEMA, Limits(max_in_values=3)) == [message]


def test_keyword_length_is_bytes() -> None:
    assert collect_errors(Condition("country", "eq", "x" * 256), SCHEMA) == []
    assert collect_errors(Condition("country", "eq", "é" * 128), SCHEMA) == []
    assert collect_errors(Condition("name", "eq", "x" * 10_000), SCHEMA) == []  # text: no limit
