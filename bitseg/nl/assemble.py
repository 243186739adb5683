"""Items -> one rule, plus what was not understood and what was ambiguous.

The steps, in order:
1. the subject: the first head noun before any connector or relative word ("enterprise
   accounts ...", "Customers who ..."). "customers", "leads" and "subscribers" there
   mean contacts (seed 001: "Leads in the healthcare industry with no deal" has no stage
   condition); the stage condition is offered as an alternative. Elsewhere a stage noun
   is a lifecycle-stage condition ("contacts who are customers", "MQLs");
2. locations: "in Germany" is `company.country` after a company noun ("accounts",
   "companies"), else the contact's `country`; the other field is the alternative;
3. negations apply to the next condition ("not", "no deal", "didn't open"); a negation
   followed by nothing it can apply to is reported with the words after it;
4. grouping: conditions are ANDed; "or" joins its neighbours. When one side of the
   "or"s is a single condition and the other carries more ("X or Y in France"), the
   extra conditions apply to the whole group: (X or Y) and France; the reading
   X or (Y and France) is reported as the alternative. With several conditions on two
   or more sides ("A and B or C and D") "and" binds tighter;
5. unknown words (and the fillers between them) become "not understood" phrases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bitseg.nl.build import all_of, any_of, negate, values_condition
from bitseg.nl.lexicon import GENERIC_STAGES, Lexicon
from bitseg.nl.phrases import key
from bitseg.nl.pieces import (
    Clause,
    Connector,
    Filler,
    Item,
    Location,
    Negation,
    Span,
    StageNoun,
    Subject,
    Unknown,
)
from bitseg.nl.result import Ambiguity, Phrase
from bitseg.rules.model import AllOf, Condition, Rule
from bitseg.rules.printer import to_text

_GENERIC = "any contact (the subject of the sentence, no condition)"


@dataclass
class Assembly:
    rule: Rule | None
    not_understood: list[Phrase] = field(default_factory=list)
    ambiguities: list[Ambiguity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


Check = Callable[[Rule], list[str]]


def assemble(
    sentence: str, items: Sequence[Item], lex: Lexicon, check: Check | None = None
) -> Assembly:
    """The rule of a parsed sentence; `check` lists a clause's problems (it is dropped and
    its words reported as not understood, e.g. "in segment Foo" with no such segment)."""
    items = [replace(i, span=_trim(sentence, i.span)) for i in items]
    out = Assembly(rule=None)
    subject_at = _subject_index(items)
    items = _resolve_nouns(sentence, items, subject_at, lex, out)
    if check is not None:
        items = _checked(sentence, items, check, out)
    items = _apply_negations(items)
    clauses = [i for i in items if isinstance(i, Clause | Connector)]
    for clause in clauses:
        if isinstance(clause, Clause):
            _clause_notes(sentence, clause, lex, out)
    out.rule = _group(sentence, clauses, out)
    out.not_understood = _unknown_phrases(sentence, items)
    if out.rule is None and not out.not_understood:
        out.rule = AllOf(())
    return out


def _trim(sentence: str, span: Span) -> Span:
    start, end = span
    while start < end and sentence[start].isspace():
        start += 1
    while end > start and sentence[end - 1].isspace():
        end -= 1
    return start, end


def _phrase(sentence: str, span: Span) -> Phrase:
    return Phrase(sentence[span[0] : span[1]], span[0], span[1])


# ------------------------------------------------------------------------- subject, nouns
def _subject_index(items: Sequence[Item]) -> int | None:
    for index, it in enumerate(items):
        if isinstance(it, StageNoun) and _parallel(items, index):
            return None  # "customers in Germany or leads in France": both are conditions
        if isinstance(it, Subject | StageNoun):
            return index
        if isinstance(it, Connector | Negation | Unknown):
            return None
        if isinstance(it, Filler):
            continue
    return None


def _parallel(items: Sequence[Item], index: int) -> bool:
    """Whether a later noun phrase is joined to this one by "or"."""
    after_or = False
    for it in items[index + 1 :]:
        if isinstance(it, Connector):
            after_or = after_or or it.kind == "or"
        elif isinstance(it, StageNoun | Subject) and after_or:
            return True
        elif not isinstance(it, Filler):
            after_or = False if not isinstance(it, Negation) else after_or
    return False


def _resolve_nouns(
    sentence: str, items: list[Item], subject_at: int | None, lex: Lexicon, out: Assembly
) -> list[Item]:
    companies = False
    others = sum(isinstance(i, Clause | Location | StageNoun) for i in items)
    result: list[Item] = []
    for index, it in enumerate(items):
        if isinstance(it, Subject):
            companies = it.companies
            result.append(Filler(it.span))
        elif isinstance(it, StageNoun):
            condition = Condition("lifecycle_stage", "eq", it.stage)
            generic = index == subject_at and it.stage in GENERIC_STAGES and others > 1
            if generic:
                out.ambiguities.append(Ambiguity(_phrase(sentence, it.span), _GENERIC,
                                                 (to_text(condition),)))  # fmt: skip
                result.append(Filler(it.span))
            else:
                result.append(Clause(condition, it.span, head=True))
        elif isinstance(it, Location):
            result.append(_location(it, companies))
        else:
            result.append(it)
    return result


def _location(loc: Location, companies: bool) -> Clause:
    on_company = loc.company if loc.company is not None else companies
    chosen = "company.country" if on_company else "country"
    rule = values_condition(chosen, list(loc.codes))
    if loc.company is not None:
        return Clause(rule, loc.span, alternatives=loc.also)
    other = values_condition("country" if on_company else "company.country", list(loc.codes))
    return Clause(rule, loc.span, alternatives=(other, *loc.also))


def _checked(sentence: str, items: list[Item], check: Check, out: Assembly) -> list[Item]:
    result: list[Item] = []
    for it in items:
        found = check(it.rule) if isinstance(it, Clause) else []
        if found:
            out.rejected.append(f'"{sentence[it.span[0]:it.span[1]]}": {found[0]}')
            result.append(Unknown(it.span))
        else:
            result.append(it)
    return result


# ------------------------------------------------------------------------- negation
def _apply_negations(items: list[Item]) -> list[Item]:
    result: list[Item] = []
    pending: list[Negation] = []
    for it in items:
        if isinstance(it, Negation):
            pending.append(it)
        elif isinstance(it, Filler):
            result.append(it)
        elif isinstance(it, Clause) and pending:
            if len(pending) % 2:
                it = replace(it, rule=negate(it.rule),
                             alternatives=tuple(negate(a) for a in it.alternatives))
            start = pending[0].span[0]
            result.append(replace(it, span=(start, it.span[1])))
            pending = []
        else:
            result.extend(Unknown(n.span) for n in pending)  # nothing to negate
            pending = []
            result.append(it)
    result.extend(Unknown(n.span) for n in pending)
    return result


# ------------------------------------------------------------------------- clauses
def _clause_notes(sentence: str, clause: Clause, lex: Lexicon, out: Assembly) -> None:
    for note in clause.notes:
        if note not in out.notes:
            out.notes.append(note)
    alternatives = list(clause.alternatives)
    words = sentence[clause.span[0] : clause.span[1]]
    for reading in lex.bare_meanings(words):
        if reading != clause.rule and reading not in alternatives:
            alternatives.append(reading)
    if alternatives:
        texts = tuple(dict.fromkeys(to_text(a) for a in alternatives))
        out.ambiguities.append(Ambiguity(Phrase(words, *clause.span), to_text(clause.rule),
                                         texts))  # fmt: skip


def _group(sentence: str, parts: Sequence[Clause | Connector], out: Assembly) -> Rule | None:
    segments: list[list[Clause]] = [[]]
    for part in parts:
        if isinstance(part, Connector):
            if part.kind == "or" and segments[-1]:
                segments.append([])
        else:
            segments[-1].append(part)
    segments = [s for s in segments if s]
    if not segments:
        return None
    if len(segments) == 1:
        return all_of(c.rule for c in segments[0])
    plain = any_of(all_of(c.rule for c in seg) for seg in segments)
    multi = [i for i, seg in enumerate(segments) if len(seg) > 1]
    if not multi or all(seg[0].head for seg in segments):
        return plain  # "customers in Germany or leads in France": noun phrases
    if len(multi) > 1 or multi[0] not in (0, len(segments) - 1):
        return plain
    if multi[0] == 0:
        rest, group = segments[0][:-1], [segments[0][-1]] + [s[0] for s in segments[1:]]
    else:
        group, rest = [s[0] for s in segments[:-1]] + [segments[-1][0]], segments[-1][1:]
    if multi[0] == 0:
        chosen = all_of([*(c.rule for c in rest), any_of(c.rule for c in group)])
    else:
        chosen = all_of([any_of(c.rule for c in group), *(c.rule for c in rest)])
    first, last = segments[0][0].span[0], segments[-1][-1].span[1]
    out.ambiguities.append(Ambiguity(_phrase(sentence, (first, last)), to_text(chosen),
                                     (to_text(plain),)))  # fmt: skip
    return chosen


# ------------------------------------------------------------------------- not understood
def _unknown_phrases(sentence: str, items: Sequence[Item]) -> list[Phrase]:
    """Runs of unknown words (fillers between them included), in sentence order."""
    runs: list[Span] = []
    run: Span | None = None
    for it in items:
        if isinstance(it, Unknown):
            run = (run[0], it.span[1]) if run is not None else it.span
        elif not isinstance(it, Filler) and run is not None:
            runs.append(run)
            run = None
    if run is not None:
        runs.append(run)
    return [_phrase(sentence, span) for span in runs
            if key(sentence[span[0] : span[1]].strip(".,;:!?()\"'"))]  # fmt: skip
