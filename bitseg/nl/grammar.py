"""The sentence grammar: a sentence -> a list of items covering every word (pyparsing).

A sentence is `item*`: at each position the clause grammars are tried in priority order
(activity and membership, then fields, then bare vocabulary), then negations,
connectors, fillers and subject nouns; a word nothing recognises becomes an `Unknown`
item, so parsing never fails and no word is dropped unseen. `Grammar` is built once per
org vocabulary (`grammar_for` keeps the last few) and parses under a lock, because the
clause actions read the `now` of the parse in progress from the shared context.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson
import pyparsing as pp

from bitseg.nl.gbase import Ctx, item
from bitseg.nl.grammar_activity import activity_clauses, segment_by_name
from bitseg.nl.grammar_fields import COMPANY_NOUN, SUBJECT_NOUN, field_clauses, late_field_clauses
from bitseg.nl.lexicon import Lexicon
from bitseg.nl.phrases import W, key, table
from bitseg.nl.pieces import Clause, Connector, Filler, Item, Negation, Subject, Unknown
from bitseg.nl.vocabulary import Vocabulary

MAX_SENTENCE = 2_000  # characters
_CACHE_SIZE = 16

NEGATION = W(
    "not", "no", "without", "never", "none of", "haven't", "havent", "hasn't", "hasnt",
    "hadn't", "didn't", "didnt", "don't", "dont", "doesn't", "doesnt", "aren't", "arent",
    "isn't", "isnt", "weren't", "wasn't", "won't", "have not", "has not", "had not", "did not",
    "do not", "does not", "are not", "is not", "were not", "was not", "have never",
    "has never", "excluding", "exclude", "except for", "except", "other than", "apart from",
    "minus", "neither", "non", "who aren't", "lacking", "missing",
) | pp.Regex(r"(?<![\w])non-", re.I)  # fmt: skip
FILLERS = W(
    "who", "whom", "that", "which", "whose", "are", "is", "were", "was", "be", "been", "being",
    "have", "has", "had", "having", "do", "does", "did", "with", "the", "a", "an", "our",
    "their", "my", "your", "its", "his", "her", "all", "every", "each", "any", "some", "those",
    "these", "them", "ones", "show me", "show", "find me", "find", "get me", "get", "give me",
    "list", "select", "target", "i want", "i need", "we want", "please", "also", "currently",
    "at", "of", "for", "on", "by", "as", "to", "both", "there", "someone", "somebody", "ever",
    "still", "just", "whether", "where", "they", "people who", "customers who", "someone who",
    "audience of", "segment of", "let's", "want", "need", "me",
)  # fmt: skip
_PUNCTUATION = pp.Regex(r"[.?!:()\"'`]+")
_UNKNOWN = pp.Regex(r"[^\s,;!?()\"]*[^\s,;!?()\".]|[^\s]")


def _connectors() -> pp.ParserElement:
    def nor(s: str, loc: int, t: pp.ParseResults) -> pp.ParseResults:
        """"nor" is "and not": a connector and a negation on the same word."""
        span = (loc, loc + len(t[0]))
        return pp.ParseResults([Connector("and", span), Negation(span)])

    return pp.MatchFirst([
        W("nor").set_parse_action(nor),
        item(W("and/or", "or", "/").set_parse_action(lambda: Connector("or")), lambda t: t[0]),
        item(W("either").set_parse_action(lambda: Connector("either")), lambda t: t[0]),
        item((W("and", "&", "as well as", "but also", "but", "yet", "while", "whereas",
                "although", "though", "plus", "along with", "together with")
              | pp.Regex(r"[,;]")).set_parse_action(lambda: Connector("and")), lambda t: t[0]),
    ])  # fmt: skip


class Grammar:
    """The sentence grammar of one org vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.ctx = Ctx(Lexicon(vocab))
        self._lock = threading.Lock()
        lex = self.ctx.lex
        clauses = [
            *activity_clauses(self.ctx), *field_clauses(self.ctx), segment_by_name(self.ctx),
            *late_field_clauses(self.ctx), _bare(lex),
        ]  # fmt: skip
        words = [
            item(NEGATION.copy().set_parse_action(lambda: Negation()), lambda t: t[0]),
            _connectors(),
            item(COMPANY_NOUN.copy().set_parse_action(lambda: Subject(True)), lambda t: t[0]),
            item(SUBJECT_NOUN.copy().set_parse_action(lambda: Subject(False)), lambda t: t[0]),
            item((FILLERS | _PUNCTUATION).set_parse_action(lambda: Filler()), lambda t: t[0]),
            item(_UNKNOWN.copy().set_parse_action(lambda: Unknown()), lambda t: t[0]),
        ]
        self.sentence = (pp.ZeroOrMore(pp.MatchFirst([*clauses, *words])) + pp.StringEnd()
                         ).parse_with_tabs()  # offsets into the sentence as given

    def parse(self, sentence: str, now: int) -> list[Item]:
        """The items of `sentence` (already normalised, see `normalise_sentence`)."""
        with self._lock:
            self.ctx.now = now
            self.ctx.last_campaign = None
            return list(self.sentence.parse_string(sentence, parse_all=True))


def _bare(lex: Lexicon) -> pp.ParserElement:
    """A bare vocabulary phrase ("vip", "healthcare"): its first reading, the rest as
    alternatives."""
    phrases = {k: k for k in _bare_phrases(lex)}

    def build(t: pp.ParseResults) -> Clause | None:
        meanings = lex.bare_meanings(t[0])
        if not meanings:
            return None
        return Clause(meanings[0], alternatives=tuple(meanings[1:]))

    return item(table(phrases), build)


def _bare_phrases(lex: Lexicon) -> list[str]:
    found = [*lex.tags, *lex.industries, *lex.segments, *lex.deal_stages]
    for custom in lex.custom.values():
        found.extend(custom.values)
    return [p for p in found if lex.bare_meanings(p)]


def normalise_sentence(sentence: str) -> str:
    """Typographic quotes and apostrophes as ASCII, every kind of whitespace as a space
    (one character for one, so spans stay valid for the sentence as given)."""
    quotes = sentence.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'}))
    return "".join(" " if c.isspace() else c for c in quotes)


_grammars: OrderedDict[str, Grammar] = OrderedDict()
_grammars_lock = threading.Lock()


def grammar_for(vocabulary: Mapping[str, Any]) -> Grammar:
    """The grammar of an org vocabulary (`Service.vocabulary`), cached by content."""
    digest = hashlib.sha256(orjson.dumps(vocabulary, option=orjson.OPT_SORT_KEYS)).hexdigest()
    with _grammars_lock:
        found = _grammars.get(digest)
        if found is not None:
            _grammars.move_to_end(digest)
            return found
    grammar = Grammar(Vocabulary.from_json(vocabulary))
    with _grammars_lock:
        _grammars[digest] = grammar
        while len(_grammars) > _CACHE_SIZE:
            _grammars.popitem(last=False)
    return grammar


__all__ = ["Grammar", "grammar_for", "key", "normalise_sentence"]
