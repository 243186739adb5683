"""Clauses about contact and company fields: where, who, how big, how scored, when.

`field_clauses(ctx)` returns the clause grammars in the order they are tried, e.g.
"in Germany or France" (a `Location`), "German-speaking", "tagged vip or partner",
"in the healthcare industry", "enterprise", "more than 100 employees", "lead score above
80", "created this week", "inactive for 90 days",
and (from `grammar_values`) "owned by u3", "on the pro plan", "job title contains CEO",
"with a phone number", "unsubscribed"; `late_field_clauses` has the bare stage nouns
("customers", "MQLs") the assembler turns into a subject or a filter, and adjectives.
"""

from __future__ import annotations

import re

import pyparsing as pp

from bitseg.nl import timespec
from bitseg.nl.build import compare_condition, negate, values_condition
from bitseg.nl.gbase import FREE_WORD, QUOTED, Ctx, codes, item, listing
from bitseg.nl.grammar_values import keyword_clauses, text_clauses
from bitseg.nl.lexicon import SIZE_CLASSES, Lexicon
from bitseg.nl.phrases import COMPARE, NUMBER, W, key, table
from bitseg.nl.pieces import Clause, Compare, Location, StageNoun
from bitseg.rules.model import Condition, Rule

_IS = pp.Suppress(pp.Opt(W("is", "are", "was", "of", "equals", "equal to", "=", ":", "being")))
COMPANY_NOUN = W("accounts?", "compan(?:y|ies)", "organi[sz]ations?", "businesses", "business",
                 "firms?", "orgs?", "employers?", "enterprises")  # fmt: skip
SUBJECT_NOUN = COMPANY_NOUN | W("contacts?", "people", "persons?", "users?", "recipients",
                                "prospects?", "folks", "individuals", "everyone", "everybody",
                                "anyone", "audience", "members")  # fmt: skip


def _notes(*notes: str) -> tuple[str, ...]:
    return tuple(n for n in notes if n)


def field_clauses(ctx: Ctx) -> list[pp.ParserElement]:
    lex = ctx.lex
    return [
        *_location(lex), _language(lex), *_stages(lex), *_tags(lex), *_industry(lex),
        *keyword_clauses(lex), _size(lex), *_numbers(lex), *_times(ctx),
        *text_clauses(lex),
    ]  # fmt: skip


def late_field_clauses(ctx: Ctx) -> list[pp.ParserElement]:
    """Tried after activity clauses: bare stage nouns and demonyms."""
    lex = ctx.lex
    stage = table(lex.stages)
    demonym = table(lex.demonyms, plural=True)
    def place(t: pp.ParseResults) -> Location:
        code = t[0]
        language = lex.languages.get(_DEMONYM_LANGUAGE.get(code, ""))
        also = (Condition("language", "eq", language),) if language else ()
        return Location((code,), also=also)

    code = codes(lex.country_codes) + pp.FollowedBy(SUBJECT_NOUN | stage)
    return [
        item(stage, lambda t: StageNoun(t[0])),
        item(demonym, place),
        item(code, lambda t: Location((t[0],))),
    ]


_DEMONYM_LANGUAGE = {"DE": "german", "FR": "french", "ES": "spanish", "IT": "italian",
                     "NL": "dutch", "PL": "polish", "SE": "swedish", "JP": "japanese",
                     "PT": "portuguese", "CN": "chinese", "KR": "korean", "TR": "turkish",
                     "RU": "russian", "GR": "greek", "DK": "danish", "FI": "finnish",
                     "CZ": "czech", "HU": "hungarian", "RO": "romanian"}  # fmt: skip


# ------------------------------------------------------------------------- location
def _location(lex: Lexicon) -> list[pp.ParserElement]:
    country = table(lex.countries) | codes(lex.country_codes)
    countries = listing(country)
    where = W("in", "from", "based in", "located in", "out of", "across", "within")
    living = W("living in", "who live in", "who lives in", "residing in", "resident in")
    hq = W("headquartered in", "hq'd in", "hq in", "with headquarters in")
    the = pp.Suppress(pp.Opt(W("the")))

    def loc(company: bool | None) -> object:
        return lambda t: Location(tuple(dict.fromkeys(t[1:])), company=company)

    return [
        item(pp.Suppress(hq) + the + countries, loc(True)),
        item(pp.Suppress(W("company country", "company's country")) + _IS + countries, loc(True)),
        item(pp.Suppress(living) + the + countries, loc(False)),
        item(pp.Suppress(W("country")) + _IS + countries, loc(False)),
        item(pp.Suppress(where) + the + countries, loc(None)),
    ]


def _language(lex: Lexicon) -> pp.ParserElement:
    language = table(lex.languages)
    speak = W("who speak", "who speaks", "speaking", "speak", "speaks", "language is",
              "language", "languages", "prefer", "prefers", "preferred language is",
              "preferred language")  # fmt: skip
    suffix = pp.Regex(r"-?\s*speak(?:ing|ers?)(?!\w)", re.I)

    def build(t: pp.ParseResults) -> Clause:
        return Clause(values_condition("language", list(t[1:])))

    return item(pp.Suppress(speak) + listing(language), build) | item(
        listing(language) + pp.Suppress(suffix), build
    )


# ------------------------------------------------------------------------- stages, tags
def _stages(lex: Lexicon) -> list[pp.ParserElement]:
    stage = table(lex.stages)
    label = W("lifecycle stage", "lifecycle", "stage")

    def build(t: pp.ParseResults) -> Clause:
        return Clause(values_condition("lifecycle_stage", list(t[1:]), t[0]))

    several = stage + pp.OneOrMore(pp.Suppress(pp.Literal(",") | W("or", "and", "&", "/"))
                                   + stage)  # fmt: skip
    return [
        item(pp.Suppress(label) + _IS + listing(stage), build),
        item(pp.Suppress(W("in the", "at the")) + listing(stage)
             + pp.Suppress(W("lifecycle stage", "stage")), build),
        item(several.set_parse_action(lambda t: pp.ParseResults(["or", *t])), build),
    ]  # fmt: skip


def _tags(lex: Lexicon) -> list[pp.ParserElement]:
    tag = table(lex.tags) | QUOTED
    first = tag | FREE_WORD
    lead = W("tagged as", "tagged with", "tagged", "with the tags?", "with tags?",
             "having the tag", "have the tag", "has the tag", "tags? includes?",
             "tags? contains?", "tags? (?:is|are)", "tags?", "labell?ed", "labell?ed as",
             "with the label")  # fmt: skip

    def build(t: pp.ParseResults) -> Clause:
        values = list(t[1:])
        unknown = [v for v in values if key(v) not in lex.tags]
        note = f'no contact has the tag "{unknown[0]}" yet' if unknown else ""
        return Clause(values_condition("tags", values, t[0], is_set=True), notes=_notes(note))

    return [
        item(pp.Suppress(lead) + listing(tag, first), build),
        item(listing(tag) + pp.Suppress(W("tags?", "tagged", "labels?")), build),
    ]


def _industry(lex: Lexicon) -> list[pp.ParserElement]:
    industries = listing(table(lex.industries))
    into = W("in the", "in", "from the", "from", "working in", "work in", "works in",
             "operating in", "within the", "within")  # fmt: skip
    noun = W("industry", "industries", "sector", "vertical", "space", "market")

    def build(t: pp.ParseResults) -> Clause:
        return Clause(values_condition("company.industry", list(t[1:])))

    return [
        item(pp.Suppress(pp.Opt(into)) + industries + pp.Suppress(noun), build),
        item(pp.Suppress(noun) + _IS + industries, build),
        item(pp.Suppress(into) + industries, build),
    ]


# ------------------------------------------------------------------------- numbers
def _size(lex: Lexicon) -> pp.ParserElement:
    always = {k: v for k, v in SIZE_CLASSES.items() if k not in ("large", "big", "small",
                                                                 "medium")}  # fmt: skip
    with_noun = {k: v for k, v in SIZE_CLASSES.items() if k not in always}
    words = table(always) + pp.Suppress(pp.Opt(W("sized", "size", "level", "grade"))) | (
        table(with_noun) + pp.Suppress(pp.Opt(W("sized"))) + pp.FollowedBy(COMPANY_NOUN))

    def build(t: pp.ParseResults) -> Clause:
        label, lo, hi = t[0]
        if lo is not None and hi is not None:
            rule: Rule = Condition("company.size", "between", (lo, hi))
        elif lo is not None:
            rule = Condition("company.size", "gte", lo)
        else:
            rule = Condition("company.size", "lte", hi)
        note = f'"{label}" read as companies of {_range_text(lo, hi)} employees'
        return Clause(rule, notes=(note,))

    return item(words, build)


def _range_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo:,} to {hi:,}"
    return f"{lo:,} or more" if lo is not None else f"at most {hi:,}"


def number_fields(lex: Lexicon) -> dict[str, str]:
    fields = {
        "lead score": "lead_score", "lead scoring": "lead_score", "score": "lead_score",
        "engagement score": "engagement_score", "lifetime value": "lifetime_value",
        "ltv": "lifetime_value", "customer lifetime value": "lifetime_value",
        "clv": "lifetime_value", "employees": "company.size", "employee": "company.size",
        "employee count": "company.size", "staff": "company.size",
        "headcount": "company.size", "company size": "company.size", "size": "company.size",
        "people": "company.size", "revenue": "company.revenue",
        "annual revenue": "company.revenue", "company revenue": "company.revenue",
        "turnover": "company.revenue", "sales": "company.revenue",
    }  # fmt: skip
    for spoken, product in lex.fit_scores.items():
        for label in (f"{spoken} fit score", f"fit score for {spoken}", f"{spoken} fit"):
            fields[label] = f"fit_score.{product}"
    for custom in lex.custom.values():
        if custom.type == "int":
            fields.update({label: f"custom.{custom.name}" for label in custom.labels})
    return fields


def _numbers(lex: Lexicon) -> list[pp.ParserElement]:
    label = table(number_fields(lex), plural=True)
    number = NUMBER.copy().add_parse_action(lambda t: Compare("eq", t[0]))

    def build(t: pp.ParseResults) -> Clause:
        field_name, compare = (t[0], t[1]) if isinstance(t[0], str) else (t[1], t[0])
        if field_name == "lifetime_value":
            note = "lifetime_value is in cents: amounts were multiplied by 100"
            return Clause(compare_condition(field_name, compare, 100), notes=(note,))
        return Clause(compare_condition(field_name, compare))

    return [
        item(label + _IS + (COMPARE | number), build),
        item(COMPARE + pp.Suppress(pp.Opt(W("in"))) + label, build),
    ]


# ------------------------------------------------------------------------- times
def time_fields(lex: Lexicon) -> dict[str, str]:
    fields = {
        "created": "created_at", "created at": "created_at", "added": "created_at",
        "signed up": "created_at", "joined": "created_at", "registered": "created_at",
        "subscribed": "created_at", "became a contact": "created_at",
        "creation date": "created_at", "last active": "last_activity_at",
        "active": "last_activity_at", "last activity": "last_activity_at",
        "last activity date": "last_activity_at", "had activity": "last_activity_at",
        "had any activity": "last_activity_at", "contacted": "last_activity_at",
        "last contacted": "last_activity_at", "last contact": "last_activity_at",
        "last contact date": "last_activity_at", "been contacted": "last_activity_at",
        "touched": "last_activity_at", "last touched": "last_activity_at",
        "engaged": "last_engaged_at", "last engaged": "last_engaged_at",
        "last engagement": "last_engaged_at", "interacted": "last_engaged_at",
    }  # fmt: skip
    for custom in lex.custom.values():
        if custom.type == "time":
            fields.update({label: f"custom.{custom.name}" for label in custom.labels})
    return fields


def _times(ctx: Ctx) -> list[pp.ParserElement]:
    fields = time_fields(ctx.lex)
    label = table(fields)
    neg = W("haven't", "hasn't", "have not", "has not", "not", "no", "didn't", "did not",
            "hadn't", "had not", "weren't", "wasn't")  # fmt: skip
    quiet = W("been contacted", "contacted", "been active", "active", "had any activity",
              "had activity", "any activity", "activity", "been in touch", "heard from us",
              "been touched", "engaged", "interacted")  # fmt: skip
    span = timespec.WITHIN | timespec.WITHIN_BARE

    def build(t: pp.ParseResults) -> Clause:
        when = timespec.resolve(t[1], ctx.now)
        return Clause(timespec.condition(t[0], when), notes=_notes(timespec.note_of(t[1])))

    def build_quiet(t: pp.ParseResults) -> Clause:
        field_name = fields.get(key(t[0]), "last_activity_at")
        if field_name == "created_at":
            field_name = "last_activity_at"
        spec = t[1]
        rule = Condition(field_name, "older_than", spec.duration)
        other = negate(Condition(field_name, "within_last", spec.duration))
        return Clause(rule, alternatives=(other,), notes=_notes(spec.note))

    def build_inactive(t: pp.ParseResults) -> Clause:
        duration, note = t[0]
        return Clause(Condition("last_activity_at", "older_than", duration), notes=_notes(note))

    inactive = W("inactive", "dormant", "not active", "quiet", "silent", "unengaged", "idle")
    fresh = pp.Suppress(W("new", "newly added", "recently added", "recent", "fresh")
                        + pp.Opt(SUBJECT_NOUN))  # fmt: skip

    def build_new(t: pp.ParseResults) -> Clause:
        if not t:
            note = '"new" with no time given read as created in the last 30 days'
            return Clause(Condition("created_at", "within_last", "30d"), notes=(note,))
        return build(pp.ParseResults(["created_at", t[0]]))

    return [
        item(fresh + pp.Opt(timespec.TIME), build_new),
        item(pp.Suppress(neg) + quiet + span, build_quiet),
        item(pp.Suppress(inactive + pp.Opt(W("for", "in", "over", "since")) + pp.Opt(
            W("the last", "the past", "more than", "over", "at least")))
            + timespec.DURATION, build_inactive),
        item(pp.Suppress(W("never")) + quiet, lambda t: Clause(Condition(
            fields.get(key(t[0]), "last_activity_at"), "not_exists"))),
        item(label + pp.Suppress(pp.Opt(W("date", "at", "was", "is", "on"))) + timespec.TIME,
             build),
    ]  # fmt: skip
