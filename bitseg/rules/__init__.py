"""The rule language: tree, JSON and text forms, validation against a schema, normalisation.

Stages, one module each: `model` (the tree), `codec` (JSON), `tokens` + `parser` (text
-> tree), `printer` (tree -> text), `validate` (against an OrgSchema), `normalise` (the
positive form the engine evaluates); `walk` holds the stack-based traversal and the
depth / size limits, `vocab` the operator vocabulary. Nothing here does I/O.
"""

from __future__ import annotations

from bitseg.rules.codec import rule_from_json, rule_from_json_text, rule_to_json, rule_to_json_text
from bitseg.rules.limits import Limits
from bitseg.rules.model import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    CampaignSelector,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    Scalar,
    SegmentRef,
    Value,
    Window,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.rules.normalise import normalise
from bitseg.rules.parser import parse_text
from bitseg.rules.printer import to_text
from bitseg.rules.tokens import ParseError
from bitseg.rules.validate import collect_errors, validate
from bitseg.rules.walk import DEFAULT_LIMITS, check_limits

__all__ = [
    "DEFAULT_LIMITS",
    "AllOf",
    "AnyOf",
    "CampaignIn",
    "CampaignLast",
    "CampaignSelector",
    "Cmp",
    "Condition",
    "EventRule",
    "HasDeals",
    "Limits",
    "Not",
    "ParseError",
    "Rule",
    "Scalar",
    "SegmentRef",
    "Value",
    "Window",
    "WindowBetween",
    "WindowLast",
    "WindowSince",
    "check_limits",
    "collect_errors",
    "normalise",
    "parse_text",
    "rule_from_json",
    "rule_from_json_text",
    "rule_to_json",
    "rule_to_json_text",
    "to_text",
    "validate",
]
