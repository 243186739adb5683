"""New contacts regrouped per field (indexer.columns) carry exactly what the per-record
path gives: the same operations back, the stored records, the effective fields and the
lower-cased text values; a load through them writes the same store; chunks that are not
upserts of distinct ids are left as operations."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import indexer.batch as batch
import indexer.prefetch as prefetch
from bitseg.demo import demo_schema, generate_org
from bitseg.schema import FieldType, OrgSchema
from indexer import records as rec
from indexer.columns import ContactColumns, contact_columns
from tests.test_bulkload_paths import dump, ingest

SCHEMA = batch.declare(OrgSchema(), demo_schema())

_WORDS = st.sampled_from(["de", "DE", " fr ", "", "Acme", "ß", "x\x00y", "a" * 70, "İ", "é"])
_TIMES = st.one_of(
    st.sampled_from([
        "2024-06-05T07:06:33Z", "1969-12-31T23:59:59Z", "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-06-05T24:00:00Z", "2024-06-05T07:06:33+02:00",
        "2024-06-05", "2024-06-05T07:06:33", "0000-01-01T00:00:00Z", "yesterday",
        "2024-06-05T07:06:33.5Z", "2024-13-05T07:06:33Z",
    ]),
    st.integers(min_value=-(2**40), max_value=2**40),
)
_CLEAN = {
    "email": st.sampled_from(["Ann@Example.COM", "bob@x.io", "noat", "c@ ", "d@e.fr"]),
    "name": st.sampled_from(["Ann Lee", "Bob", "Zoë Ωμέγα", "ΣΑΣ"]),
    "city": st.sampled_from(["Paris", "Oslo", "BERLIN"]),
    "country": st.sampled_from(["GB", "fr", "De"]),
    "source": st.sampled_from(["ads", "partner"]),
    "tags": st.lists(st.sampled_from(["vip", "new", "b2b"]), max_size=3),
    "lead_score": st.integers(min_value=-5, max_value=10**6),
    "created_at": st.sampled_from(["2024-06-05T07:06:33Z", "2026-01-31T00:00:00Z"]),
    "unsubscribed": st.booleans(),
    "company_id": st.sampled_from(["co1", "co2"]),
    "fit_score": st.fixed_dictionaries({}, optional={"crm": st.integers(0, 100)}),
    "custom": st.fixed_dictionaries(
        {}, optional={"plan": st.sampled_from(["free", "pro"]), "seats": st.integers(0, 9),
                      "beta": st.booleans(), "interests": st.lists(st.sampled_from(["a", "b"]))},
    ),
}
_ANY = st.one_of(
    _WORDS, st.lists(_WORDS, max_size=3), st.integers(-(2**63), 2**63), st.booleans(),
    st.none(), _TIMES, st.floats(allow_nan=False), st.dictionaries(_WORDS, st.integers()),
)
_NAMES = [*_CLEAN, "job_title", "engagement_score", "last_seen", "email_domain", "op",
          "deleted", "fit_score.crm"]


@st.composite
def clean_chunks(draw: st.DrawFn) -> list[dict[str, object]]:
    n = draw(st.integers(1, 12))
    return [
        {"id": f"c{i}", **draw(st.fixed_dictionaries({}, optional=_CLEAN))} for i in range(n)
    ]


@st.composite
def any_chunks(draw: st.DrawFn) -> list[dict[str, object]]:
    rows = draw(clean_chunks())
    for row in rows:
        for name in draw(st.lists(st.sampled_from(_NAMES), max_size=3)):
            row[name] = draw(st.one_of(_ANY, _CLEAN.get(name, _ANY)))
        if draw(st.integers(0, 20)) == 0:
            row["id"] = draw(st.one_of(st.sampled_from(["c0", "", 7, -1, "a\nb"]), _ANY))
    return rows


def per_record(raws: list[dict[str, object]]) -> list[batch.Operation]:
    coercers = rec.Coercers(rec.contact_type(SCHEMA))
    return [batch._operation(raw, coercers, "contacts.jsonl", i) for i, raw in enumerate(raws)]


def effective_rows(got: ContactColumns) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{} for _ in got.ids]
    for name, (members, values) in got.fields.items():
        for row, value in zip(members.tolist(), list(values), strict=True):
            rows[row][name] = value.item() if isinstance(value, np.generic) else value
    return rows


def check_columns(ops: list[batch.Operation]) -> None:
    got = contact_columns(ops, SCHEMA.field_type)
    ids = [op.id for op in ops]
    if got is None:
        assert any(op.op != "upsert" for op in ops) or len(set(ids)) < len(ids)
        return
    assert got.ids == ids and len(got) == len(ops)
    assert got.operations() == ops
    assert got.records == [orjson.dumps({"id": op.id, **op.fields}) for op in ops]
    assert effective_rows(got) == [rec.derive_contact(op.fields) for op in ops]
    for members, _ in got.fields.values():
        assert members.dtype == np.uint32 and (np.diff(members.astype(np.int64)) > 0).all()
    text_fields = {n for n in got.fields if SCHEMA.field_type(n) == FieldType.TEXT}
    assert set(got.texts) == text_fields
    for name, lowered in got.texts.items():
        assert lowered == [str(v).lower().encode() for v in got.fields[name][1]]


@settings(max_examples=300, deadline=None)
@given(raws=clean_chunks())
def test_upserts_of_distinct_ids_are_regrouped_exactly(raws: list[dict[str, object]]) -> None:
    ops = per_record(raws)
    assert contact_columns(ops, SCHEMA.field_type) is not None
    check_columns(ops)


@settings(max_examples=300, deadline=None)
@given(raws=any_chunks())
def test_any_chunk_is_regrouped_exactly_or_left_as_operations(
    raws: list[dict[str, object]],
) -> None:
    coercers = rec.Coercers(rec.contact_type(SCHEMA))
    ops = []
    for raw in raws:  # the records the per-record path takes
        with contextlib.suppress(batch.RecordError):
            ops.append(batch._operation(raw, coercers, "contacts.jsonl", 1))
    check_columns(ops)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("org")
    generate_org(folder, contacts=2000, seed=11, activity=True)
    lines = (folder / "contacts.jsonl").read_bytes().splitlines(keepends=True)
    odd = [  # values that normalisation changes, a patch, and an id given again
        b'{"id":"x1","country":"gb","city":"","tags":["b","a","b"],"created_at":"2024-06-05"}\n',
        b'{"id":"x2","source":" ads ","created_at":"2024-06-05T07:06:33+02:00","custom":null}\n',
        b'{"id":"x3","lead_score":null,"unsubscribed":false,"tags":[],"email":"A@B.CO"}\n',
        b'{"id":"x4","op":"patch","city":"Rome"}\n',
        b'{"id":"c5","city":"Lyon"}\n',  # an id of an earlier chunk: the writer's general path
    ]
    (folder / "contacts.jsonl").write_bytes(b"".join(lines[:1000] + odd + lines[1000:]))
    return folder


def test_column_wise_and_per_record_loads_give_the_same_store(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 60)
    monkeypatch.setattr(batch, "CHUNK", 300)
    taken: list[bool] = []
    columns = batch.contact_columns

    def spy(ops: list[batch.Operation], type_of: object) -> ContactColumns | None:
        got = columns(ops, type_of)  # type: ignore[arg-type]
        taken.append(got is not None)
        return got

    monkeypatch.setattr(batch, "contact_columns", spy)
    ingest(org, tmp_path / "columns")
    assert taken.count(False) == 1 and taken.count(True) > 3  # the chunk with the patch
    monkeypatch.setattr(batch, "COLUMNAR", False)
    ingest(org, tmp_path / "records")
    assert dump(tmp_path / "columns") == dump(tmp_path / "records")


def _two_step(raw: dict[str, object], coercers: rec.Coercers) -> tuple[str, object]:
    try:
        fields = rec.normalise_fields(rec.flatten(raw), coercers)
    except ValueError as exc:
        return "error", str(exc)
    return "ok", {k: v for k, v in fields.items() if v is not None}


@settings(max_examples=600, deadline=None)
@given(raws=any_chunks())
def test_upsert_fields_is_the_two_step_normalisation(raws: list[dict[str, object]]) -> None:
    """The one-pass normaliser of upserts gives the fields (in their order) or the error
    of flatten + normalise_fields, or steps aside for a dotted top-level name."""
    coercers = rec.Coercers(rec.contact_type(SCHEMA))
    for raw in raws:
        try:
            got: tuple[str, object] = ("ok", rec.upsert_fields(raw, coercers))
        except ValueError as exc:
            got = ("error", str(exc))
        want = _two_step(raw, coercers)
        if got == ("ok", None):
            assert any("." in key for key in raw)
            continue
        assert got == want, raw
        if got[0] == "ok":
            assert list(got[1]) == list(want[1])  # type: ignore[arg-type]
