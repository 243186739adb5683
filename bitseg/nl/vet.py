"""Checking translated rules against the org, the same way for every translator.

`problems(rule, ...)` lists why a rule (one clause, or a whole rule) cannot be used: the
schema validation of `bitseg.rules.validate` (unknown field, wrong operator, bad value,
limits), campaign ids the org does not have, and segments it does not have.
`prune(rule, ...)` keeps the valid parts of a rule (an external model's output) and
names each part it drops with its problem.
"""

from __future__ import annotations

from bitseg.errors import InvalidArgument
from bitseg.nl.vocabulary import Vocabulary
from bitseg.rules import check_limits, collect_errors
from bitseg.rules.codec import rule_to_json_text
from bitseg.rules.limits import Limits
from bitseg.rules.model import AllOf, AnyOf, Not, Rule, SegmentRef
from bitseg.rules.printer import to_text
from bitseg.rules.references import campaign_references
from bitseg.schema import OrgSchema


def problems(rule: Rule, schema: OrgSchema, vocab: Vocabulary, limits: Limits) -> list[str]:
    """Every reason `rule` cannot be used for this org ([] when it can)."""
    found = collect_errors(rule, schema, limits)
    if found:
        return found
    for path, cid in campaign_references(rule):
        if not vocab.has_campaign(cid):
            found.append(f'{path or "campaign"}: unknown campaign "{cid}"')
    stack = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, AllOf | AnyOf):
            stack.extend(node.children)
        elif isinstance(node, Not):
            stack.append(node.child)
        elif isinstance(node, SegmentRef) and not vocab.has_segment(node.segment):
            found.append(f'segment: unknown segment "{node.segment}"')
    return found


def prune(
    rule: Rule, schema: OrgSchema, vocab: Vocabulary, limits: Limits
) -> tuple[Rule | None, list[str]]:
    """(`rule` without its invalid parts, or None if nothing valid is left; one message per
    dropped part, "<part>: <problem>")."""
    try:
        check_limits(rule, limits)
    except InvalidArgument as e:
        return None, [f"rule: {e.message}"]
    dropped: list[str] = []
    return _prune(rule, schema, vocab, limits, dropped), dropped


def _prune(
    rule: Rule, schema: OrgSchema, vocab: Vocabulary, limits: Limits, dropped: list[str]
) -> Rule | None:
    if isinstance(rule, AllOf | AnyOf):
        kept = [k for c in rule.children
                if (k := _prune(c, schema, vocab, limits, dropped)) is not None]  # fmt: skip
        if rule.children and not kept:
            return None
        return kept[0] if len(kept) == 1 else type(rule)(tuple(kept))
    if isinstance(rule, Not):
        child = _prune(rule.child, schema, vocab, limits, dropped)
        return Not(child) if child is not None else None
    found = problems(rule, schema, vocab, limits)
    if found:
        dropped.append(f"{describe(rule)}: {found[0]}")
        return None
    return rule


def describe(rule: Rule) -> str:
    """A rule part as text, or as JSON when the text form cannot say it."""
    try:
        return to_text(rule)
    except InvalidArgument:
        try:
            return rule_to_json_text(rule)
        except InvalidArgument:
            return repr(rule)
