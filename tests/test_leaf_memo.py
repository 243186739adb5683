"""Leaf answers kept by plan-node identity: found again for a plan that comes back from
the plan cache (a keyed query), and not kept at all for a plan made for one query, whose
entries nothing could find again (they would push the useful ones out of the cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

import bitseg.engine.executor as executor_module
from bitseg.rules.model import AllOf, Condition, Not
from bitseg.service import Service, SourceFile

try:
    from tests.strategies import NOW, to_jsonl
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from strategies import NOW, to_jsonl

RULE = AllOf((
    Condition("country", "eq", "DE"),
    Condition("lifecycle_stage", "eq", "lead"),
    Not(Condition("tags", "has", "a")),
))


def test_leaves_are_kept_by_identity_for_cached_plans_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    real = executor_module.evaluate_leaf

    def spy(*args: object) -> object:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(executor_module, "evaluate_leaf", spy)
    records = [
        {"id": f"c{i}", "country": "DE" if i % 3 else "FR", "tags": ["a"] if i % 2 else ["b"],
         "lifecycle_stage": "lead" if i % 5 else "customer"}
        for i in range(500)
    ]
    expected = sum(
        1 for r in records
        if r["country"] == "DE" and r["lifecycle_stage"] == "lead" and "a" not in r["tags"]
    )
    svc = Service(tmp_path)
    try:
        svc.ingest("acme", files=[SourceFile("contacts", "c.jsonl", "jsonl", to_jsonl(records))])
        store = svc._store("acme")
        for _ in range(5):  # a fresh plan every time: evaluated, nothing kept by identity
            assert svc.count("acme", RULE, NOW)[0] == expected
        assert len(calls) == 15
        assert not store.leaf_results._entries
        calls.clear()
        for _ in range(5):  # one plan, from the plan cache: its leaves evaluated once
            assert svc.count("acme", RULE, NOW, key="the rule")[0] == expected
        assert len(calls) == 3
        assert len(store.leaf_results._entries) == 3
    finally:
        svc.close()
