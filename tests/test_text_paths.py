"""Both exact-check paths of text predicates agree with plain Python.

Trigram candidates are checked one contact at a time when few, and once per distinct
value (through the value bitmaps) when many; values too long for a value key are
always checked one by one. Each path is forced here on the same data.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from bitseg.engine import leaves
from bitseg.rules import parse_text
from bitseg.service import Service, SourceFile

TITLES = ["Head of Sales", "VP Sales", "Sales Manager", "CTO", "Engineer", "wholesale buyer",
          "Ünïcode Sälès", "x" * 300 + " sales", "Sales " + "y" * 300]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Service, dict[str, str]]:
    rng = random.Random(3)
    titles = {f"c{i}": rng.choice(TITLES) for i in range(3_000)}
    data = b"\n".join(orjson.dumps({"id": c, "job_title": t}) for c, t in titles.items())
    svc = Service(Path(tmp_path_factory.mktemp("text")))
    svc.ingest("t", [SourceFile("contacts", "contacts.jsonl", "jsonl", data)])
    return svc, titles


CASES = [
    ("contains", "sales"), ("contains", "SAL"), ("starts_with", "sales"), ("ends_with", "sales"),
    ("eq", "vp sales"), ("contains", "ales m"), ("ends_with", "Y" * 5), ("contains", "sälès"),
    ("eq", ("x" * 300 + " sales")), ("starts_with", "head of"), ("contains", "nothing here"),
]


@pytest.mark.parametrize("threshold", [0, 10**9])
@pytest.mark.parametrize(("op", "needle"), CASES)
def test_text_predicates(
    org: tuple[Service, dict[str, str]], op: str, needle: str, threshold: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc, titles = org
    monkeypatch.setattr(leaves, "VALUE_LEVEL_AFTER", threshold)
    q = needle.lower()
    test = {
        "contains": lambda v: q in v, "starts_with": lambda v: v.startswith(q),
        "ends_with": lambda v: v.endswith(q), "eq": lambda v: v == q,
    }[op]
    expected = {c for c, t in titles.items() if test(t.lower())}
    rule = parse_text(f"job_title {op.replace('_', ' ')} {orjson.dumps(needle).decode()}")
    ids, _ = svc.resolve("t", rule, 0)
    assert {i for chunk in ids for i in chunk} == expected
