"""Where a rule names org data that only the store can confirm: campaign ids, by path.

Validation against the schema cannot know which campaigns exist; the service asks
`campaign_references` for every campaign id a rule names, with the path of the part
that names it, and refuses unknown ones with that path.
"""

from __future__ import annotations

from bitseg.rules.model import AllOf, AnyOf, CampaignIn, EventRule, Not, Rule


def campaign_references(rule: Rule) -> list[tuple[str, str]]:
    """(path, campaign id) for every campaign a rule names explicitly, in reading order."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Rule, str]] = [(rule, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, AllOf | AnyOf):
            key = "all" if isinstance(node, AllOf) else "any"
            for index in range(len(node.children) - 1, -1, -1):
                stack.append((node.children[index], f"{_join(path, key)}[{index}]"))
        elif isinstance(node, Not):
            stack.append((node.child, _join(path, "not")))
        elif isinstance(node, EventRule):
            selector = node.campaign
            if isinstance(selector, str):
                found.append((_join(path, "campaign"), selector))
            elif isinstance(selector, CampaignIn):
                for index, cid in enumerate(selector.ids):
                    found.append((f"{_join(path, 'campaign.in')}[{index}]", cid))
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
