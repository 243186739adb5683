"""The rule tree: immutable, typed nodes for every rule shape of SPEC.md.

A rule is one of `AllOf`, `AnyOf`, `Not`, `Condition`, `HasDeals`, `EventRule`,
`SegmentRef`. Lists inside values are tuples so every node is hashable and can be
a cache key. The JSON codec, the text parser/printer, validation and normalisation
all work on these nodes; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

Scalar: TypeAlias = str | int | bool
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class AllOf:
    """AND of the children; with no children, every live contact."""

    children: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """OR of the children; with no children, nobody."""

    children: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Complement of the child within the live contacts."""

    child: Rule


@dataclass(frozen=True, slots=True)
class Condition:
    """`{"field": F, "op": OP, "value": V}`; `value` is None for exists / not_exists."""

    field: str
    op: str
    value: Value = None


@dataclass(frozen=True, slots=True)
class Cmp:
    """A count comparison; one key, or two keys for a range (e.g. gte and lt)."""

    gte: int | None = None
    gt: int | None = None
    lte: int | None = None
    lt: int | None = None
    eq: int | None = None


@dataclass(frozen=True, slots=True)
class HasDeals:
    """`{"has": "deals", "where": R?, "count": C?}`: where applies to one and the same deal."""

    where: Rule | None = None
    count: Cmp | None = None


@dataclass(frozen=True, slots=True)
class WindowLast:
    """`{"last": "30d"}`: the whole UTC days ending on now's day, inclusive."""

    duration: str


@dataclass(frozen=True, slots=True)
class WindowSince:
    """`{"since": TIME}`."""

    time: str


@dataclass(frozen=True, slots=True)
class WindowBetween:
    """`{"between": [TIME, TIME]}`, inclusive."""

    start: str
    end: str


Window: TypeAlias = WindowLast | WindowSince | WindowBetween


@dataclass(frozen=True, slots=True)
class CampaignIn:
    """`{"in": ["id", ...]}`."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CampaignLast:
    """`{"last": N, "match": "all" | "any"}`: the N latest campaigns sent at or before now."""

    n: int
    match: Literal["any", "all"] = "any"


CampaignSelector: TypeAlias = str | CampaignIn | CampaignLast


@dataclass(frozen=True, slots=True)
class EventRule:
    """`{"event": TYPE, "campaign": C?, "within": W?, "count": Cmp?}`."""

    type: str
    campaign: CampaignSelector | None = None
    within: Window | None = None
    count: Cmp | None = None


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """`{"segment": S}` or `{"segment": S, "ever": true}`; S is a segment id or name."""

    segment: str
    ever: bool = False


Rule: TypeAlias = AllOf | AnyOf | Not | Condition | HasDeals | EventRule | SegmentRef
