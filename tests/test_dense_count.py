"""Counting ANDs over plain words (bitseg.engine.dense) and the executor's step order.

`words_of` must decode every container kind (array, bitset, run) of any shard exactly,
`count_and` must equal set algebra, the `DenseWords` cache must hand back words only
for the very bitmap object they were made from, and the executor's AND (dense words,
or roaring steps in its cheap order, in place on a private copy) must count and list
exactly what the reference evaluator finds, including with the stored and cached
bitmaps left untouched.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap, FrozenBitMap

import bitseg.engine.executor as executor_module
from bitseg.engine.dense import WORDS, DenseWords, count_and, words_of
from bitseg.rules.model import AllOf, Condition, Not, Rule
from bitseg.service import Service, SourceFile
from bitseg.store.keys import SHARD_WIDTH

try:
    from tests.reference import reference_members
    from tests.strategies import CUSTOM_SCHEMA, NOW, ORG_SCHEMA, Org, orgs, rules, to_jsonl
    from tests.test_engine_vs_reference import initial_files
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from reference import reference_members
    from strategies import CUSTOM_SCHEMA, NOW, ORG_SCHEMA, Org, orgs, rules, to_jsonl
    from test_engine_vs_reference import initial_files

PROPERTY = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def bitmaps(draw: st.DrawFn) -> FrozenBitMap:
    """Members spread over two shards, with sparse, dense and run-shaped containers."""
    members: set[int] = set()
    for _ in range(draw(st.integers(0, 6))):
        shard = draw(st.integers(0, 1))
        block = draw(st.integers(0, 15))
        base = shard * SHARD_WIDTH + block * 65_536
        shape = draw(st.sampled_from(["sparse", "dense", "runs", "full"]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        if shape == "sparse":
            offsets = rng.choice(65_536, draw(st.integers(1, 4_096)), replace=False)
        elif shape == "dense":
            offsets = rng.choice(65_536, draw(st.integers(4_097, 60_000)), replace=False)
        elif shape == "runs":
            starts = rng.choice(65_000, draw(st.integers(1, 40)), replace=False)
            offsets = np.unique(np.concatenate([np.arange(s, s + 300) for s in starts]))
        else:
            offsets = np.arange(65_536)
        members.update((base + offsets.astype(np.int64)).tolist())
    bitmap = BitMap(members)
    if draw(st.booleans()):
        bitmap.run_optimize()
    return FrozenBitMap(bitmap)


def members_of(words: np.ndarray, shard: int) -> set[int]:
    bits = np.unpackbits(words.view(np.uint8), bitorder="little")
    return set((np.flatnonzero(bits) + shard * SHARD_WIDTH).tolist())


@PROPERTY
@given(bitmap=bitmaps(), shard=st.integers(0, 2))
def test_words_hold_exactly_the_shards_members(bitmap: FrozenBitMap, shard: int) -> None:
    words = words_of(bitmap, shard)
    assert words.shape == (WORDS,) and words.dtype == np.uint64
    lo, hi = shard * SHARD_WIDTH, (shard + 1) * SHARD_WIDTH
    assert members_of(words, shard) == {v for v in bitmap if lo <= v < hi}


@PROPERTY
@given(
    positives=st.lists(bitmaps(), min_size=1, max_size=4),
    negatives=st.lists(bitmaps(), max_size=3),
)
def test_count_and_is_set_algebra(
    positives: list[FrozenBitMap], negatives: list[FrozenBitMap]
) -> None:
    for shard in (0, 1):
        lo = shard * SHARD_WIDTH
        expected = np.ones(SHARD_WIDTH, dtype=bool)  # plain membership flags of the shard
        for bitmap, keep in [(p, True) for p in positives] + [(n, False) for n in negatives]:
            flags = np.zeros(SHARD_WIDTH, dtype=bool)
            values = np.array(list(bitmap), dtype=np.int64)
            flags[values[(values >= lo) & (values < lo + SHARD_WIDTH)] - lo] = True
            expected &= flags if keep else ~flags
        got = count_and(
            [words_of(p, shard) for p in positives], [words_of(n, shard) for n in negatives]
        )
        assert got == int(expected.sum())


def test_words_are_kept_for_the_same_immutable_bitmap_only() -> None:
    cache = DenseWords(max_bytes=2 * WORDS * 8)  # room for two entries
    a, b, c = (FrozenBitMap(range(k, 5_000, 3)) for k in range(3))
    first = cache.get(a, 0)
    assert cache.get(a, 0) is first  # kept
    assert cache.get(FrozenBitMap(a), 0) is not first  # an equal but other object
    cache.get(b, 0)
    cache.get(c, 0)  # a is now the oldest of three: evicted
    assert cache.get(a, 0) is not first
    mutable = BitMap([1, 2, 3])
    before = cache.get(mutable, 0)
    mutable.add(4)
    after = cache.get(mutable, 0)  # never kept: it may have changed
    assert members_of(before, 0) == {1, 2, 3} and members_of(after, 0) == {1, 2, 3, 4}


def and_rules(draw: st.DrawFn, count: int) -> Rule:
    parts: list[Rule] = []
    for _ in range(count):
        part = draw(rules(max_leaves=3))
        parts.append(Not(part) if draw(st.booleans()) else part)
    return AllOf(tuple(parts))


@settings(
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(org=orgs(), data=st.data())
def test_long_ands_match_the_reference(org: Org, data: st.DataObject) -> None:
    """ANDs of 4-8 parts: counted (dense words or ordered steps), listed (ordered steps)."""
    with tempfile.TemporaryDirectory(prefix="bitseg-test-") as tmp:
        svc = Service(Path(tmp))
        try:
            svc.ingest("acme", files=initial_files(org), schema=CUSTOM_SCHEMA)
            for _ in range(3):
                rule = and_rules(data.draw, data.draw(st.integers(4, 8)))
                expected = reference_members(rule, org.contacts, org.companies, ORG_SCHEMA, NOW)
                for _repeat in range(2):  # the second time from cached leaves and words
                    assert svc.count("acme", rule, NOW)[0] == len(expected), rule
                chunks, _ = svc.resolve("acme", rule, NOW)
                assert {cid for chunk in chunks for cid in chunk} == expected, rule
        finally:
            svc.close()


def test_dense_words_count_a_long_and_and_leave_stored_bitmaps_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over an org where every operand is dense, the count takes the words path and
    agrees with a plain Python count; a repeat (cached leaves and words) agrees again,
    and the member listing (roaring steps in place) leaves stored bitmaps as they were."""
    calls: list[int] = []
    real = executor_module.count_and

    def spy(positives: list[np.ndarray], negatives: list[np.ndarray]) -> int:
        calls.append(len(positives) + len(negatives))
        return real(positives, negatives)

    monkeypatch.setattr(executor_module, "count_and", spy)
    records = [
        {
            "id": f"c{i}",
            "country": "DE" if i % 3 else "FR",
            "lead_score": i % 100,
            "unsubscribed": i % 7 == 0,
            "tags": ["a"] if i % 2 else ["b"],
            "lifecycle_stage": "lead" if i % 5 else "customer",
        }
        for i in range(6_000)  # over 2,048 candidates: ranges come from the index
    ]
    rule = AllOf((
        Condition("country", "eq", "DE"),
        Condition("lead_score", "gte", 10),
        Condition("lifecycle_stage", "eq", "lead"),
        Not(Condition("unsubscribed", "eq", True)),
        Not(Condition("tags", "has", "a")),
    ))
    expected = sum(
        1 for r in records
        if r["country"] == "DE" and r["lead_score"] >= 10 and r["lifecycle_stage"] == "lead"
        and not r["unsubscribed"] and "a" not in r["tags"]
    )
    svc = Service(tmp_path)
    try:
        svc.ingest("acme", files=[SourceFile("contacts", "c.jsonl", "jsonl", to_jsonl(records))])
        everyone = AllOf(())
        total = svc.count("acme", everyone, NOW)[0]
        assert svc.count("acme", rule, NOW)[0] == expected
        assert calls == [5]
        assert svc.count("acme", rule, NOW)[0] == expected
        assert len(calls) == 2
        chunks, _ = svc.resolve("acme", rule, NOW)
        assert sum(map(len, chunks)) == expected
        assert svc.count("acme", rule, NOW)[0] == expected  # nothing stored was changed
        assert svc.count("acme", everyone, NOW)[0] == total == len(records)
    finally:
        svc.close()


@given(
    positive_sizes=st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
    negative_sizes=st.lists(st.integers(1, 10_000), max_size=4),
)
def test_cheap_order_starts_with_a_positive_and_keeps_every_operand(
    positive_sizes: list[int], negative_sizes: list[int]
) -> None:
    positives = [FrozenBitMap(range(k)) for k in positive_sizes]
    negatives = [FrozenBitMap(range(1, k + 1)) for k in negative_sizes]
    universe = max(positive_sizes)
    steps = executor_module._cheap_order(positives, negatives, min(positive_sizes), universe)
    assert steps[0][0] is True
    assert sorted(id(b) for keep, b in steps if keep) == sorted(map(id, positives))
    assert sorted(id(b) for keep, b in steps if not keep) == sorted(map(id, negatives))
