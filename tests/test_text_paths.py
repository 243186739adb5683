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
    _check_against_python(svc, "job_title", op, needle, titles)


def _check_against_python(
    svc: Service, field: str, op: str, needle: str, values: dict[str, str]
) -> None:
    """Resolve and Count of `field op needle` give the contacts plain Python finds."""
    q = needle.lower()
    test = {
        "contains": lambda v: q in v, "starts_with": lambda v: v.startswith(q),
        "ends_with": lambda v: v.endswith(q), "eq": lambda v: v == q,
    }[op]
    expected = {c for c, v in values.items() if test(v.lower())}
    rule = parse_text(f"{field} {op.replace('_', ' ')} {orjson.dumps(needle).decode()}")
    ids, _ = svc.resolve("t", rule, 0)
    assert {i for chunk in ids for i in chunk} == expected
    assert svc.count("t", rule, 0)[0] == len(expected)


EMAILS = ["Ann@Acme.io", "ann@acme.io.evil", "bob@acme.io", "b@x.de", "a" * 300 + "@long.io",
          "ünï@cödé.de", "+49 30 1234", "x@y.z"]
EMAIL_CASES = [
    ("eq", "ann@acme.io"), ("eq", "ANN@ACME.IO"), ("eq", "b@x.de"), ("eq", "x"), ("eq", "@"),
    ("eq", "a" * 300 + "@long.io"), ("contains", "acme.io"), ("starts_with", "ann@"),
    ("ends_with", ".de"), ("eq", "nobody@acme.io"), ("contains", "@"),
]


@pytest.fixture(scope="module")
def email_org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Service, dict[str, str]]:
    rng = random.Random(5)
    emails = {f"c{i}": rng.choice(EMAILS) for i in range(500)}
    data = b"\n".join(
        orjson.dumps({"id": c, "email": e, "phone": e}) for c, e in emails.items()
    )
    svc = Service(Path(tmp_path_factory.mktemp("email")))
    svc.ingest("t", [SourceFile("contacts", "contacts.jsonl", "jsonl", data)])
    return svc, emails


@pytest.mark.parametrize("field", ["email", "phone"])
@pytest.mark.parametrize(("op", "needle"), EMAIL_CASES)
def test_unkeyed_text_fields(
    email_org: tuple[Service, dict[str, str]], field: str, op: str, needle: str
) -> None:
    """email and phone keep no bitmap per value: every predicate is a trigram search with
    an exact check, and agrees with plain Python."""
    svc, emails = email_org
    _check_against_python(svc, field, op, needle, emails)


def test_unkeyed_text_fields_have_no_value_bitmaps(
    email_org: tuple[Service, dict[str, str]],
) -> None:
    svc, _ = email_org
    store = svc._store("t")
    with store.read() as txn:
        for field in ("email", "phone"):
            prefix = f"c\x00{field}\x00".encode()
            cursor = txn.cursor(db=store.db["bm"])
            slots = set()
            if cursor.set_range(prefix):
                for key in cursor.iternext(values=False):
                    if not bytes(key).startswith(prefix):
                        break
                    slots.add(bytes(key)[len(prefix) : len(prefix) + 1])
            assert slots == {b"g", b"x"}, (field, slots)
