"""What the sentence grammar yields, item by item, for `assemble` to combine.

Every word of a sentence ends up in exactly one item: a `Clause` (a condition), a
`Location` (a country list whose field depends on the sentence's subject), a `StageNoun`
("customers", "leads": a subject or a lifecycle-stage filter, by position), a `Subject`
("contacts", "accounts"), a `Negation`, a `Connector` (and / or / but / a comma), a
`Filler` (words that carry no condition: "who", "the", "with") or an `Unknown` word, which
is reported as not understood. Spans are character offsets into the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from bitseg.rules.model import Rule

Span = tuple[int, int]


@dataclass(frozen=True)
class Clause:
    """A recognised condition; `alternatives` are other readings of the same words."""

    rule: Rule
    span: Span = (0, 0)
    alternatives: tuple[Rule, ...] = ()
    notes: tuple[str, ...] = ()
    head: bool = False  # from a head noun ("leads in France"): starts a noun phrase

    def at(self, span: Span) -> Clause:
        return replace(self, span=span)


@dataclass(frozen=True)
class Location:
    """`in Germany or France`: `country` or `company.country` depending on the subject."""

    codes: tuple[str, ...]
    span: Span = (0, 0)
    company: bool | None = None  # None: follow the subject; True/False: said explicitly
    also: tuple[Rule, ...] = ()  # other readings ("French": the language)


@dataclass(frozen=True)
class StageNoun:
    """A lifecycle-stage noun that may be the sentence's subject ("Customers who ...")."""

    stage: str
    span: Span = (0, 0)


@dataclass(frozen=True)
class Subject:
    """A head noun: contacts (people) or companies (accounts)."""

    companies: bool
    span: Span = (0, 0)


@dataclass(frozen=True)
class Negation:
    span: Span = (0, 0)


@dataclass(frozen=True)
class Connector:
    kind: Literal["and", "or", "either"]
    span: Span = (0, 0)


@dataclass(frozen=True)
class Filler:
    span: Span = (0, 0)


@dataclass(frozen=True)
class Unknown:
    span: Span = (0, 0)


Item = Clause | Location | StageNoun | Subject | Negation | Connector | Filler | Unknown


@dataclass(frozen=True)
class Compare:
    """A parsed comparison: op is eq, gt, gte, lt, lte or between (value a pair)."""

    op: str
    value: int | tuple[int, int]
    money: bool = False


@dataclass
class Notes:
    """Notes collected while parsing (unit conversions, assumed defaults)."""

    items: list[str] = field(default_factory=list)

    def add(self, note: str) -> None:
        if note not in self.items:
            self.items.append(note)
