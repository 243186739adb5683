"""Clauses about keyword, text and yes/no fields: "owned by u3", "from the webinar
source", "on the pro plan", "plan is not free", "with declining engagement", "very likely
to convert", "interested in analytics", "with a gmail.com address", "job title contains
CEO", "in the city of Berlin", "with a phone number", "unsubscribed", "in the beta".
"""

from __future__ import annotations

import re

import pyparsing as pp

from bitseg.nl.build import negate, values_condition
from bitseg.nl.gbase import FREE_WORD, QUOTED, item, listing
from bitseg.nl.lexicon import Lexicon
from bitseg.nl.phrases import COMPARE, W, key, table
from bitseg.nl.pieces import Clause
from bitseg.rules.model import Condition

_IS = pp.Suppress(pp.Opt(W("is", "are", "was", "of", "equals", "equal to", "=", ":", "being")))
_IS_NOT = W("is not", "isn't", "are not", "aren't", "not", "!=", "other than")


def keyword_clauses(lex: Lexicon) -> list[pp.ParserElement]:
    return _keywords(lex)


def text_clauses(lex: Lexicon) -> list[pp.ParserElement]:
    return [*_texts(), _existence(), _bools(lex)]


# ------------------------------------------------------------------------- keywords
def _keyword_fields(lex: Lexicon) -> dict[str, tuple[str, dict[str, str], bool]]:
    """label -> (field, value table, is a set)."""
    out = {
        "source": ("source", lex.sources, False), "lead source": ("source", lex.sources, False),
        "owner": ("owner", lex.owners, False), "contact owner": ("owner", lex.owners, False),
        "account owner": ("owner", lex.owners, False),
        "engagement trend": ("engagement_trend", lex.trends, False),
        "engagement": ("engagement_trend", lex.trends, False),
        "conversion likelihood": ("conversion_likelihood", lex.likelihoods, False),
        "likelihood to convert": ("conversion_likelihood", lex.likelihoods, False),
        "likelihood": ("conversion_likelihood", lex.likelihoods, False),
        "email domain": ("email_domain", {}, False), "domain": ("email_domain", {}, False),
        "company domain": ("company.domain", {}, False),
    }  # fmt: skip
    for custom in lex.custom.values():
        if custom.type in ("keyword", "set"):
            entry = (f"custom.{custom.name}", dict(custom.values), custom.type == "set")
            out.update({label: entry for label in custom.labels})
            if custom.type == "set" and custom.name.endswith("s"):
                out[key(custom.name[:-1])] = entry
    return out


def _keywords(lex: Lexicon) -> list[pp.ParserElement]:
    fields = _keyword_fields(lex)
    domain = pp.Regex(r"(?<![\w.])@?[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)+(?![\w@])", re.I)

    def values_for(lab: str) -> pp.ParserElement:
        field_name, known, _ = fields[lab]
        if field_name in ("email_domain", "company.domain"):
            return domain | QUOTED
        if known and field_name != "owner":  # a closed vocabulary: only its values
            return table(known) | QUOTED
        return table(known) | QUOTED | FREE_WORD

    def build(t: pp.ParseResults, negated: bool = False) -> Clause:
        lab = key(t[0])
        field_name, known, is_set = fields[lab]
        values = [_clean(field_name, v, known) for v in t[2:]]
        rule = values_condition(field_name, values, t[1], is_set)
        return Clause(negate(rule) if negated else rule)

    explicit = pp.MatchFirst([
        item(W(*_phrase(lab)) + _IS + listing(values_for(lab)), build)
        for lab in sorted(fields, key=len, reverse=True)
    ])  # fmt: skip
    negative = pp.MatchFirst([
        item(W(*_phrase(lab)) + pp.Suppress(_IS_NOT) + listing(values_for(lab)),
             lambda t: build(t, negated=True))
        for lab in sorted(fields, key=len, reverse=True)
    ])  # fmt: skip
    before = pp.MatchFirst([
        item((listing(table(fields[lab][1])) + W(*_phrase(lab))).set_parse_action(
            lambda t: pp.ParseResults([t[-1], *t[:-1]])), build)
        for lab in sorted(fields, key=len, reverse=True) if fields[lab][1]
    ])  # fmt: skip
    owner = item(pp.Suppress(W("owned by", "assigned to", "managed by", "whose owner is",
                               "with owner", "belonging to")) + listing(table(lex.owners)
                                                                        | QUOTED | FREE_WORD),
                 lambda t: Clause(values_condition("owner", [_clean("owner", v, lex.owners)
                                                             for v in t[1:]])))  # fmt: skip
    source = item(pp.Suppress(W("came from", "came in from", "came in via", "via", "sourced from",
                                "acquired through", "acquired via", "from", "through"))
                  + pp.Suppress(pp.Opt(W("the", "an?"))) + listing(table(lex.sources))
                  + pp.Suppress(pp.Opt(W("source", "channel", "campaigns?"))),
                  lambda t: Clause(values_condition("source", list(t[1:]))))  # fmt: skip
    likely = item(table({k: v for k, v in lex.likelihoods.items() if "convert" in k}),
                  lambda t: Clause(Condition("conversion_likelihood", "eq", t[0])))
    interested = _interested(lex)
    mail = item(pp.Suppress(pp.Opt(W("an?"))) + domain + pp.Suppress(
        W("addresses", "address", "email addresses?", "emails?", "domains?", "accounts?")),
        lambda t: Clause(Condition("email_domain", "eq", _clean("email_domain", t[0], {}))))
    return [negative, explicit, before, owner, source, likely, mail, *interested]


def _interested(lex: Lexicon) -> list[pp.ParserElement]:
    out = []
    for custom in lex.custom.values():
        if custom.type == "set" and custom.name.startswith("interest") and custom.values:
            name = f"custom.{custom.name}"
            out.append(item(pp.Suppress(W("interested in", "interest in", "into"))
                            + listing(table(custom.values)),
                            lambda t, n=name: Clause(values_condition(n, list(t[1:]), t[0],
                                                                      True))))  # fmt: skip
    return out


def _phrase(label: str) -> list[str]:
    return [r"[\s\-_]+".join(re.escape(w) for w in label.split())]


def _clean(field_name: str, value: str, known: dict[str, str]) -> str:
    found = known.get(key(value))
    if found is not None:
        return found
    if field_name in ("email_domain", "company.domain"):
        return value.lstrip("@").lower()
    return value


# ------------------------------------------------------------------------- text, exists, bool
_TEXT_FIELDS = {"job title": "job_title", "title": "job_title", "role": "job_title",
                "position": "job_title", "name": "name", "first name": "name",
                "full name": "name", "email": "email", "email address": "email",
                "phone": "phone", "phone number": "phone", "city": "city", "town": "city",
                "company name": "company.name", "company": "company.name"}  # fmt: skip
_TEXT_OPS = {"contains": "contains", "containing": "contains", "includes": "contains",
             "including": "contains", "with": "contains", "mentions": "contains",
             "has": "contains", "starts with": "starts_with", "starting with": "starts_with",
             "begins with": "starts_with", "beginning with": "starts_with",
             "ends with": "ends_with", "ending with": "ends_with", "ending in": "ends_with",
             "ends in": "ends_with", "is": "eq", "equals": "eq", "=": "eq", "of": "eq",
             "is like": "contains", "like": "contains", ":": "eq"}  # fmt: skip
TEXT_OP = table(_TEXT_OPS)


def _texts() -> list[pp.ParserElement]:
    label = table(_TEXT_FIELDS)
    text = QUOTED | pp.Regex(r"[^\s,;!?()\"]*[^\s,;!?()\".]")

    def build(t: pp.ParseResults) -> Clause:
        return Clause(Condition(t[0], t[1], str(t[2])))

    bare = label + text.copy().add_condition(lambda t: key(t[0]) not in _TEXT_OPS)
    return [
        item(label + TEXT_OP + text, build),
        item(pp.Suppress(W("in the city of", "in the town of", "living in the city of"))
             + text, lambda t: Clause(Condition("city", "eq", str(t[0])))),
        item(bare.set_parse_action(lambda t: pp.ParseResults([t[0], "contains", t[1]]))
             + pp.FollowedBy(pp.StringEnd() | pp.Regex(r"[,;.!?]") | W("and", "or", "who",
                                                                        "that", "but")),
             build),
    ]  # fmt: skip


_EXISTS = {"phone number": "phone", "phone": "phone", "email address": "email",
           "email": "email", "job title": "job_title", "title": "job_title",
           "company": "company_id", "city": "city", "owner": "owner",
           "lead score": "lead_score", "tags": "tags", "tag": "tags", "language": "language",
           "country": "country"}  # fmt: skip


def _existence() -> pp.ParserElement:
    label = table(_EXISTS)
    guard = pp.NotAny(COMPARE | TEXT_OP | W("is", "of", "=", "domain", "score", "trend"))
    article = pp.Suppress(pp.Opt(W("an?", "any", "some")))
    return item(article + label + guard, lambda t: Clause(Condition(t[0], "exists")))


def _bools(lex: Lexicon) -> pp.ParserElement:
    words = {"unsubscribed": ("unsubscribed", True), "unsubscribers": ("unsubscribed", True),
             "opted out": ("unsubscribed", True), "opted-out": ("unsubscribed", True),
             "subscribed": ("unsubscribed", False), "opted in": ("unsubscribed", False),
             "suppressed": ("suppressed", True)}  # fmt: skip
    for custom in lex.custom.values():
        if custom.type == "bool":
            words.update({label: (f"custom.{custom.name}", True) for label in custom.labels})

    def build(t: pp.ParseResults) -> Clause:
        field_name, truth = t[0]
        return Clause(Condition(field_name, "eq", truth))

    suffix = pp.Suppress(pp.Opt(W("users?", "testers?", "members?", "program", "contacts?")))
    return item(pp.Suppress(pp.Opt(W("in the", "on the"))) + table(words) + suffix, build)

