"""The range index of int and time fields against brute force, over wide value ranges.

Values are drawn around every kind of boundary (zero, the exact-bucket limit 2**10,
powers of two, int64 extremes, coarse time buckets of 2**22 seconds, dates before 1970
and far in the future); batches then move values up and down, remove them and delete
records. After every batch each range answer must equal a filter over the model, and
the stored cumulative bitmaps must be exactly {columns whose value is in a coarse bucket
>= theirs}, with a stored bitmap for every bucket that holds a value.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from bitseg.rules.model import Condition
from bitseg.schema import FieldType
from bitseg.service import Service, SourceFile
from bitseg.store import keys
from bitseg.store.orgstore import RANGE_INDEX_KEY
from bitseg.store.rangekeys import CUMULATIVE, levels, order_key, slot_bucket
from bitseg.store.readview import ReadView

ORG = "acme"
NOW = 1_795_176_000
SCHEMA = {"seats": "int", "renewal_at": "time"}
_BIG = 2**62 - 1  # records hold |value| < 2**62; rules any 64-bit value
_INT_EDGES = [0, 1, 2, 7, 8, 100, 1023, 1024, 1025, 8192, 2**20, 2**40 + 3, 2**53, _BIG - 3]
INTS = st.one_of(
    st.sampled_from(_INT_EDGES + [-v for v in _INT_EDGES] + [_BIG, -_BIG]),
    st.integers(-20_000, 20_000),
    st.integers(-_BIG, _BIG),
    st.sampled_from(_INT_EDGES).flatmap(lambda v: st.integers(v - 3, v + 3)),
)
RULE_INTS = INTS | st.sampled_from([-(2**63), 2**63 - 1, 2**62, -(2**62)])
_COARSE = 1 << 22
_FIRST, _LAST = -2_208_988_800, 253_402_300_799  # 1900-01-01 .. 9999-12-31T23:59:59
_TIME_EDGES = [0, NOW, NOW - NOW % _COARSE, -(2**31), 4_102_444_800, _LAST - 2]
TIMES = st.one_of(
    st.sampled_from(_TIME_EDGES).flatmap(lambda v: st.integers(v - 2, v + 2)),
    st.integers(_FIRST, _LAST),
    st.integers(NOW - 400 * 86_400, NOW + 86_400),
)
IDS = [f"c{i}" for i in range(40)]
PROPERTY = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)


def _iso(epoch: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


Model = dict[str, dict[str, int]]


@st.composite
def bodies(draw: st.DrawFn, clearing: bool = False) -> dict[str, int | None]:
    """Some of the two fields; with `clearing` (patches) a field may be None: cleared."""
    body: dict[str, int | None] = {}
    for name, values in (("seats", INTS), ("renewal_at", TIMES)):
        choice = draw(st.integers(0, 2 if clearing else 1))
        if choice == 1:
            body[name] = draw(values)
        elif choice == 2:
            body[name] = None
    return body


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[str, str, dict[str, int | None]]]:
    """(op, id, body) lines: upserts, patches (a field set or cleared) and deletes."""
    lines = []
    for cid in draw(st.lists(st.sampled_from(IDS), max_size=25)):
        op = draw(st.sampled_from(["upsert", "patch", "delete"]))
        lines.append((op, cid, draw(bodies(op == "patch")) if op != "delete" else {}))
    return lines


def _apply(model: Model, lines: list[tuple[str, str, dict[str, int | None]]]) -> None:
    for op, cid, body in lines:
        if op == "delete":
            model.pop(cid, None)
        elif op == "upsert":
            model[cid] = dict(body)
        else:
            merged = model.get(cid, {})
            merged.update(body)
            model[cid] = {k: v for k, v in merged.items() if v is not None}


def _file(lines: list[tuple[str, str, dict[str, int | None]]]) -> SourceFile:
    out = []
    for op, cid, body in lines:
        custom: dict[str, object] = dict(body)
        if body.get("renewal_at") is not None:
            custom["renewal_at"] = _iso(body["renewal_at"])  # type: ignore[arg-type]
        record: dict[str, object] = {"id": cid}
        if op != "delete" and custom:
            record["custom"] = custom
        if op != "upsert":
            record["op"] = op
        out.append(orjson.dumps(record))
    return SourceFile("contacts", "contacts.jsonl", "jsonl", b"\n".join(out) + b"\n")


def _check(svc: Service, model: Model, bounds: list[tuple[int, int]]) -> None:
    for name, kind in (("seats", FieldType.INT), ("renewal_at", FieldType.TIME)):
        values = {cid: body[name] for cid, body in model.items() if name in body}
        for lo, hi in bounds:
            if kind == FieldType.TIME:
                lo, hi = max(lo, _FIRST), min(hi, _LAST)
                if lo > hi:
                    continue
            lo, hi = max(lo, -(2**63)), min(hi, 2**63 - 1)
            cond = Condition(f"custom.{name}", "between", (_arg(kind, lo), _arg(kind, hi)))
            expected = {cid for cid, v in values.items() if lo <= v <= hi}
            got, _ = svc.count(ORG, cond, NOW)
            assert got == len(expected), (name, lo, hi, sorted(expected))
        _check_cumulative(svc, kind, f"custom.{name}", values)


def _arg(kind: FieldType, value: int) -> object:
    return _iso(value) if kind == FieldType.TIME else value


def _check_cumulative(svc: Service, kind: FieldType, field: str, values: dict[str, int]) -> None:
    store = svc._store(ORG)  # white-box: the stored layout itself
    with store.read() as txn:
        view = ReadView(store, txn)
        assert view.range_index
        cols = {cid: view.column_of(keys.CONTACT, cid) for cid in values}
        coarse = {cid: order_key(kind, v) >> levels(kind).coarse for cid, v in values.items()}
        prefix = keys.field_prefix(keys.CONTACT, field) + CUMULATIVE
        stored: dict[int, BitMap] = {}
        cursor = txn.cursor(db=store.db["bm"])
        if cursor.set_range(prefix):
            for key, raw in cursor.iternext():
                key = bytes(key)
                if not key.startswith(prefix):
                    break
                stored[slot_bucket(key[:-2])] = BitMap.deserialize(bytes(raw[8:]))
    for bucket, bitmap in stored.items():
        assert bitmap == BitMap(cols[c] for c, b in coarse.items() if b >= bucket), bucket
    assert set(coarse.values()) <= set(stored)


@PROPERTY
@given(
    initial=st.dictionaries(st.sampled_from(IDS), bodies(), max_size=30),
    rounds=st.lists(batches(), min_size=1, max_size=3),
    bounds=st.lists(st.tuples(RULE_INTS, RULE_INTS).map(sorted).map(tuple), min_size=3, max_size=6),
)
def test_ranges_follow_every_batch(
    initial: dict[str, dict[str, int | None]],
    rounds: list[list[tuple[str, str, dict[str, int | None]]]],
    bounds: list[tuple[int, int]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="bitseg-range-") as tmp:
        svc = Service(Path(tmp))
        try:
            model: Model = {}
            first = [("upsert", cid, body) for cid, body in initial.items()]
            svc.ingest(ORG, [_file(first)], schema=SCHEMA, now=NOW)
            _apply(model, first)
            extra = [(v - 1, v + 1) for body in model.values() for v in body.values()][:6]
            _check(svc, model, bounds + extra)
            for lines in rounds:
                svc.ingest(ORG, [_file(lines)], schema=SCHEMA, now=NOW)
                _apply(model, lines)
                _check(svc, model, bounds + extra)
        finally:
            svc.close()


def test_a_store_of_an_older_layout_answers_from_the_bit_sliced_index() -> None:
    """A store flagged with another layout of levels (made by an older version) is read
    without its range index, and writes leave that index alone: answers stay exact."""
    with tempfile.TemporaryDirectory(prefix="bitseg-range-") as tmp:
        svc = Service(Path(tmp))
        try:
            model: Model = {}
            first = [("upsert", f"c{i}", {"seats": i * 37 - 500, "renewal_at": NOW - i * 5_000})
                     for i in range(40)]
            svc.ingest(ORG, [_file(first)], schema=SCHEMA, now=NOW)
            _apply(model, first)
            store = svc._store(ORG)
            with store.write() as txn:
                txn.put(RANGE_INDEX_KEY, b"1", db=store.db["meta"])  # the first layout
            moves = [("upsert", f"c{i}", {"seats": 9_000 - i, "renewal_at": NOW + i})
                     for i in range(0, 40, 3)]
            svc.ingest(ORG, [_file(moves)], schema=SCHEMA, now=NOW)
            _apply(model, moves)
            with store.read() as txn:
                assert not ReadView(store, txn).range_index
            for name in ("seats", "renewal_at"):
                kind = FieldType.INT if name == "seats" else FieldType.TIME
                values = {cid: body[name] for cid, body in model.items() if name in body}
                for lo, hi in [(-400, 400), (NOW - 60_000, NOW + 20), (8_970, 9_000)]:
                    cond = Condition(f"custom.{name}", "between", (_arg(kind, lo), _arg(kind, hi)))
                    expected = {cid for cid, v in values.items() if lo <= v <= hi}
                    assert svc.count(ORG, cond, NOW)[0] == len(expected), (name, lo, hi)
        finally:
            svc.close()
