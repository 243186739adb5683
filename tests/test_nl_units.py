"""Building blocks of natural-language mode: numbers, comparisons, time phrases, rule
helpers, pruning, the vocabulary read from the index; and arbitrary text never crashes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nl_org import NOW_S, ORG, build_service

from bitseg.nl import Translator, timespec
from bitseg.nl.build import any_of, negate
from bitseg.nl.phrases import COMPARE, NUMBER
from bitseg.nl.pieces import Compare
from bitseg.nl.vet import prune
from bitseg.nl.vocabulary import Vocabulary
from bitseg.rules import Limits, parse_text, to_text
from bitseg.rules.model import Condition, Not
from bitseg.schema import OrgSchema
from bitseg.service import Service


@pytest.mark.parametrize(("text", "value"), [
    ("10k", 10_000), ("1.5 million", 1_500_000), ("$10,000", 10_000), ("three", 3),
    ("2.5m", 2_500_000), ("€5,000", 5_000), ("eighty", 80),
])  # fmt: skip
def test_numbers(text: str, value: int) -> None:
    assert NUMBER.parse_string(text, parse_all=True)[0] == value


@pytest.mark.parametrize(("text", "expected"), [
    ("more than 100", Compare("gt", 100)), ("at least 5", Compare("gte", 5)),
    ("no more than 3", Compare("lte", 3)), ("under 2k", Compare("lt", 2000)),
    ("5 or more", Compare("gte", 5)), ("3+", Compare("gte", 3)),
    ("between 50 and 10", Compare("between", (10, 50))), ("over $1,000", Compare("gt", 1000, True)),
])  # fmt: skip
def test_comparisons(text: str, expected: Compare) -> None:
    assert COMPARE.parse_string(text, parse_all=True)[0] == expected


@pytest.mark.parametrize(("text", "condition", "window"), [
    ("in the last 90 days", 'x within last "90d"', 'within last "90d"'),
    ("within the past 2 weeks", 'x within last "2w"', 'within last "2w"'),
    ("in the last month", 'x within last "30d"', 'within last "30d"'),
    ("in the last 12 hours", 'x within last "12h"', 'within since "-12h"'),
    ("more than 60 days ago", 'x older than "60d"', 'within between ("1970-01-01", "-60d")'),
    ("this week", 'x between ("2026-11-16", "2026-11-22")',
     'within between ("2026-11-16", "2026-11-22")'),
    ("last month", 'x between ("2026-10-01", "2026-10-31")',
     'within between ("2026-10-01", "2026-10-31")'),
    ("since March", 'x >= "2026-03-01"', 'within since "2026-03-01"'),
    ("since December", 'x >= "2025-12-01"', 'within since "2025-12-01"'),
    ("after March 5", 'x > "2026-03-05"', 'within since "2026-03-06"'),
    ("before 2026-01-01", 'x < "2026-01-01"', 'within between ("1970-01-01", "2025-12-31")'),
    ("in March 2025", 'x between ("2025-03-01", "2025-03-31")',
     'within between ("2025-03-01", "2025-03-31")'),
    ("in the next 30 days", 'x between ("now", "+30d")', 'within between ("now", "+30d")'),
    ("yesterday", 'x between ("2026-11-19", "2026-11-19")',
     'within between ("2026-11-19", "2026-11-19")'),
])  # fmt: skip
def test_time_phrases(text: str, condition: str, window: str) -> None:
    when = timespec.resolve(timespec.TIME.parse_string(text, parse_all=True)[0], NOW_S)
    assert to_text(timespec.condition("x", when)) == condition
    assert to_text(parse_text('event "e"')).replace('"e"', '"e" ' + window) == to_text(
        parse_text(f'event "e" {window}'))


def test_negate_uses_complement_operators() -> None:
    assert negate(Condition("country", "eq", "DE")) == Condition("country", "ne", "DE")
    assert negate(Condition("tags", "has_any", ("a", "b"))) == Condition("tags", "has_none",
                                                                          ("a", "b"))
    assert negate(Condition("unsubscribed", "eq", True)) == Condition("unsubscribed", "eq",
                                                                       False)
    older = Condition("created_at", "older_than", "60d")
    assert negate(older) == Not(older) and negate(Not(older)) == older


def test_or_merges_same_field() -> None:
    rule = any_of([Condition("country", "eq", "DE"), Condition("country", "in", ("FR", "DE")),
                   Condition("tags", "has", "vip")])  # fmt: skip
    assert to_text(rule) == 'country in ("DE", "FR") or tags has "vip"'


def test_prune_names_what_it_drops() -> None:
    rule = parse_text('country = "DE" and not (vibe = "x" or in segment "S") and '
                      'event "email_opened" campaign "c9"')  # fmt: skip
    vocab = Vocabulary.from_json({"segments": [{"id": "seg_1", "name": "S"}]})
    kept, dropped = prune(rule, OrgSchema(), vocab, Limits())
    assert kept is not None
    assert to_text(kept) == 'country = "DE" and not in segment "S"'
    assert dropped == ['vibe = "x": field: unknown field "vibe"',
                       'event "email_opened" campaign "c9": campaign: unknown campaign "c9"']
    assert prune(parse_text('vibe = "x"'), OrgSchema(), vocab, Limits())[0] is None


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = build_service(tmp_path_factory.mktemp("units"), contacts=150)
    yield service
    service.close()


def test_vocabulary_from_the_index(service: Service) -> None:
    vocab = service.vocabulary(ORG)
    assert "vip" in vocab["values"]["tags"] and "Software" in vocab["values"][
        "company.industry"]
    assert vocab["deal_values"]["stage"][:2] == ["appointment", "closed_lost"]
    assert "page_view" in vocab["event_types"] and "email_opened" in vocab["event_types"]
    assert vocab["fit_scores"] == ["ads", "crm"]
    assert vocab["custom_fields"]["interests"] == "set"
    first = vocab["campaigns"][0]
    assert first["id"] == "cmp1" and first["name"].startswith("Weekly digest")
    assert {s["name"] for s in vocab["segments"]} == {"VIP", "Cooldown"}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from([
    "not", "no", "or", "and", "in", "Germany", "vip", "tagged", "deal", "deals", "opened",
    "our", "last", "3", "campaigns", "more", "than", "10k", "days", "ago", "segment", "VIP",
    "lead", "score", "above", "(", ",", "'", '"', "since", "March", "neither", "nor", "é",
    "customers", "who", "haven't", "been", "contacted", "in the last 90 days", "x" * 40,
]), max_size=14), noise=st.text(max_size=12))  # fmt: skip
def test_any_text_translates_or_is_named(service: Service, words: list[str], noise: str
                                        ) -> None:
    sentence = " ".join(words) + " " + noise
    if not sentence.strip():
        return
    result = Translator(service).translate(ORG, sentence, NOW_S)
    for phrase in result.not_understood:
        assert sentence[phrase.start : phrase.end] == phrase.text
    if result.rule is not None:
        assert to_text(parse_text(result.text)) == result.text
    else:
        assert result.not_understood or not any(c.isalnum() for c in sentence)
