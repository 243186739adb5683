"""Building blocks of the sentence grammar (pyparsing): words, vocabulary tables, numbers
and comparisons.

- `W("in the last", "within the past")` matches any of the phrases, case-insensitively,
  as whole words with any whitespace between them; a word may be a regex fragment
  (`deals?`).
- `table({"closed won": x, ...})` matches any surface form of a vocabulary (spaces,
  hyphens and underscores interchangeable, optional plural "s") and yields its meaning.
- `NUMBER` yields an int ("10k", "1.5 million", "$10,000", "three"); `COMPARE` yields a
  `Compare` ("more than 100", "at least 5", "between 10 and 20", "5 or more").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pyparsing as pp

from bitseg.nl.pieces import Compare

T = TypeVar("T")
_B, _E = r"(?<![\w@.])", r"(?![\w@])"
SEP = r"[\s_\-]+"


def W(*phrases: str) -> pp.ParserElement:
    """Any of `phrases` (words separated by spaces, each word a regex fragment)."""
    ordered = sorted(phrases, key=len, reverse=True)
    body = "|".join(r"\s+".join(p.split()) for p in ordered)
    return pp.Regex(f"{_B}(?:{body}){_E}", re.I)


def key(text: str) -> str:
    """The lookup form of a surface phrase: lower case, single spaces for -, _ and spaces."""
    return re.sub(SEP, " ", text.strip().lower()).strip()


def table(meanings: Mapping[str, T], plural: bool = False) -> pp.ParserElement:
    """Any surface form of the keys of `meanings` (see `key`), yielding the meaning."""
    keyed = {key(k): v for k, v in meanings.items() if key(k)}
    if not keyed:
        return pp.NoMatch()
    ordered = sorted(keyed, key=len, reverse=True)
    body = "|".join(SEP.join(re.escape(w) for w in k.split()) for k in ordered)
    suffix = "(?:e?s)?" if plural else ""
    element = pp.Regex(f"{_B}(?:{body}){suffix}{_E}", re.I)

    def lookup(tokens: pp.ParseResults) -> Any:
        found = key(tokens[0])
        if found not in keyed and plural:
            found = found[:-2] if found[:-2] in keyed else found[:-1]
        return pp.ParseResults([keyed[found]])

    return element.set_parse_action(lookup)


def value(meaning: Callable[[pp.ParseResults], Any]) -> Callable[[pp.ParseResults], Any]:
    """A parse action that replaces the tokens by one Python object."""

    def action(tokens: pp.ParseResults) -> pp.ParseResults:
        return pp.ParseResults([meaning(tokens)])

    return action


# ------------------------------------------------------------------------- numbers
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "once": 1, "twice": 2, "thrice": 3, "hundred": 100,
    "a hundred": 100, "a thousand": 1000,
}  # fmt: skip
_SCALE = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mm": 1_000_000, "mn": 1_000_000,
          "million": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000,
          "billion": 1_000_000_000}  # fmt: skip
_NUMBER_RE = re.compile(
    r"(?<![\w@.\-/])(?P<cur>[$€£]\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>k|mm|mn|m|bn|b|thousand|million|billion))?"
    r"(?P<cur2>\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|[$€£]))?(?![\w\-/:])",
    re.I,
)


def _number(tokens: pp.ParseResults) -> tuple[int, bool]:
    m = _NUMBER_RE.match(tokens[0])
    assert m is not None
    amount = float(m.group("num").replace(",", ""))
    scale = (m.group("scale") or "").lower()
    money = bool(m.group("cur") or m.group("cur2"))
    return round(amount * _SCALE.get(scale, 1)), money


NUMBER_MONEY = pp.Regex(_NUMBER_RE).set_parse_action(value(_number))
"""A number as (int, said as money)."""
WORD_NUMBER = table(_WORD_NUMBERS)
NUMBER = (NUMBER_MONEY.copy().add_parse_action(lambda t: t[0][0]) | WORD_NUMBER).set_name("number")
"""A number as an int."""

# ------------------------------------------------------------------------- comparisons
LTE = W("no more than", "not more than", "no greater than", "at most", "up to", "maximum of",
        "maximum", "max", "or less", "or fewer", "<=") | pp.Literal("<=")  # fmt: skip
GTE = W("no less than", "not less than", "no fewer than", "at least", "minimum of", "minimum",
        "min") | pp.Literal(">=")  # fmt: skip
GT = W("more than", "greater than", "higher than", "larger than", "bigger than", "over",
       "above", "exceeding", "in excess of", "north of") | pp.Literal(">")  # fmt: skip
LT = W("less than", "fewer than", "lower than", "smaller than", "under", "below",
       "beneath") | pp.Literal("<")  # fmt: skip
EQ = W("exactly", "equal to", "equals", "equal", "of", "is", "=") | pp.Literal("=")
_OPS: list[tuple[str, pp.ParserElement]] = [
    ("lte", LTE), ("gte", GTE), ("gt", GT), ("lt", LT), ("eq", EQ)
]  # fmt: skip


def _op(name: str, element: pp.ParserElement) -> pp.ParserElement:
    return element.copy().set_parse_action(lambda: name)


CMP_OP = pp.MatchFirst([_op(name, el) for name, el in _OPS])
_AND = W("and", "to", "-") | pp.Literal("-")


def _compare(tokens: pp.ParseResults) -> Compare:
    op, (n, money) = tokens[0], tokens[1]
    return Compare(op, n, money)


def _between(tokens: pp.ParseResults) -> Compare:
    (lo, m1), (hi, m2) = tokens[0], tokens[1]
    return Compare("between", (min(lo, hi), max(lo, hi)), m1 or m2)


def _postfix(tokens: pp.ParseResults) -> Compare:
    (n, money), op = tokens[0], tokens[1]
    return Compare(op, n, money)


_NUM = NUMBER_MONEY | WORD_NUMBER.copy().add_parse_action(lambda t: (t[0], False))
COMPARE = (
    (pp.Suppress(W("between", "from")) + _NUM + pp.Suppress(_AND) + _NUM).set_parse_action(
        _between
    )
    | (_NUM + (W("or more", "or greater", "or higher", "or above", "plus").set_parse_action(
        lambda: "gte") | pp.Literal("+").set_parse_action(lambda: "gte")
        | W("or less", "or fewer", "or lower", "or below").set_parse_action(lambda: "lte"))
       ).set_parse_action(_postfix)
    | (CMP_OP + _NUM).set_parse_action(_compare)
).set_name("comparison")  # fmt: skip
"""A comparison with a number, as a `Compare`."""
