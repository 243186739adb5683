"""Rule tree -> canonical text (`to_text`); `parser.parse_text` reads it back to an equal tree.

Canonical text (grammar in `parser.py`):
- keywords lower-case, single spaces, operators spelled as in `vocab.OP_TEXT` (`=`, `!=`,
  `not in`, `starts with`, ...), strings as JSON strings, lists as `("a", "b")`;
- an AllOf / AnyOf of 2+ children prints `a and b` / `a or b`, parenthesised when it is a
  child of AllOf, AnyOf or Not, so every group survives the round trip; with 0 or 1
  children it prints `all()`, `all(x)`, `any()`, `any(x)`; `Not` prints `not x`;
- a field name is bare when it is a word and not reserved, else a quoted string;
- `has deals where (...) count ...`, `event "t" campaign ... within ... count ...` in
  that clause order; a count with one key prints `>= 2`, with more `(>= 2, < 5)` in
  the key order eq, gt, gte, lt, lte; `campaign last 3` omits `match any`.

The printer expands nodes into text pieces on an explicit stack (linear time, no
recursion). A hand-built tree the text form cannot say (an unknown operator, a missing
or non-scalar value) is an InvalidArgument.
"""

from __future__ import annotations

from bitseg.errors import InvalidArgument
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
    SegmentRef,
    Value,
    Window,
    WindowBetween,
    WindowLast,
)
from bitseg.rules.tokens import quote, quote_field
from bitseg.rules.vocab import CMP_KEYS, CMP_TEXT, OP_TEXT, VALUE_FREE_OPS, is_int, show

_Piece = str | Rule


def to_text(rule: Rule) -> str:
    """The canonical text of a rule.

    >>> to_text(AllOf((Condition("country", "eq", "DE"), Not(Condition("phone", "exists")))))
    'country = "DE" and not phone exists'
    """
    out: list[str] = []
    stack: list[_Piece] = [rule]
    while stack:
        piece = stack.pop()
        if isinstance(piece, str):
            out.append(piece)
        else:
            stack.extend(reversed(_expand(piece)))
    return "".join(out)


def _expand(rule: Rule) -> list[_Piece]:
    if isinstance(rule, AllOf | AnyOf):
        return _group(rule)
    if isinstance(rule, Not):
        return ["not ", *_child(rule.child)]
    if isinstance(rule, Condition):
        return [condition_text(rule)]
    if isinstance(rule, HasDeals):
        return _deals(rule)
    if isinstance(rule, EventRule):
        return [_event(rule)]
    if isinstance(rule, SegmentRef):
        return [f"{'ever ' if rule.ever else ''}in segment {quote(rule.segment)}"]
    raise InvalidArgument(f"cannot print {show(rule)}: not a rule node")


def _group(rule: AllOf | AnyOf) -> list[_Piece]:
    name, joiner = ("all", " and ") if isinstance(rule, AllOf) else ("any", " or ")
    if len(rule.children) < 2:
        return [f"{name}(", *rule.children, ")"]
    pieces: list[_Piece] = []
    for i, child in enumerate(rule.children):
        if i:
            pieces.append(joiner)
        pieces.extend(_child(child))
    return pieces


def _child(rule: Rule) -> list[_Piece]:
    """A sub-rule of AllOf / AnyOf / Not: groups of 2+ children in parentheses."""
    if isinstance(rule, AllOf | AnyOf) and len(rule.children) >= 2:
        return ["(", rule, ")"]
    return [rule]


def condition_text(rule: Condition) -> str:
    """`field op value`, e.g. `lifecycle_stage in ("MQL", "SQL")`."""
    if rule.op not in OP_TEXT:
        raise InvalidArgument(f"cannot print operator {show(rule.op)}")
    head = f"{quote_field(rule.field)} {OP_TEXT[rule.op]}"
    if rule.op in VALUE_FREE_OPS:
        if rule.value is not None:
            raise InvalidArgument(f"cannot print {rule.op} with a value: {show(rule.value)}")
        return head
    return f"{head} {value_text(rule.value)}"


def value_text(value: Value) -> str:
    """A condition value: a JSON string, an integer, true / false or a `(...)` list."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_scalar_text(v) for v in value) + ")"
    return _scalar_text(value)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if is_int(value):
        return str(value)
    raise InvalidArgument(f"cannot print value {show(value)}")


def cmp_text(cmp: Cmp) -> str:
    """`>= 2` for one key, `(>= 2, < 5)` for several."""
    keys = [(k, v) for k in CMP_KEYS if (v := getattr(cmp, k)) is not None]
    parts = [f"{CMP_TEXT[k]} {_scalar_text(v)}" for k, v in keys]
    if not parts:
        raise InvalidArgument("cannot print a count with no comparison")
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def _deals(rule: HasDeals) -> list[_Piece]:
    pieces: list[_Piece] = ["has deals"]
    if rule.where is not None:
        pieces += [" where (", rule.where, ")"]
    if rule.count is not None:
        pieces.append(f" count {cmp_text(rule.count)}")
    return pieces


def _event(rule: EventRule) -> str:
    text = f"event {quote(rule.type)}"
    if rule.campaign is not None:
        text += f" campaign {_campaign(rule.campaign)}"
    if rule.within is not None:
        text += f" within {_window(rule.within)}"
    if rule.count is not None:
        text += f" count {cmp_text(rule.count)}"
    return text


def _campaign(campaign: CampaignSelector) -> str:
    if isinstance(campaign, CampaignIn):
        return "in " + value_text(campaign.ids)
    if isinstance(campaign, CampaignLast):
        suffix = " match all" if campaign.match == "all" else ""
        return f"last {_scalar_text(campaign.n)}{suffix}"
    return quote(campaign)


def _window(window: Window) -> str:
    if isinstance(window, WindowLast):
        return f"last {quote(window.duration)}"
    if isinstance(window, WindowBetween):
        return f"between ({quote(window.start)}, {quote(window.end)})"
    return f"since {quote(window.time)}"
