"""Bulk-load fast paths give byte-identical stores, and errors that abort the batch.

The same demo org is ingested with the fast paths (column-wise events, the events file
parsed by a second process) and with the per-line path they replace; every key and
value of every LMDB database must be the same. A bad line is reported by file and
line, and nothing of the batch is applied.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import lmdb
import pytest
from pyroaring import BitMap

import indexer.batch as batch
import indexer.deferred as deferred
import indexer.eventcounts as eventcounts
import indexer.eventscan as eventscan
import indexer.prefetch as prefetch
import indexer.writer as writer
from bitseg.demo import demo_schema, generate_org
from bitseg.errors import RecordError
from bitseg.schema import OrgSchema
from bitseg.service import Service, SourceFile
from indexer import records as rec
from indexer.eventscan import EventColumns, columns_of
from indexer.sources import read_jsonl

KINDS = ("companies", "contacts", "campaigns", "deals", "events")
NOW = 1_790_000_000


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("org")
    generate_org(folder, contacts=3000, seed=7, activity=True)
    return folder


def per_line_events(data: object, source: str) -> Iterator[EventColumns]:
    """The per-line path: read_jsonl + records.event_fields, 5,000 events a chunk."""
    rows = []
    for line, raw in read_jsonl(data, source):  # type: ignore[arg-type]
        try:
            rows.append(rec.event_fields(raw))
        except ValueError as exc:
            raise RecordError(source, line, str(exc)) from None
        if len(rows) == 5000:
            yield columns_of(rows)
            rows = []
    if rows:
        yield columns_of(rows)


def ingest(folder: Path, data_dir: Path, events: Path | None = None) -> dict[str, object]:
    service = Service(data_dir)
    try:
        with contextlib.ExitStack() as stack:
            files = []
            for kind in KINDS:
                path = events if kind == "events" and events else folder / f"{kind}.jsonl"
                stream = stack.enter_context(path.open("rb"))
                files.append(SourceFile(kind, f"{kind}.jsonl", "jsonl", stream))
            return service.ingest("acme", files, schema=demo_schema(), now=NOW).applied
    finally:
        service.close()


def dump(data_dir: Path) -> dict[str, dict[bytes, bytes]]:
    env = lmdb.open(str(data_dir / "acme"), max_dbs=20, readonly=True, lock=False)
    out: dict[str, dict[bytes, bytes]] = {}
    try:
        with env.begin() as txn:
            for name in ("meta", "bm", "ids", "cols", "rec", "txt", "seg", "log"):
                db = env.open_db(name.encode(), txn=txn, create=False)
                out[name] = {bytes(k): bytes(v) for k, v in txn.cursor(db=db)}
    finally:
        env.close()
    return out


def test_fast_paths_and_per_line_path_give_identical_stores(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)  # the events file goes to a second process
    fast = ingest(org, tmp_path / "fast")
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 60)  # parsed in process, column-wise
    inline = ingest(org, tmp_path / "inline")
    monkeypatch.setattr(batch, "scan_events", per_line_events)  # the per-line path
    slow = ingest(org, tmp_path / "slow")
    assert fast == inline == slow
    assert fast["events"]["upserted"] > 50_000  # type: ignore[index]
    reference = dump(tmp_path / "slow")
    assert dump(tmp_path / "fast") == reference
    assert dump(tmp_path / "inline") == reference


@pytest.mark.parametrize("parser_process", [True, False])
def test_a_bad_event_line_aborts_the_batch_by_file_and_line(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser_process: bool
) -> None:
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0 if parser_process else 1 << 60)
    lines = (org / "events.jsonl").read_bytes().splitlines(keepends=True)
    bad_at = len(lines) - 10
    lines[bad_at] = b'{"contact_id":"c1","type":"activity","at":"2026-02-30T00:00:00Z"}\n'
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(lines))
    with pytest.raises(RecordError) as err:
        ingest(org, tmp_path / "data", events)
    assert err.value.message.startswith(f"events.jsonl:{bad_at + 1}: at: malformed time")
    service = Service(tmp_path / "data")
    try:
        assert not service.org_exists("acme")
    finally:
        service.close()


def test_prefetch_gives_the_chunks_parsed_in_process(org: Path) -> None:
    schema = batch.declare(OrgSchema(), demo_schema())
    with contextlib.ExitStack() as stack:
        files = []
        for kind in KINDS:
            stream = stack.enter_context((org / f"{kind}.jsonl").open("rb"))
            if kind == "contacts":
                stream.readline()  # a stream is read from where it stands
            files.append(batch.FileInput(kind, f"{kind}.jsonl", "jsonl", stream))
        assert prefetch.prefetchable(files) is None  # smaller than MIN_BYTES together
        monkey = pytest.MonkeyPatch()
        monkey.setattr(prefetch, "MIN_BYTES", 0)
        try:
            located = prefetch.prefetchable(files)
        finally:
            monkey.undo()
        assert located is not None
        parser = prefetch.Prefetch(schema, located, 700)
        try:
            got = [chunk for kind in batch.APPLY_ORDER for chunk in parser.chunks(kind)]
        finally:
            parser.close()
        expected = [
            chunk for kind in batch.APPLY_ORDER
            for chunk in batch.kind_chunks(kind, schema, files, [], 700)
        ]
    assert [kind for kind, _ in got] == [kind for kind, _ in expected]
    for (kind, a), (_, b) in zip(got, expected, strict=True):
        if kind != "events":
            assert a == b
            continue
        assert a.contact_ids == b.contact_ids and a.type_names == b.type_names
        assert a.campaign_names == b.campaign_names
        for name in ("contacts", "types", "campaigns", "times"):
            assert (getattr(a, name) == getattr(b, name)).all()


@pytest.mark.parametrize("parser_process", [True, False])
def test_a_bad_contact_line_aborts_the_batch_by_file_and_line(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser_process: bool
) -> None:
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0 if parser_process else 1 << 60)
    folder = tmp_path / "org"
    folder.mkdir()
    for kind in KINDS:
        (folder / f"{kind}.jsonl").write_bytes((org / f"{kind}.jsonl").read_bytes())
    lines = (folder / "contacts.jsonl").read_bytes().splitlines(keepends=True)
    lines[2500] = b'{"id":"c2500","lead_score":"eighty"}\n'
    (folder / "contacts.jsonl").write_bytes(b"".join(lines))
    with pytest.raises(RecordError) as err:
        ingest(folder, tmp_path / "data")
    assert err.value.message == 'contacts.jsonl:2501: lead_score: expected an integer, got "eighty"'
    service = Service(tmp_path / "data")
    try:
        assert not service.org_exists("acme")
    finally:
        service.close()


@pytest.mark.parametrize("twice", [False, True])
def test_insert_path_and_general_path_give_identical_stores(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, twice: bool
) -> None:
    """New contacts take the insert path; a chunk with an id twice (or anything but new
    upserts) takes the general one. Both must write the same store."""
    folder = tmp_path / "org"
    folder.mkdir()
    for kind in KINDS:
        (folder / f"{kind}.jsonl").write_bytes((org / f"{kind}.jsonl").read_bytes())
    if twice:
        lines = (folder / "contacts.jsonl").read_bytes().splitlines(keepends=True)
        (folder / "contacts.jsonl").write_bytes(b"".join(lines + lines[10:20]))
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 60)
    calls: list[bool] = []
    new_columns = writer._BatchRun._new_columns

    def spy(self: writer._BatchRun, entity: str, ops: list[batch.Operation]) -> object:
        cols = new_columns(self, entity, ops)
        calls.append(cols is not None)
        return cols

    monkeypatch.setattr(writer._BatchRun, "_new_columns", spy)
    ingest(folder, tmp_path / "insert")
    assert calls == [not twice]
    monkeypatch.setattr(writer._BatchRun, "_new_columns", lambda self, entity, ops: None)
    ingest(folder, tmp_path / "general")
    assert dump(tmp_path / "insert") == dump(tmp_path / "general")


@pytest.mark.parametrize("small", [3, 1 << 40])
def test_held_back_postings_give_identical_stores(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: int
) -> None:
    """Bitmaps written many times in a batch, with fields of many small postings held
    back until the batch's last write (indexer.deferred), give the same store as
    writing everything every time, through upserts, repeats, patches and deletes."""
    folder = tmp_path / "org"
    folder.mkdir()
    for kind in KINDS:
        (folder / f"{kind}.jsonl").write_bytes((org / f"{kind}.jsonl").read_bytes())
    lines = (folder / "contacts.jsonl").read_bytes().splitlines(keepends=True)
    changes = [
        b'{"id": "c%d", "op": "delete"}\n' % i for i in range(0, 600, 7)
    ] + [
        b'{"id": "c%d", "op": "patch", "city": "Oslo", "lead_score": 3}\n' % i
        for i in range(1, 600, 5)
    ]
    (folder / "contacts.jsonl").write_bytes(b"".join(lines + lines[100:400] + changes))
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 60)
    monkeypatch.setattr(batch, "CHUNK", 150)
    monkeypatch.setattr(writer, "PENDING_VALUES", 4_000)  # a write every chunk or two
    monkeypatch.setattr(deferred, "MIN_SLOTS", 2)
    monkeypatch.setattr(deferred, "SMALL", small)  # 3: keys go both ways between writes
    held: list[int] = []
    take = deferred.DeferredPostings.take

    def spy(self: deferred.DeferredPostings, key: object, parts: list[object]) -> object:
        write = take(self, key, parts)  # type: ignore[arg-type]
        held.append(write is not parts)
        return write

    monkeypatch.setattr(deferred.DeferredPostings, "take", spy)
    ingest(folder, tmp_path / "held")
    assert sum(held) > 100
    monkeypatch.setattr(deferred, "MIN_SLOTS", 1 << 60)
    ingest(folder, tmp_path / "plain")
    held_store, plain_store = dump(tmp_path / "held"), dump(tmp_path / "plain")
    # The same bitmaps; their bytes may differ where run_optimize met a tie of sizes.
    assert held_store.keys() == plain_store.keys()
    for name in held_store:
        if name != "bm":
            assert held_store[name] == plain_store[name], name
    assert held_store["bm"].keys() == plain_store["bm"].keys()
    for key, raw in held_store["bm"].items():
        other = plain_store["bm"][key]
        if raw != other:  # then both must be the same bitmap (and version)
            assert raw[:8] == other[:8], key
            assert BitMap.deserialize(raw[8:]) == BitMap.deserialize(other[8:]), key


def test_events_counted_as_they_come_give_the_same_store(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a batch's events every few thousand (and merging the counts at the end)
    writes the same store as counting them all at once."""
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1 << 60)
    merges: list[int] = []
    merged = eventcounts._merged

    def spy(fields: list[str], runs: list[tuple[object, object]]) -> object:
        merges.append(len(runs))
        return merged(fields, runs)  # type: ignore[arg-type]

    monkeypatch.setattr(eventcounts, "_merged", spy)
    monkeypatch.setattr(eventcounts, "COUNT_EVERY", 7_000)
    monkeypatch.setattr(  # ~2,500 events a chunk
        batch, "scan_events", lambda data, source: eventscan.scan_events(data, source, 200_000)
    )
    ingest(org, tmp_path / "counted")
    assert merges and max(merges) > 5
    monkeypatch.setattr(eventcounts, "COUNT_EVERY", 1 << 40)
    merges.clear()
    ingest(org, tmp_path / "at-once")
    assert merges == []
    assert dump(tmp_path / "counted") == dump(tmp_path / "at-once")
