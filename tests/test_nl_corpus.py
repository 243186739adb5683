"""The natural-language corpus (tests/fixtures/nl/corpus.txt) against a generated org.

Every sentence must produce exactly its rule text and name exactly its phrases not
understood; every rule must be valid for the org and counted; every phrase reported
(not understood, ambiguous) must be the words of the sentence at its offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nl_org import NOW_S, ORG, build_service

from bitseg.nl import Translation, Translator
from bitseg.rules import parse_text, rule_from_json, rule_to_json, to_text
from bitseg.service import Service

CORPUS = Path(__file__).parent / "fixtures" / "nl" / "corpus.txt"


def load_corpus() -> list[tuple[str, str, list[str]]]:
    cases = []
    for line in CORPUS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" :: ")]
        sentence, expected = parts[0], parts[1] if len(parts) > 1 else ""
        unknown = [p.strip() for p in parts[2].split(" | ")] if len(parts) > 2 else []
        cases.append((sentence, expected, unknown))
    return cases


CASES = load_corpus()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = build_service(tmp_path_factory.mktemp("nl"))
    yield service
    service.close()


@pytest.fixture(scope="module")
def translator(service: Service) -> Translator:
    return Translator(service)


def test_corpus_size_and_coverage() -> None:
    assert len(CASES) >= 60
    assert sum(1 for _, _, unknown in CASES if unknown) >= 5
    texts = " ".join(expected for _, expected, _ in CASES)
    for construct in ("not ", " or ", "has deals", "event ", "in segment", "within last",
                      "older than", ">", "campaign last 3 match all", "between"):
        assert construct in texts, construct


@pytest.mark.parametrize(("sentence", "expected", "unknown"), CASES,
                         ids=[c[0][:60] for c in CASES])
def test_sentence(translator: Translator, sentence: str, expected: str, unknown: list[str]
                  ) -> None:
    result = translator.translate(ORG, sentence, NOW_S)
    assert result.text == expected
    assert [p.text for p in result.not_understood] == unknown
    check_consistent(result)


def check_consistent(result: Translation) -> None:
    sentence = result.sentence
    for phrase in result.not_understood:
        assert sentence[phrase.start : phrase.end] == phrase.text
    for ambiguity in result.ambiguities:
        phrase = ambiguity.phrase
        assert sentence[phrase.start : phrase.end] == phrase.text
        assert ambiguity.alternatives and ambiguity.chosen not in ambiguity.alternatives
        for alternative in ambiguity.alternatives:
            parse_text(alternative)  # every alternative is a rule text
    if result.rule is None:
        assert result.count is None and result.not_understood
        return
    assert result.count is not None, result.notes  # valid for the org, and counted
    assert to_text(parse_text(result.text)) == result.text
    assert rule_from_json(rule_to_json(result.rule)) == result.rule


def test_count_is_the_live_count(translator: Translator, service: Service) -> None:
    result = translator.translate(ORG, "contacts in Germany tagged vip", NOW_S)
    assert result.rule is not None
    assert result.count == service.count(ORG, result.rule, NOW_S)[0] > 0


def test_deterministic(translator: Translator) -> None:
    sentence = CASES[0][0]
    first = translator.translate(ORG, sentence, NOW_S)
    again = translator.translate(ORG, sentence, NOW_S)
    assert (first.text, first.ambiguities, first.notes) == (again.text, again.ambiguities,
                                                            again.notes)
