"""An events file scanned by both bulk-load processes gives what one scan gives.

The parse process claims blocks from the front and the writer from the back
(`indexer.eventshare`); `Prefetch.steal_first` makes the writer take blocks before it
looks for parsed ones, so the sharing is exercised whatever the timing. The events
must come in line order, the store must be byte-identical to a load without sharing,
and a bad line must be the one a sequential scan reports first, with its line number.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import indexer.batch as batch
import indexer.eventshare as eventshare
import indexer.prefetch as prefetch
from bitseg.demo import demo_schema, generate_org
from bitseg.errors import RecordError
from bitseg.schema import OrgSchema

try:
    from tests.test_bulkload_paths import KINDS, dump, ingest
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from test_bulkload_paths import KINDS, dump, ingest

BLOCK = 64 << 10


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("org")
    generate_org(folder, contacts=2000, seed=11, activity=True)
    return folder


@pytest.fixture()
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    monkeypatch.setattr(prefetch, "SHARE_EVENTS", True)
    monkeypatch.setattr(eventshare, "SHARED_BLOCK_BYTES", BLOCK)
    monkeypatch.setattr(prefetch.Prefetch, "steal_first", 12)


def flat(chunks: list[object]) -> list[tuple[str, str, str, int]]:
    """Every event as (contact id, type, campaign, time), in the order given."""
    out = []
    for c in chunks:
        campaigns = [c.campaign_names[i] if i >= 0 else "" for i in c.campaigns.tolist()]  # type: ignore[attr-defined]
        out += zip([c.contact_ids[i] for i in c.contacts.tolist()],  # type: ignore[attr-defined]
                   [c.type_names[i] for i in c.types.tolist()], campaigns,  # type: ignore[attr-defined]
                   c.times.tolist(), strict=True)  # type: ignore[attr-defined]
    return out


@pytest.mark.usefixtures("shared")
def test_shared_scan_gives_the_events_in_line_order(org: Path) -> None:
    schema = batch.declare(OrgSchema(), demo_schema())
    with contextlib.ExitStack() as stack:
        files = [batch.FileInput(kind, f"{kind}.jsonl", "jsonl",
                                 stack.enter_context((org / f"{kind}.jsonl").open("rb")))
                 for kind in KINDS]
        located = prefetch.prefetchable(files)
        assert located is not None
        parser = prefetch.Prefetch(schema, located, 500)
        try:
            got = [c for _, c in parser.chunks("companies")]
            got += [c for kind in batch.APPLY_ORDER[1:] for _, c in parser.chunks(kind)]
            stolen = parser.blocks_scanned_here
        finally:
            parser.close()
        expected = list(batch.kind_chunks("events", schema, files, [], 500))
    events = [c for c in got if not isinstance(c, list | tuple) and hasattr(c, "times")]
    assert stolen >= 12
    blocks = -(-os.path.getsize(org / "events.jsonl") // BLOCK)
    assert stolen < blocks  # the child scanned some too (it had the first blocks at least)
    assert flat(events) == flat([c for _, c in expected])


@pytest.mark.usefixtures("shared")
def test_shared_scan_gives_an_identical_store(
    org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared_applied = ingest(org, tmp_path / "shared")
    monkeypatch.setattr(prefetch, "SHARE_EVENTS", False)
    alone_applied = ingest(org, tmp_path / "alone")
    assert shared_applied == alone_applied
    assert dump(tmp_path / "shared") == dump(tmp_path / "alone")


def _with_bad_lines(org: Path, tmp_path: Path, bad: list[int]) -> Path:
    lines = (org / "events.jsonl").read_bytes().splitlines(keepends=True)
    for i in bad:
        lines[i] = b'{"contact_id":"c1","type":"page_view","at":"2026-02-30T00:00:00Z"}\n'
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(lines))
    return events


@settings(deadline=None, max_examples=6)
@given(data=st.data())
@pytest.mark.usefixtures("shared")
def test_the_first_bad_line_is_reported_whoever_scanned_it(
    org: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("bad")
    n = len((org / "events.jsonl").read_bytes().splitlines())
    bad = sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3,
                                    unique=True)))
    with pytest.raises(RecordError) as err:
        ingest(org, tmp / "data", _with_bad_lines(org, tmp, bad))
    assert err.value.message.startswith(f"events.jsonl:{bad[0] + 1}: at: malformed time")


@pytest.mark.usefixtures("shared")
def test_a_bad_line_in_the_last_block_has_its_line_number(org: Path, tmp_path: Path) -> None:
    n = len((org / "events.jsonl").read_bytes().splitlines())
    with pytest.raises(RecordError) as err:  # the writer scans the last blocks first
        ingest(org, tmp_path / "data", _with_bad_lines(org, tmp_path, [n - 3]))
    assert err.value.message.startswith(f"events.jsonl:{n - 2}: at: malformed time")


def test_blocks_cover_every_line_once(tmp_path: Path) -> None:
    lines = [b"x" * (i % 37) + b"\n" for i in range(2000)] + [b"y" * 300 + b"\n", b"tail"]
    path = tmp_path / "f"
    path.write_bytes(b"head-skipped\n" + b"".join(lines))
    offset = len(b"head-skipped\n")
    for size in (1, 7, 64, 300, 1 << 20):
        reader = eventshare.BlockReader(str(path), offset, size)
        try:
            count = eventshare.block_count(str(path), offset, size)
            pieces = [reader.read(k) for k in range(count)]
        finally:
            reader.close()
        assert b"".join(p for _, p in pieces) == b"".join(lines), size
        for start, piece in pieces:  # each block is whole lines
            assert not piece or (start == offset or path.read_bytes()[start - 1] == 10)
        assert np.sum([p.count(b"\n") for _, p in pieces]) == 2001
