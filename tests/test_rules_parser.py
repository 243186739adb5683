"""The text parser: precedence and grouping, aliases, every leaf form, and error messages."""

from __future__ import annotations

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
    Not,
    ParseError,
    SegmentRef,
    WindowBetween,
    WindowLast,
    WindowSince,
    parse_text,
    to_text,
)

A, B, C, D = (Condition(x, "exists") for x in "abcd")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a exists and b exists and c exists", AllOf((A, B, C))),
        ("a exists or b exists or c exists", AnyOf((A, B, C))),
        ("a exists and b exists or c exists", AnyOf((AllOf((A, B)), C))),
        ("a exists or b exists and c exists", AnyOf((A, AllOf((B, C))))),
        ("(a exists and b exists) and c exists", AllOf((AllOf((A, B)), C))),
        ("a exists and (b exists and c exists)", AllOf((A, AllOf((B, C))))),
        ("((a exists))", A),
        ("not a exists and b exists", AllOf((Not(A), B))),
        ("not a exists or b exists", AnyOf((Not(A), B))),
        ("not (a exists or b exists)", Not(AnyOf((A, B)))),
        ("not not a exists", Not(Not(A))),
        ("not (not (a exists))", Not(Not(A))),
        ("all(a exists, b exists)", AllOf((A, B))),
        ("any(a exists, b exists or c exists)", AnyOf((A, AnyOf((B, C))))),
        ("all()", AllOf(())),
        ("any ( )", AnyOf(())),
        ("all(a exists)", AllOf((A,))),
        ("a exists and all() and any(d exists)", AllOf((A, AllOf(()), AnyOf((D,))))),
    ],
)
def test_structure(text: str, tree: object) -> None:
    assert parse_text(text) == tree


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("x == 1", "eq", 1),
        ("x eq 1", "eq", 1),
        ("x <> 1", "ne", 1),
        ("x NE 1", "ne", 1),
        ("x gt 1", "gt", 1),
        ("x gte -1", "gte", -1),
        ("x lt 1", "lt", 1),
        ("x lte 1", "lte", 1),
        ('x IN ("a")', "in", ("a",)),
        ('x not_in ("a")', "not_in", ("a",)),
        ('x NOT IN ("a")', "not_in", ("a",)),
        ('x not_has "a"', "not_has", "a"),
        ('x Has Any ("a")', "has_any", ("a",)),
        ('x has_all ("a")', "has_all", ("a",)),
        ('x has_none ("a")', "has_none", ("a",)),
        ("x not_exists", "not_exists", None),
        ('x starts_with "a"', "starts_with", "a"),
        ('x ends_with "a"', "ends_with", "a"),
        ('x Starts With "a"', "starts_with", "a"),
        ('x within_last "3d"', "within_last", "3d"),
        ('x older_than "3d"', "older_than", "3d"),
        ('x Older Than "3d"', "older_than", "3d"),
        ("x between (1, 2)", "between", (1, 2)),
        ("x = TRUE", "eq", True),
        ("x = False", "eq", False),
        ("x in ()", "in", ()),
        ('x in ( "a" , 2 , true )', "in", ("a", 2, True)),
    ],
)
def test_operator_aliases_and_values(text: str, op: str, value: object) -> None:
    assert parse_text(text) == Condition("x", op, value)


def test_fields() -> None:
    assert parse_text("company.size > 3") == Condition("company.size", "gt", 3)
    assert parse_text('"custom.plan type" = "a"') == Condition("custom.plan type", "eq", "a")
    assert parse_text('"and" = 1') == Condition("and", "eq", 1)
    assert parse_text("Count = 1") == Condition("Count", "eq", 1)
    assert to_text(Condition("in", "eq", 1)) == '"in" = 1'
    assert to_text(Condition("Custom.Plan", "eq", 1)) == "Custom.Plan = 1"


def test_strings_use_json_escapes() -> None:
    rule = parse_text(r'name = "a\"b\\c\n\u00fc\ud83d\ude00"')
    assert rule == Condition("name", "eq", 'a"b\\c\nü😀')
    assert to_text(rule) == r'name = "a\"b\\c\nü😀"'


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('IN SEGMENT "x"', SegmentRef("x")),
        ('ever in segment "x"', SegmentRef("x", True)),
        ("has deals", HasDeals()),
        ("has deals count >= 2", HasDeals(None, Cmp(gte=2))),
        ("has deals count (>= 2, < 5)", HasDeals(None, Cmp(gte=2, lt=5))),
        ("has deals count (lt 5, gte 2)", HasDeals(None, Cmp(gte=2, lt=5))),
        ("has deals count (= 2)", HasDeals(None, Cmp(eq=2))),
        (
            'has deals count == 2 where (stage = "x")',
            HasDeals(Condition("stage", "eq", "x"), Cmp(eq=2)),
        ),
        ("has deals where (a exists or (b exists))", HasDeals(AnyOf((A, B)))),
        ('event "e"', EventRule("e")),
        ('event "e" campaign "c"', EventRule("e", "c")),
        ('event "e" campaign in ("c", "d")', EventRule("e", CampaignIn(("c", "d")))),
        ('event "e" campaign last 3', EventRule("e", CampaignLast(3))),
        ('event "e" campaign last 3 match any', EventRule("e", CampaignLast(3, "any"))),
        ('event "e" campaign last 3 MATCH ALL', EventRule("e", CampaignLast(3, "all"))),
        (
            'event "e" count > 1 within last "2w" campaign "c"',
            EventRule("e", "c", WindowLast("2w"), Cmp(gt=1)),
        ),
        ('event "e" within since "-30d"', EventRule("e", None, WindowSince("-30d"))),
        ('event "e" within between ("a", "b")', EventRule("e", None, WindowBetween("a", "b"))),
        ('not has deals and not event "e"', AllOf((Not(HasDeals()), Not(EventRule("e"))))),
    ],
)
def test_other_rule_kinds(text: str, tree: object) -> None:
    assert parse_text(text) == tree


def test_multi_line_input() -> None:
    text = 'country = "DE"\n  and (lead_score > 3\n       or phone exists)\n'
    assert parse_text(text) == AllOf(
        (
            Condition("country", "eq", "DE"),
            AnyOf((Condition("lead_score", "gt", 3), Condition("phone", "exists"))),
        )
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "country = and",
            'line 1, column 11: expected a value after "=", found "and"\n'
            "  country = and\n"
            "            ^",
        ),
        (
            'country = "DE" and\n  (lead_score > 3',
            'line 2, column 18: expected ")" to close the "(" at line 2, column 3, '
            "found end of input\n"
            "    (lead_score > 3\n"
            "                   ^",
        ),
        (
            "a = 1 b",
            'line 1, column 7: expected "and", "or" or end of input, found "b"\n'
            "  a = 1 b\n"
            "        ^",
        ),
        ("", "line 1, column 1: expected a rule, found end of input\n  \n  ^"),
        (
            "x = 1.5",
            "line 1, column 5: only whole numbers are allowed, found 1.5\n  x = 1.5\n      ^",
        ),
        (
            'x = "abc',
            "line 1, column 5: unterminated string (a string ends on its line; write \\n)\n"
            '  x = "abc\n      ^',
        ),
        ("x @ 1", 'line 1, column 3: unexpected character "@"\n  x @ 1\n    ^'),
        ("\tx ! 1", 'line 1, column 4: unexpected character "!"\n  \tx ! 1\n  \t  ^'),
    ],
)
def test_error_messages_with_caret(text: str, message: str) -> None:
    with pytest.raises(ParseError) as e:
        parse_text(text)
    assert e.value.message == message


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("has deals where stage = 1", 'expected "(" after "where", found "stage"'),
        (
            "has deals where (a exists",
            'expected ")" to close the "(" at line 1, column 17, found end of input',
        ),
        ("has contacts", 'expected "deals" after "has", found "contacts"'),
        ("has deals where (a exists) where (b exists)", '"where" given twice'),
        ("has deals count >= 1 count >= 2", '"count" given twice'),
        ("has deals count (>= 1, >= 2)", '">=" given twice in one count'),
        ("has deals count 2", 'expected a comparison such as ">= 2" after "count", found 2'),
        ('has deals count >= "2"', 'expected a whole number after ">=", found "2"'),
        ("event x", 'expected the event type as a string after "event", found "x"'),
        (
            'event "e" campaign 3',
            'expected a campaign id, "in (...)" or "last N" after "campaign", found 3',
        ),
        ('event "e" campaign in (1)', "expected a string in the list, found 1"),
        ('event "e" campaign last x', 'expected a whole number after "last", found "x"'),
        (
            'event "e" campaign last 3 match some',
            'expected "all" or "any" after "match", found "some"',
        ),
        (
            'event "e" within next "3d"',
            'expected "last", "since" or "between" after "within", found "next"',
        ),
        (
            'event "e" within last 3',
            'expected a duration such as "30d" as a string after "last", found 3',
        ),
        ('event "e" count >= 1 count >= 2', '"count" given twice'),
        ("in segment VIP", 'expected the segment name as a string after "segment", found "VIP"'),
        ('ever segment "x"', 'expected "in" after "ever", found "segment"'),
        ('a starts "x"', 'expected "with" after "starts", found "x"'),
        ('a not like "x"', 'expected "in" or "has" or "exists" after "not", found "like"'),
        ("a in (1,", "expected a string, integer, true or false in the list, found end of input"),
        ("a in (1 2)", 'expected "," or ")" in the list, found 2'),
        ("a = 99999999999999999999", "integer out of the 64-bit range: 99999999999999999999"),
        ("a = 9223372036854775808", "integer out of the 64-bit range: 9223372036854775808"),
        ("all(a exists,)", 'expected a rule, found ")"'),
        ("all a exists", 'expected "(" after "all", found "a"'),
        (")", 'expected a rule, found ")"'),
        ("a exists)", 'expected "and", "or" or end of input, found ")"'),
        ("(a exists, b exists)", 'expected "and", "or" or ")", found ","'),
        ("true = 1", 'expected a rule, found "true"'),
        ("a", 'expected an operator after "a", found end of input'),
        ("a = 1 and", "expected a rule, found end of input"),
        ('a = "\\x"', "malformed string: "),
    ],
)
def test_error_details(text: str, detail: str) -> None:
    with pytest.raises(ParseError) as e:
        parse_text(text)
    assert e.value.detail.startswith(detail), e.value.detail
    assert e.value.message.startswith(f"line {e.value.line}, column {e.value.column}: {detail}")


def test_error_position_on_later_line_and_long_line() -> None:
    with pytest.raises(ParseError) as e:
        parse_text("a exists\nand\n   b ~ 1")
    assert (e.value.line, e.value.column) == (3, 6)
    long = "a exists and " * 50 + "b = ="
    with pytest.raises(ParseError) as e:
        parse_text(long)
    snippet, caret = e.value.message.splitlines()[1:]
    assert snippet.startswith("  ...") and snippet.endswith("b = =")
    assert caret.index("^") == snippet.rindex("=")


def test_bytes_and_bad_utf8() -> None:
    assert parse_text(b"a exists") == A
    with pytest.raises(InvalidArgument, match="not valid UTF-8"):
        parse_text(b"\xff")
