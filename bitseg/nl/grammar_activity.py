"""Clauses about what contacts did and have: deals, events, email engagement, segments.

`activity_clauses(ctx)` returns, in the order they are tried: segment membership with
the word "segment" ("in the VIP segment", "ever in segment X"); deals ("an open deal",
"more than 2 deals", "closed-won in the last 30 days", "deal value over 10k", "deal
created in the last 90 days", "bought"); counted events ("more than 3 support tickets",
"a conversation this month"); email engagement ("opened our last 3 campaigns", "clicked
campaign X", "opened or clicked an email in the last 30 days", "unsubscribed from the
Weekly digest"). `segment_by_name(ctx)` ("in Cooldown") is tried after locations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyparsing as pp

from bitseg.nl import timespec
from bitseg.nl.build import all_of, any_of, compare_cmp, compare_condition, values_condition
from bitseg.nl.gbase import FREE_WORD, QUOTED, Ctx, Refused, item, listing
from bitseg.nl.lexicon import Lexicon
from bitseg.nl.phrases import COMPARE, NUMBER, NUMBER_MONEY, W, key, table
from bitseg.nl.pieces import Clause, Compare
from bitseg.nl.vocabulary import Campaign
from bitseg.rules.model import (
    CampaignIn,
    CampaignLast,
    CampaignSelector,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Rule,
    SegmentRef,
)
from bitseg.timeutil import parse_instant

BUY_WINDOW = "30d"
""""bought" / "didn't buy" with no time given: a closed-won deal closed in the last 30 days
(seed 001: "no closed-won deal in 30 days")."""


@dataclass(frozen=True)
class Qualifier:
    """One piece of a deal or event clause: a deal condition, a time, a count."""

    kind: str  # cond | time | created | closed | count
    value: object


def activity_clauses(ctx: Ctx) -> list[pp.ParserElement]:
    return [_segment_explicit(ctx.lex), *_deals(ctx), _events(ctx), _email(ctx)]


# ------------------------------------------------------------------------- segments
_EVER = W("who were ever", "who have ever been", "have ever been", "has ever been",
          "were ever", "was ever", "ever been", "ever", "once", "previously", "formerly")
_MEMBER = W("in", "members of", "member of", "part of", "belong to", "belongs to",
            "belonging to", "within", "on")  # fmt: skip
_SEG = W("segments?", "lists?", "audiences?")


def _segment(t: pp.ParseResults) -> Clause:
    ever = t[0] == "ever"
    return Clause(SegmentRef(str(t[1]), ever=ever))


def _ever_flag() -> pp.ParserElement:
    return pp.Opt(_EVER.copy().set_parse_action(lambda: "ever"), default="now")


def _segment_explicit(lex: Lexicon) -> pp.ParserElement:
    name = table(lex.segments) | QUOTED | FREE_WORD
    the = pp.Suppress(pp.Opt(W("the", "our")))
    return item(
        _ever_flag() + pp.Suppress(_MEMBER) + the
        + ((pp.Suppress(_SEG) + name) | (name + pp.Suppress(_SEG))), _segment)  # fmt: skip


def segment_by_name(ctx: Ctx) -> pp.ParserElement:
    """`in Cooldown`, `members of VIP`: a known segment name without the word "segment"."""
    lex = ctx.lex
    name = table(lex.segments)

    def build(t: pp.ParseResults) -> Clause:
        clause = _segment(t)
        return Clause(clause.rule, alternatives=tuple(
            r for r in lex.bare_meanings(str(t[1])) if not isinstance(r, SegmentRef)))

    return item(_ever_flag() + pp.Suppress(_MEMBER) + pp.Suppress(pp.Opt(W("the"))) + name, build)


# ------------------------------------------------------------------------- deals
_DEAL = W("deals?", "opportunit(?:y|ies)", "opps?", "pipeline deals?")
_COUNT_WORDS = W("multiple", "several", "many").set_parse_action(lambda: Compare("gte", 2))
_ONE = pp.Suppress(W("an?", "any", "one", "some", "the", "their", "its"))


def _count() -> pp.ParserElement:
    bare = NUMBER.copy().add_parse_action(lambda t: Compare("gte", t[0]))
    return COMPARE | _COUNT_WORDS | bare


def _deals(ctx: Ctx) -> list[pp.ParserElement]:
    lex = ctx.lex
    stage = table(lex.deal_stages) | W("won").set_parse_action(lambda: lex.won) | W(
        "lost").set_parse_action(lambda: lex.lost)
    is_open = W("open", "active", "ongoing", "in progress", "in-progress", "live").set_parse_action(
        lambda: "(open)")
    adjective = stage | is_open
    qualifiers = pp.ZeroOrMore(_deal_qualifier(ctx, stage))
    count = (_count() | _ONE).set_parse_action(lambda t: [Qualifier("count", t[0])] if t else [])

    def build(t: pp.ParseResults) -> Clause:
        return _deal_clause(ctx, list(t), buy=False)

    def build_buy(t: pp.ParseResults) -> Clause:
        return _deal_clause(ctx, [lex.won, *t], buy=True)

    buy = W("bought", "buy", "buys", "buying", "purchased", "purchase", "converted", "convert",
            "paid", "closed a deal", "won a deal", "won deals", "won an? opportunity")
    nothing_else = pp.NotAny(pp.Opt(_ONE) + (table(lex.event_nouns, plural=True) | W("from")))
    pipeline = (pp.Suppress(W("in the", "in", "on the")) + listing(table(lex.pipelines))
                + pp.Suppress(W("pipelines?"))).set_parse_action(
        lambda t: Qualifier("cond", values_condition("pipeline", list(t[1:]))))
    return [
        item(pp.Opt(count) + pp.Opt(adjective) + pp.Suppress(_DEAL) + qualifiers, build),
        item(pp.Suppress(buy) + nothing_else + qualifiers, build_buy),
        item(pp.Suppress(W("in", "at")) + pp.Suppress(pp.Opt(W("the"))) + stage
             + pp.Suppress(pp.Opt(W("stage"))) + qualifiers, build),
        item(stage + pp.Suppress(pp.Opt(W("stage"))) + qualifiers, build),
        item(pipeline + qualifiers, build),
    ]  # fmt: skip


def _deal_qualifier(ctx: Ctx, stage: pp.ParserElement) -> pp.ParserElement:
    lex = ctx.lex
    created = W("created", "opened", "added", "started", "made", "entered", "raised")
    closed = W("closed", "closing", "closes", "close", "won", "lost", "expected to close",
               "that closed", "that close", "due to close", "close date")  # fmt: skip
    worth = W("worth", "valued at", "with a value of", "with value", "of value", "values?",
              "valued", "amount", "amounting to", "with an amount of", "sized", "size",
              "for")  # fmt: skip
    money = NUMBER_MONEY.copy().add_parse_action(lambda t: Compare("eq", t[0][0], t[0][1]))
    big_compare = COMPARE.copy().add_condition(lambda t: t[0].money or _scaled(t[0]))
    owner = table(lex.owners) | QUOTED | FREE_WORD
    the = pp.Suppress(pp.Opt(W("the")))

    def cond(field_name: str) -> pp.ParseAction:
        return lambda t: Qualifier("cond", values_condition(field_name, list(t[1:])))

    def value(t: pp.ParseResults) -> Qualifier:
        return Qualifier("cond", compare_condition("value", t[0]))

    def when(kind: str) -> pp.ParseAction:
        return lambda t: Qualifier(kind, t[0])

    in_stage = (pp.Suppress(W("in", "at", "stage", "in stage", "at stage")) + the
                + listing(stage) + pp.Suppress(pp.Opt(W("stages?"))))  # fmt: skip
    pipelines = listing(table(lex.pipelines))
    in_pipeline = (pp.Suppress(W("in the", "in", "on the")) + pipelines
                   + pp.Suppress(W("pipelines?"))
                   | pp.Suppress(W("pipeline")) + pp.Suppress(pp.Opt(W("is"))) + pipelines)
    owned = pp.Suppress(W("owned by", "assigned to", "with owner", "whose owner is",
                          "managed by")) + listing(owner)  # fmt: skip
    return (
        (pp.Suppress(created) + timespec.TIME).set_parse_action(when("created"))
        | (pp.Suppress(closed) + timespec.TIME).set_parse_action(when("closed"))
        | timespec.TIME.copy().add_parse_action(when("time"))
        | (pp.Suppress(worth) + pp.Suppress(pp.Opt(W("is", "of"))) + (COMPARE | money))
        .set_parse_action(value)
        | big_compare.copy().add_parse_action(value)
        | in_stage.set_parse_action(cond("stage"))
        | in_pipeline.set_parse_action(cond("pipeline"))
        | owned.set_parse_action(cond("owner"))
    )


def _scaled(compare: Compare) -> bool:
    value = compare.value if isinstance(compare.value, int) else compare.value[1]
    return value >= 1000


def _deal_clause(ctx: Ctx, parts: Sequence[object], buy: bool) -> Clause:
    lex = ctx.lex
    where: list[Rule] = []
    count: Cmp | None = None
    times: list[tuple[str, object]] = []
    closed_stage = False
    notes: list[str] = []
    for part in parts:
        if isinstance(part, Qualifier):
            if part.kind == "count":
                count = compare_cmp(part.value)  # type: ignore[arg-type]
            elif part.kind == "cond":
                where.append(part.value)  # type: ignore[arg-type]
            else:
                times.append((part.kind, part.value))
        elif part == "(open)":
            where.append(Condition("stage", "not_in", lex.closed))
        elif isinstance(part, str):
            where.append(Condition("stage", "eq", part))
            closed_stage = closed_stage or part in lex.closed
    for kind, spec in times:
        on_close = kind == "closed" or (kind == "time" and closed_stage)
        when = timespec.resolve(spec, ctx.now)  # type: ignore[arg-type]
        where.append(timespec.condition("close_date" if on_close else "created_at", when))
        if timespec.note_of(spec):  # type: ignore[arg-type]
            notes.append(timespec.note_of(spec))  # type: ignore[arg-type]
    alternatives: tuple[Rule, ...] = ()
    if buy and not times:
        plain = HasDeals(where=all_of(where), count=count)
        where.append(Condition("close_date", "within_last", BUY_WINDOW))
        notes.append(f'"bought" with no time given read as a {lex.won} deal closed in the last '
                     f"{BUY_WINDOW[:-1]} days")
        alternatives = (plain,)
    if count is not None and count == Cmp(gte=1):
        count = None
    rule = HasDeals(where=all_of(where) if where else None, count=count)
    return Clause(rule, alternatives=alternatives, notes=tuple(notes))


# ------------------------------------------------------------------------- events
def _events(ctx: Ctx) -> pp.ParserElement:
    lex = ctx.lex
    verb = W("raised", "raise", "opened", "open", "filed", "file", "submitted", "submit",
             "created", "create", "logged", "log", "had", "have", "has", "made", "make", "sent",
             "send", "placed", "place", "received", "receive", "started", "start", "booked",
             "book", "viewed", "view", "visited", "visit")  # fmt: skip
    noun = table(lex.event_nouns, plural=True)
    tail = pp.ZeroOrMore(_event_qualifier())

    def build(t: pp.ParseResults) -> Clause:
        parts = list(t)
        etype = next(p for p in parts if isinstance(p, str))
        return _event_clause(ctx, [etype], "or", None, parts)

    count = (_count() | _ONE).set_parse_action(lambda t: [Qualifier("count", t[0])] if t else [])
    return item(pp.Suppress(pp.Opt(verb)) + pp.Opt(count) + noun + tail, build)


def _event_qualifier() -> pp.ParserElement:
    times = pp.Suppress(pp.Opt(W("times", "x")))
    return (
        timespec.TIME.copy().add_parse_action(lambda t: Qualifier("time", t[0]))
        | (_count() + times).set_parse_action(lambda t: Qualifier("count", t[0]))
    )


def _email(ctx: Ctx) -> pp.ParserElement:
    verbs = {"opened": "email_opened", "open": "email_opened", "opens": "email_opened",
             "read": "email_opened", "clicked": "email_clicked",
             "click": "email_clicked", "clicks": "email_clicked",
             "clicked on": "email_clicked", "clicked through": "email_clicked",
             "clicked a link in": "email_clicked", "clicked links in": "email_clicked",
             "unsubscribed from": "email_unsubscribed", "unsubscribe from":
             "email_unsubscribed", "unsubscribed": "email_unsubscribed",
             "unsubscribe": "email_unsubscribed", "opted out of": "email_unsubscribed"}
    verb_list = listing(table(verbs))
    target = _campaign_object(ctx) | _email_object()
    tail = pp.ZeroOrMore(_event_qualifier())

    def build(t: pp.ParseResults) -> Clause:
        parts = list(t)
        joiner, rest = parts[0], parts[1:]
        types = [p for p in rest if isinstance(p, str) and p.startswith("email_")]
        others = [p for p in rest if not (isinstance(p, str) and p.startswith("email_"))]
        if types == ["email_unsubscribed"] and not others:
            raise Refused  # bare "unsubscribed": the bool field (grammar_fields)
        selector = next((p for p in others if isinstance(p, _Target)), None)
        if selector is not None and selector.selector is not None:
            ctx.last_campaign = selector
        return _event_clause(ctx, types, joiner, selector, others)

    pronoun = W("it", "them", "that one", "that campaign", "that email", "those").set_parse_action(
        lambda: ctx.last_campaign if ctx.last_campaign is not None else _no_referent())
    return item(verb_list + pp.Opt(pronoun | target) + tail, build)


def _no_referent() -> _Target:
    raise Refused  # "it" with no campaign before it: not understood


@dataclass(frozen=True)
class _Target:
    selector: CampaignSelector | None
    alternatives: tuple[CampaignSelector, ...] = ()
    note: str = ""


def _campaign_object(ctx: Ctx) -> pp.ParserElement:
    lex = ctx.lex
    unit = W("campaigns?", "emails?", "newsletters?", "sends?", "mailings?", "blasts?",
             "messages?")  # fmt: skip
    latest = W("last", "latest", "most recent", "previous", "past", "newest", "recent")
    our = pp.Suppress(pp.Opt(W("our", "the", "my", "their")))
    match = pp.Opt(W("all of", "each of", "every one of", "all").set_parse_action(lambda: "all")
                   | W("any of", "at least one of", "one of", "either of", "some of")
                   .set_parse_action(lambda: "any"), default="")  # fmt: skip

    def last_n(t: pp.ParseResults) -> _Target:
        said, n = t[0], t[1]
        if said or n == 1:
            return _Target(CampaignLast(n, "all" if said == "all" and n > 1 else "any"))
        return _Target(CampaignLast(n, "all"), (CampaignLast(n, "any"),),
                       f'"our last {n} campaigns" read as all {n} of them')

    def named(t: pp.ParseResults) -> _Target:
        return _named_target(ctx, str(t[0]))

    names = table({**{k: c.id for k, c in lex.campaigns.items()}, **_prefixes(lex)})
    return (
        (match + our + pp.Suppress(latest) + NUMBER + pp.Suppress(unit)).set_parse_action(last_n)
        | (our + pp.Suppress(latest) + pp.Suppress(unit)).set_parse_action(
            lambda: _latest_target(ctx))
        | (our + pp.Suppress(W("campaign", "newsletter", "email")) + (names | QUOTED | FREE_WORD))
        .set_parse_action(named)
        | (our + (names | QUOTED) + pp.Suppress(pp.Opt(unit))).set_parse_action(named)
    )  # fmt: skip


def _email_object() -> pp.ParserElement:
    unit = W("emails?", "campaigns?", "newsletters?", "messages?", "mails?", "marketing emails?",
             "mailings?", "anything", "something")  # fmt: skip
    count = (_count() | _ONE).set_parse_action(lambda t: [Qualifier("count", t[0])] if t else [])
    return pp.Opt(count) + pp.Suppress(pp.Opt(W("of our", "our", "of the"))) + pp.Suppress(unit)


def _prefixes(lex: Lexicon) -> dict[str, str]:
    """Campaign-name prefixes of two words or more, up to the first word with a digit
    ("weekly digest" of "Weekly digest 2026-11-13") -> the prefix."""
    out: dict[str, str] = {}
    for campaign in lex.vocab.campaigns:
        words = key(campaign.name).split()
        for n in range(2, len(words)):
            if any(c.isdigit() for c in words[n - 1]):
                break  # "weekly digest", not "weekly digest 2026"
            out.setdefault(" ".join(words[:n]), " ".join(words[:n]))
    return out


def _named_target(ctx: Ctx, phrase: str) -> _Target:
    found = ctx.lex.campaign_named(phrase)
    if not found:
        return _Target(phrase)  # an unknown campaign: validation names it
    if len(found) == 1:
        return _Target(found[0].id)
    sent = [c for c in found if _sent_by(c, ctx.now)] or found
    latest = sent[-1]
    everyone = CampaignIn(tuple(c.id for c in sent[-1000:]))
    note = f'"{phrase}" names {len(found)} campaigns: the latest, "{latest.name}", was taken'
    return _Target(latest.id, (everyone,), note)


def _latest_target(ctx: Ctx) -> _Target:
    """"our last campaign": `campaign last 1`; the campaign it is today is the alternative."""
    sent = [c for c in ctx.lex.vocab.campaigns if _sent_by(c, ctx.now)]
    if not sent:
        return _Target(CampaignLast(1))
    return _Target(CampaignLast(1), (sent[-1].id,),
                   f'"our last campaign" is "{sent[-1].name}" ({sent[-1].id}) today; the rule '
                   "follows the newest campaign as new ones are sent")


def _sent_by(campaign: Campaign, now: int) -> bool:
    return campaign.sent_at is not None and parse_instant(campaign.sent_at) <= now


def _event_clause(
    ctx: Ctx, types: list[str], joiner: str, target: _Target | None, parts: Sequence[object]
) -> Clause:
    count: Cmp | None = None
    window = None
    notes: list[str] = [target.note] if target is not None and target.note else []
    for part in parts:
        if isinstance(part, Qualifier) and part.kind == "count":
            count = compare_cmp(part.value)  # type: ignore[arg-type]
        elif isinstance(part, Qualifier) and part.kind == "time":
            window = timespec.window(timespec.resolve(part.value, ctx.now))  # type: ignore
            if timespec.note_of(part.value):  # type: ignore[arg-type]
                notes.append(timespec.note_of(part.value))  # type: ignore[arg-type]
    if count == Cmp(gte=1):
        count = None
    selector = target.selector if target is not None else None

    def make(sel: CampaignSelector | None) -> Rule:
        events = [EventRule(t, sel, window, count) for t in dict.fromkeys(types)]
        return all_of(events) if joiner == "and" else any_of(events)

    alternatives = tuple(make(s) for s in target.alternatives) if target is not None else ()
    return Clause(make(selector), alternatives=alternatives, notes=tuple(notes))

