"""`Translator.translate(org, sentence, now)`: a sentence -> a reviewed, counted rule.

Reads the org's schema and vocabulary through the `Service`, asks the external model if
one is plugged in (see `bitseg.nl.model`), else (or when it fails) the offline
translator (`translate_offline`: grammar -> items -> assembled rule), checks the rule
against the org (`bitseg.nl.vet`) and counts it with `Service.count`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from bitseg.errors import BitsegError, InvalidArgument
from bitseg.nl import vet
from bitseg.nl.assemble import assemble
from bitseg.nl.grammar import MAX_SENTENCE, grammar_for, normalise_sentence
from bitseg.nl.model import (
    DEFAULT_TIMEOUT,
    ModelRequest,
    ModelTimeout,
    NLModel,
    call_with_timeout,
    describe_schema,
    read_answer,
)
from bitseg.nl.result import Ambiguity, Phrase, Translation
from bitseg.nl.vocabulary import Vocabulary
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule
from bitseg.schema import OrgSchema
from bitseg.timeutil import format_time


class ServiceLike(Protocol):
    """What the translator needs of `bitseg.service.Service`."""

    limits: Limits

    def schema(self, org: str) -> OrgSchema: ...
    def vocabulary(self, org: str) -> dict[str, object]: ...
    def count(self, org: str, rule: Rule, now: int | None = None) -> tuple[int, float]: ...


class Translator:
    """Natural-language mode over one `Service`; `model` is an optional external model."""

    def __init__(
        self, service: ServiceLike, model: NLModel | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.service = service
        self.model = model
        self.timeout = timeout

    def translate(
        self, org: str, sentence: str, now: int | None = None, offline: bool = False
    ) -> Translation:
        """The rule `sentence` describes, with its count and everything to review."""
        if not sentence.strip():
            raise InvalidArgument("sentence: required")
        if len(sentence) > MAX_SENTENCE:
            raise InvalidArgument(f"sentence: at most {MAX_SENTENCE} characters")
        started = time.perf_counter()
        clock = int(time.time()) if now is None else now
        schema, vocabulary = self.service.schema(org), self.service.vocabulary(org)
        vocab = Vocabulary.from_json(vocabulary)
        result, failure = None, ""
        if self.model is not None and not offline:
            result, failure = self._ask_model(org, sentence, clock, schema, vocabulary, vocab)
        if result is None:
            result = translate_offline(sentence, vocabulary, schema, clock, self.service.limits)
            if failure:
                result = _with_note(result, failure, first=True)
        return self._counted(org, result, clock, started)

    def _ask_model(
        self, org: str, sentence: str, now: int, schema: OrgSchema,
        vocabulary: Mapping[str, Any], vocab: Vocabulary,
    ) -> tuple[Translation | None, str]:  # fmt: skip
        request = ModelRequest(sentence, format_time(now), org, describe_schema(schema),
                               vocabulary)  # fmt: skip
        fallback = "the offline translator was used instead"
        try:
            answer = read_answer(call_with_timeout(self.model, request, self.timeout),
                                 self.service.limits)  # type: ignore[arg-type]
        except ModelTimeout as e:
            return None, f"the language model failed: {e}; {fallback}"
        except InvalidArgument as e:
            return None, f"the language model's answer is not a rule ({e.message}); {fallback}"
        except Exception as e:  # a plug-in may raise anything
            return None, f"the language model failed ({type(e).__name__}: {e}); {fallback}"
        rule, dropped = vet.prune(answer.rule, schema, vocab, self.service.limits)
        if rule is None:
            reason = dropped[0] if dropped else "empty rule"
            return None, f"the language model's rule is not valid ({reason}); {fallback}"
        notes = [*answer.notes]
        if dropped:
            notes.append("parts of the language model's rule were dropped: " + "; ".join(dropped))
        return Translation(
            sentence=sentence, rule=rule,
            not_understood=tuple(_locate(sentence, p) for p in answer.not_understood),
            ambiguities=tuple(_ambiguity(sentence, a) for a in answer.ambiguities),
            notes=tuple(notes), translator="model", rejected=tuple(dropped),
        ), ""  # fmt: skip

    def _counted(self, org: str, result: Translation, now: int, started: float) -> Translation:
        count = None
        notes = list(result.notes)
        if result.rule is not None:
            try:
                count, _ = self.service.count(org, result.rule, now)
            except BitsegError as e:
                notes.append(f"the rule could not be counted: {e.message}")
        return Translation(
            sentence=result.sentence, rule=result.rule, not_understood=result.not_understood,
            ambiguities=result.ambiguities, notes=tuple(notes), translator=result.translator,
            count=count, seconds=time.perf_counter() - started, rejected=result.rejected,
        )  # fmt: skip


def translate_offline(
    sentence: str, vocabulary: Mapping[str, Any], schema: OrgSchema, now: int, limits: Limits
) -> Translation:
    """The offline translator: the org's grammar, no I/O, deterministic."""
    grammar = grammar_for(vocabulary)
    vocab = grammar.ctx.lex.vocab
    normalised = normalise_sentence(sentence)
    items = grammar.parse(normalised, now)
    out = assemble(normalised, items, grammar.ctx.lex,
                   check=lambda rule: vet.problems(rule, schema, vocab, limits))  # fmt: skip
    rule, notes = out.rule, list(out.notes)
    if rule is not None:
        found = vet.problems(rule, schema, vocab, limits)
        if found:  # the whole is too large or too deep: nothing is usable
            notes.append(f"the rule cannot be used: {found[0]}")
            rule = None
    return Translation(
        sentence=sentence, rule=rule,
        not_understood=tuple(_original(sentence, p) for p in out.not_understood),
        ambiguities=tuple(replace(a, phrase=_original(sentence, a.phrase))
                          for a in out.ambiguities),
        notes=tuple(notes), translator="offline", rejected=tuple(out.rejected),
    )  # fmt: skip


def _original(sentence: str, phrase: Phrase) -> Phrase:
    """The phrase as the user typed it (the grammar read a normalised copy)."""
    return replace(phrase, text=sentence[phrase.start : phrase.end])


def _with_note(result: Translation, note: str, first: bool = False) -> Translation:
    notes = (note, *result.notes) if first else (*result.notes, note)
    return Translation(
        sentence=result.sentence, rule=result.rule, not_understood=result.not_understood,
        ambiguities=result.ambiguities, notes=notes, translator=result.translator,
        count=result.count, seconds=result.seconds, rejected=result.rejected,
    )  # fmt: skip


def _locate(sentence: str, phrase: str) -> Phrase:
    """A phrase a model reported, with its offsets in the sentence (-1 if not found)."""
    start = sentence.casefold().find(phrase.casefold())
    if start < 0:
        return Phrase(phrase, -1, -1)
    return Phrase(sentence[start : start + len(phrase)], start, start + len(phrase))


def _ambiguity(sentence: str, data: Mapping[str, Any]) -> Ambiguity:
    alternatives = data.get("alternatives")
    return Ambiguity(
        _locate(sentence, str(data.get("phrase", ""))),
        str(data.get("chosen", "")),
        tuple(str(a) for a in alternatives) if isinstance(alternatives, list) else (),
    )
