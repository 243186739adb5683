"""The words natural-language mode knows: fixed English phrases plus the org's vocabulary.

`Lexicon(vocabulary)` turns an org's `Vocabulary` into phrase tables (surface phrase ->
meaning) for the grammar: countries by name, alias, adjective and (upper-case) ISO code;
languages by name and code; lifecycle stages with their plural and spelled-out forms;
tags, industries, sources, owners, deal stages, pipelines, campaigns, segments, event
types and custom fields with their values. `bare_meanings` lists every reading of a bare
phrase ("enterprise": a tag, a plan value, ...) in priority order; the grammar takes the
first and reports the others as alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bitseg.nl.countries import COUNTRIES, COUNTRY_ALIASES, DEMONYMS, LANGUAGES
from bitseg.nl.phrases import key
from bitseg.nl.vocabulary import Campaign, Vocabulary
from bitseg.rules.model import Condition, HasDeals, Rule, SegmentRef

# Phrases that are never a vocabulary value on their own (they are grammar words).
STOPWORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "not", "no", "with", "without", "who", "that",
    "which", "in", "on", "at", "of", "to", "for", "from", "by", "is", "are", "was", "were",
    "be", "been", "have", "has", "had", "do", "does", "did", "all", "any", "some", "our",
    "their", "my", "your", "its", "this", "last", "more", "less", "than", "over", "under",
    "above", "below", "most", "least", "me", "us", "them", "they", "he", "she", "it",
))  # fmt: skip

LIFECYCLE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "SUBSCRIBER": ("subscriber", "subscribers"),
    "LEAD": ("lead", "leads"),
    "MQL": ("mql", "mqls", "marketing qualified lead", "marketing qualified leads",
            "marketing-qualified lead", "marketing-qualified leads"),
    "SQL": ("sql", "sqls", "sales qualified lead", "sales qualified leads",
            "sales-qualified lead", "sales-qualified leads"),
    "CUSTOMER": ("customer", "customers", "client", "clients", "paying customers"),
}  # fmt: skip
GENERIC_STAGES = frozenset({"SUBSCRIBER", "LEAD", "CUSTOMER"})
"""Stage nouns that, as a sentence's subject, mean "contacts" (seed 001's prompts)."""

TREND_ALIASES: Mapping[str, tuple[str, ...]] = {
    "RISING": ("rising", "increasing", "growing", "improving", "up"),
    "STABLE": ("stable", "steady", "flat"),
    "DECLINING": ("declining", "decreasing", "falling", "dropping", "down", "shrinking"),
}
LIKELIHOOD_ALIASES: Mapping[str, tuple[str, ...]] = {
    "VERY_LIKELY": ("very likely", "very likely to convert", "highly likely to convert"),
    "LIKELY": ("likely", "likely to convert"),
    "POSSIBLE": ("possible", "possibly", "might convert", "could convert"),
    "LOW": ("low", "unlikely", "unlikely to convert", "not likely to convert"),
}
SIZE_CLASSES: Mapping[str, tuple[str, int | None, int | None]] = {
    # phrase: (label, lowest, highest) employees, inclusive
    "enterprise": ("enterprise", 1000, None), "large": ("large", 1000, None),
    "big": ("large", 1000, None), "mid market": ("mid-market", 100, 999),
    "midmarket": ("mid-market", 100, 999), "mid size": ("mid-size", 100, 999),
    "mid sized": ("mid-size", 100, 999), "medium": ("mid-size", 100, 999),
    "medium sized": ("mid-size", 100, 999), "small": ("small", None, 99),
    "smb": ("small", None, 99), "smbs": ("small", None, 99), "small business": ("small", None, 99),
    "small businesses": ("small", None, 99), "startup": ("startup", None, 49),
    "startups": ("startup", None, 49),
}  # fmt: skip
"""Company-size words -> employee ranges (documented in the README)."""

EVENT_NOUNS: Mapping[str, tuple[str, ...]] = {
    "support_ticket": ("support ticket", "support request", "support case", "ticket"),
    "conversation": ("conversation", "chat", "call", "meeting"),
    "inbound": ("inbound message", "inbound request", "inbound lead", "inbound",
                "form submission", "form fill"),
    "purchase": ("purchase", "order"),
    "activity": ("activities", "activity"),
    "email_opened": ("email open",),
    "email_clicked": ("email click",),
}  # fmt: skip


@dataclass(frozen=True)
class CustomField:
    name: str  # without "custom."
    type: str
    labels: tuple[str, ...]
    values: Mapping[str, str] = field(default_factory=dict)


class Lexicon:
    """Phrase tables for one org (built once per vocabulary, then read-only)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.countries = _countries()
        self.country_codes = {c: c for c in vocab.of("country") + vocab.of("company.country")}
        self.demonyms = dict(DEMONYMS)
        self.languages = _languages(vocab.of("language"))
        self.stages = _aliased(vocab.of("lifecycle_stage"), LIFECYCLE_ALIASES)
        self.trends = _aliased(vocab.of("engagement_trend"), TREND_ALIASES)
        self.likelihoods = _aliased(vocab.of("conversion_likelihood"), LIKELIHOOD_ALIASES)
        self.tags = _plain(vocab.of("tags"))
        self.industries = _plain(vocab.of("company.industry"))
        self.sources = _plain(vocab.of("source"))
        self.owners = _plain(vocab.of("owner") + vocab.deal_values.get("owner", ()))
        self.deal_stages = _plain(vocab.deal_values.get("stage", ()))
        self.pipelines = _plain(vocab.deal_values.get("pipeline", ()))
        stages = vocab.deal_values.get("stage", ()) or ("closed_won", "closed_lost")
        self.won = _pick(stages, ("closed_won", "won", "closed won")) or "closed_won"
        self.lost = _pick(stages, ("closed_lost", "lost", "closed lost")) or "closed_lost"
        self.closed = tuple(sorted({s for s in stages if "closed" in key(s)} | {self.won,
                                                                                self.lost}))
        self.segments = _plain(vocab.segments)
        self.campaigns = {key(c.name): c for c in vocab.campaigns if key(c.name)}
        self.campaigns.update({key(c.id): c for c in vocab.campaigns})
        self.event_nouns = _event_nouns(vocab.event_types)
        self.custom = _custom_fields(vocab)
        self.fit_scores = {key(p): p for p in vocab.fit_scores}

    def bare_meanings(self, phrase: str) -> list[Rule]:
        """Every reading of a bare phrase from the org's vocabulary, most likely first."""
        k = key(phrase)
        if not k or k in STOPWORDS:
            return []
        found: list[Rule] = []
        for field_name, tbl, op in (("tags", self.tags, "has"),
                                    ("company.industry", self.industries, "eq")):
            if k in tbl:
                found.append(Condition(field_name, op, tbl[k]))
        if k in self.segments:
            found.append(SegmentRef(self.segments[k]))
        for custom in self.custom.values():
            if k in custom.values:
                op = "has" if custom.type == "set" else "eq"
                found.append(Condition(f"custom.{custom.name}", op, custom.values[k]))
        if k in self.deal_stages:
            found.append(HasDeals(where=Condition("stage", "eq", self.deal_stages[k])))
        return found

    def campaign_named(self, phrase: str) -> list[Campaign]:
        """Campaigns whose name or id is `phrase`, else whose name starts with it (newest last)."""
        k = key(phrase)
        if k in self.campaigns:
            return [self.campaigns[k]]
        return [c for c in self.vocab.campaigns if key(c.name).startswith(k + " ")]


def _plain(values: Iterable[str]) -> dict[str, str]:
    return {key(v): v for v in values if key(v)}


def _aliased(values: Iterable[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    out = _plain(values)
    present = set(values) or set(aliases)  # with no data yet, the SPEC's values
    for value, words in aliases.items():
        if value in present:
            out.update({key(w): value for w in words})
    return out


def _pick(values: Iterable[str], wanted: Iterable[str]) -> str | None:
    by_key = {key(v): v for v in values}
    return next((by_key[key(w)] for w in wanted if key(w) in by_key), None)


def _countries() -> dict[str, str]:
    out = {key(name): code for code, name in COUNTRIES.items()}
    out.update({key(alias): code for alias, code in COUNTRY_ALIASES.items()})
    return out


def _languages(values: Iterable[str]) -> dict[str, str]:
    """Language names and codes -> the org's stored value (a code, or a name)."""
    out: dict[str, str] = {}
    for value in values:
        out[key(value)] = value
        name = LANGUAGES.get(value.lower())
        if name:
            out[key(name)] = value
    for code, name in LANGUAGES.items():
        out.setdefault(key(name), code)
    return out


def _event_nouns(types: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for etype in types:
        for word in EVENT_NOUNS.get(etype, ()):
            out[key(word)] = etype
        if etype not in EVENT_NOUNS and not etype.startswith("email_"):
            out[key(etype)] = etype  # custom types by name: page_view -> "page view"
    return out


def _custom_fields(vocab: Vocabulary) -> dict[str, CustomField]:
    out = {}
    for name, ftype in vocab.custom_fields.items():
        spoken = key(name)
        labels = {spoken, re.sub(r" (at|date|on)$", "", spoken)}
        values = _plain(vocab.of(f"custom.{name}")) if ftype in ("keyword", "set") else {}
        out[name] = CustomField(name, ftype, tuple(sorted(labels, key=len, reverse=True)),
                                values)
    return out
