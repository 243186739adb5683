"""The per-org cache budget (`BITSEG_CACHE_MB`): parsed strictly, and honoured by the
bitmap cache and the leaf-answer cache while answers stay exact."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bitseg.errors import InvalidArgument
from bitseg.rules.parser import parse_text
from bitseg.service import Service, SourceFile
from bitseg.store.orgstore import CACHE_ENV, OrgStore, cache_bytes_from_env

NOW = 1_795_176_000


def test_budget_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_bytes_from_env() == 1024 << 20
    monkeypatch.setenv(CACHE_ENV, "3")
    store = OrgStore(tmp_path / "o")
    try:
        assert store.cache.max_bytes == 3 << 20
        assert store.leaf_results.max_bytes == 1 << 20
    finally:
        store.close()
    for bad in ("lots", "0", "-5", "1.5"):
        monkeypatch.setenv(CACHE_ENV, bad)
        with pytest.raises(InvalidArgument, match=CACHE_ENV):
            cache_bytes_from_env()


def test_tiny_budget_stays_bounded_and_exact(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_ENV, "1")
    contacts = [
        {"id": f"c{i}", "lead_score": i % 101, "country": ["DE", "US", "FR"][i % 3],
         "tags": [f"t{i % 50}", f"u{i % 7}"]}
        for i in range(60_000)
    ]
    data = b"\n".join(orjson.dumps(c) for c in contacts) + b"\n"
    svc = Service(tmp_path)
    try:
        svc.ingest("acme", [SourceFile("contacts", "c.jsonl", "jsonl", data)], now=NOW)
        store = svc._store("acme")
        for round_ in range(3):
            for k in range(50):
                rule = parse_text(f'tags has "t{k}" or lead_score between ({k}, {k + 40})')
                expected = sum(
                    1 for c in contacts if f"t{k}" in c["tags"] or k <= c["lead_score"] <= k + 40
                )
                assert svc.count("acme", rule, NOW)[0] == expected, (round_, k)
                assert store.cache.used <= store.cache.max_bytes
                assert store.leaf_results.used <= store.leaf_results.max_bytes
        assert store.cache.misses > 0
    finally:
        svc.close()
