"""`bitseg.segments.expand` on its own: references resolved against a dict-backed catalog."""

from __future__ import annotations

import pytest

from bitseg.errors import InvalidArgument, NotFound
from bitseg.rules import rule_from_json
from bitseg.rules.limits import Limits
from bitseg.rules.model import AllOf, AnyOf, Condition, Not, Rule, SegmentRef
from bitseg.segments.catalog import SegmentRecord
from bitseg.segments.expand import Expander, ExpansionCache, has_references, map_references

DE = Condition("country", "eq", "DE")


def record(seg_id: str, name: str, rule: dict[str, object] | None) -> SegmentRecord:
    return SegmentRecord(
        id=seg_id, name=name, description="", type="dynamic" if rule else "static",
        rule=rule, archived=False, created_at="", updated_at="",
    )


CATALOG = {
    r.id: r
    for r in (
        record("seg_00000000000a", "A", {"field": "country", "op": "eq", "value": "DE"}),
        record("seg_00000000000b", "B", {"all": [{"segment": "seg_00000000000a"},
                                                 {"not": {"segment": "seg_00000000000l"}}]}),
        record("seg_00000000000l", "List", None),
        record("seg_00000000000c", "C", {"any": [{"segment": "seg_00000000000b"},
                                                 {"segment": "seg_00000000000a"}]}),
    )
}


def expander(catalog: dict[str, SegmentRecord] = CATALOG, limits: Limits | None = None,
             memo: dict[str, object] | None = None) -> tuple[Expander, list[str]]:
    parsed: list[str] = []

    def lookup(ref: str) -> SegmentRecord:
        for r in catalog.values():
            if ref in (r.id, r.name):
                return r
        raise NotFound(f'segment "{ref}" does not exist')

    def rule_of(r: SegmentRecord) -> Rule:
        parsed.append(r.name)
        assert r.rule is not None
        return rule_from_json(r.rule)

    return Expander(lookup, rule_of, limits or Limits(), memo), parsed  # type: ignore[arg-type]


def test_dynamic_inlined_static_kept_by_id_each_segment_parsed_once() -> None:
    exp, parsed = expander()
    got = exp.expand(AllOf((SegmentRef("C"), SegmentRef("B"))))
    b = AllOf((DE, Not(SegmentRef("seg_00000000000l"))))
    assert got == AllOf((AnyOf((b, DE)), b))
    assert sorted(parsed) == ["A", "B", "C"]


def test_rules_without_references_are_returned_as_is() -> None:
    rule = AllOf((DE, Not(DE)))
    assert not has_references(rule)
    assert expander()[0].expand(rule) is rule


def test_a_shared_memo_skips_parsing() -> None:
    memo: dict[str, object] = {}
    expander(memo=memo)[0].expand(SegmentRef("C"))
    exp, parsed = expander(memo=memo)
    assert exp.expand(SegmentRef("C")) == AnyOf((AllOf((DE, Not(SegmentRef("seg_00000000000l")))),
                                                 DE))
    assert parsed == []


def test_cycles_are_named() -> None:
    looped = dict(CATALOG)
    looped["seg_00000000000a"] = record("seg_00000000000a", "A", {"segment": "C"})
    with pytest.raises(InvalidArgument, match="segment cycle: C -> B -> A -> C"):
        expander(looped)[0].expand(SegmentRef("C"))
    with pytest.raises(InvalidArgument, match="segment cycle: A -> B -> A"):
        expander(looped)[0].expand(SegmentRef("B"), within=looped["seg_00000000000a"])


def test_ever_and_unknown() -> None:
    exp, parsed = expander()
    assert exp.expand(SegmentRef("C", ever=True)) == SegmentRef("seg_00000000000c", ever=True)
    assert parsed == []
    with pytest.raises(NotFound):
        exp.expand(SegmentRef("nope"))


def test_expansion_budget() -> None:
    with pytest.raises(InvalidArgument, match="too large once segment references are expanded"):
        # 1 + 3 x 6 + 1 nodes once expanded (C shared, counted each time) > 10 x 1
        expander(limits=Limits(max_nodes=1))[0].expand(AllOf((*[SegmentRef("C")] * 3, DE)))


def test_map_references_and_cache_generations() -> None:
    rule = AnyOf((SegmentRef("x"), Not(SegmentRef("y", ever=True))))
    upper = map_references(rule, lambda r: SegmentRef(r.segment.upper(), r.ever))
    assert upper == AnyOf((SegmentRef("X"), Not(SegmentRef("Y", ever=True))))
    cache = ExpansionCache()
    memo = cache.memo("org", 5)
    assert cache.memo("org", 5) is memo
    assert cache.memo("org", 4) is not memo and cache.memo("org", 5) is memo  # older: not kept
    assert cache.memo("org", 6) is not memo
