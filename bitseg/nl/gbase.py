"""What every clause grammar shares: the parse context, located items, value lists.

`Ctx` is the per-org context (the `Lexicon`) plus the state of the parse in progress: its
`now`, and the campaign a later "it" refers to (the grammar holds a lock while it parses,
see `grammar.Grammar`). `item(expr, build)`
wraps a clause: `build(tokens)` returns an item (or None to refuse the match, so the next
alternative is tried) and the item gets the character span it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyparsing as pp

from bitseg.nl.lexicon import STOPWORDS, Lexicon
from bitseg.nl.phrases import W, key
from bitseg.nl.pieces import Item


class Ctx:
    """The grammar's view of one org, and the `now` of the current parse."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.now = 0
        self.last_campaign: Any = None  # what "it" / "them" refers to after a campaign


class Refused(Exception):
    """Raised by a builder to refuse a match."""


def item(expr: pp.ParserElement, build: Callable[[pp.ParseResults], Item | None]
         ) -> pp.ParserElement:  # fmt: skip
    """`expr` yielding the item `build` makes of its tokens, with its span."""

    def action(s: str, loc: int, tokens: pp.ParseResults) -> Any:
        start, inner, end = tokens[0], tokens[1], tokens[2]
        try:
            made = build(inner)
        except Refused:
            made = None
        if made is None:
            raise pp.ParseException(s, loc, "refused")
        return pp.ParseResults([replace(made, span=(start, end))])  # type: ignore[type-var]

    return pp.Located(expr).set_parse_action(action)


QUOTED = (pp.QuotedString('"', esc_char="\\") | pp.QuotedString("«", end_quote_char="»")
          ).set_name("quoted")  # fmt: skip
_FREE = pp.Regex(r"(?<![\w@.])[\w][\w\-.@']*[\w]|(?<![\w@.])\w(?!\w)")
FREE_WORD = _FREE.copy().add_condition(lambda t: key(t[0]) not in STOPWORDS).set_name("word")
"""One word that is not a grammar word (a free value: a tag not seen yet, an owner id)."""

SEP = (pp.Suppress(",") + pp.Opt(W("or", "and"), default=",")) | W("or", "and", "&", "/")


def listing(value: pp.ParserElement, first: pp.ParserElement | None = None) -> pp.ParserElement:
    """`first ((, | or | and) value)*` as [("or" | "and"), v1, v2, ...]."""
    head = first if first is not None else value

    def action(tokens: pp.ParseResults) -> pp.ParseResults:
        items = list(tokens)
        values = items[0::2]
        joins = {str(j).lower().strip() for j in items[1::2]}
        joiner = "and" if "and" in joins or "&" in joins else "or"
        return pp.ParseResults([joiner, *values])

    return (head + pp.ZeroOrMore(SEP + value)).set_parse_action(action)


def codes(values: set[str] | dict[str, str]) -> pp.ParserElement:
    """Upper-case codes as written (ISO country codes): case-sensitive."""
    if not values:
        return pp.NoMatch()
    body = "|".join(sorted((re.escape(v) for v in values), key=len, reverse=True))
    return pp.Regex(rf"(?<![\w@.])(?:{body})(?![\w@])")
