"""What a translation returns: the rule, its count, and everything the user must review.

`Translation.rule` is None when nothing in the sentence was understood. `not_understood`
names every phrase that did not become part of the rule (with its character offsets in
the sentence); `ambiguities` give, for a phrase that could mean several things, the
reading chosen and the others considered (each as rule text); `notes` explain
assumptions (units, defaults, a model's failure and the fallback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bitseg.rules.codec import rule_to_json
from bitseg.rules.model import Rule
from bitseg.rules.printer import to_text


@dataclass(frozen=True)
class Phrase:
    """Words of the sentence: `text` = sentence[start:end]."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Ambiguity:
    """A phrase with several readings: the one chosen and the alternatives (rule text)."""

    phrase: Phrase
    chosen: str
    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class Translation:
    sentence: str
    rule: Rule | None
    not_understood: tuple[Phrase, ...] = ()
    ambiguities: tuple[Ambiguity, ...] = ()
    notes: tuple[str, ...] = ()
    translator: str = "offline"  # "offline", or "model" when an external model's rule is used
    count: int | None = None  # None when there is no rule, or it could not be counted
    seconds: float = 0.0
    rejected: tuple[str, ...] = field(default=())  # validation problems of dropped parts

    @property
    def text(self) -> str:
        return to_text(self.rule) if self.rule is not None else ""

    @property
    def json(self) -> Any:
        return rule_to_json(self.rule) if self.rule is not None else None
