"""Id blocks (bitseg.store.idblocks) against the per-column `cols` entries they pack.

Blocks are made 8 columns wide (BLOCK_BITS = 3, recorded by each store at creation) so
small stores cross many block boundaries. Property tests assign ids through `IdMap`
in random flushes and batches (some aborted), and check that every random set of
columns translates — as str, and as packed newline-joined pieces of random sizes —
to exactly the ids `ReadView.external_ids` reads one `cols` entry at a time. Service
level tests cover deletes, re-creates, contacts created by deals, an aborted batch, a
store from before id blocks (it keeps its in-memory table), and the packed Resolve.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lmdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from bitseg.rules.model import AllOf
from bitseg.service import Service
from bitseg.store import idblocks, readview
from bitseg.store.idblocks import BLOCK_PREFIX, IdBlocks, append_ids, pack_strs
from bitseg.store.keys import COMPANY, CONTACT
from bitseg.store.orgstore import OrgStore, next_col_key
from bitseg.store.readview import ReadView
from indexer import idmap
from indexer.idmap import IdMap

ORG = "acme"
NOW = 1_800_000_000
PROPERTY = settings(
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Ids: any text without control characters (what records accept), short and long.
ID_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12
) | st.text(alphabet="xé€𝄞", min_size=40, max_size=120)


class Abort(Exception):
    pass


@contextmanager
def small_blocks() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(idblocks, "BLOCK_BITS", 3)
        mp.setattr(readview, "BULK_MIN", 0)  # every size goes through the blocks
        yield


@contextmanager
def store() -> Iterator[OrgStore]:
    with tempfile.TemporaryDirectory(prefix="bitseg-idb-") as tmp:
        s = OrgStore(Path(tmp) / ORG, map_size=1 << 30, cache_bytes=1 << 20)
        try:
            yield s
        finally:
            s.close()


@contextmanager
def service() -> Iterator[Service]:
    with tempfile.TemporaryDirectory(prefix="bitseg-idb-") as tmp:
        svc = Service(Path(tmp))
        try:
            yield svc
        finally:
            svc.close()


def block_values(s: OrgStore) -> dict[bytes, bytes]:
    with s.read() as txn:
        cursor = txn.cursor(db=s.db["cols"])
        found: dict[bytes, bytes] = {}
        if cursor.set_range(BLOCK_PREFIX):
            for key, value in cursor:
                if not bytes(key).startswith(BLOCK_PREFIX):
                    break
                found[bytes(key)] = bytes(value)
        return found


def check_translation(
    s: OrgStore, entity: str, subsets: list[list[int]], chunk_bytes: list[int]
) -> None:
    """Every subset (of the columns in use) as str and packed equals the cols entries."""
    with s.read() as txn:
        view = ReadView(s, txn)
        next_col = s.get_u32(txn, next_col_key(entity))
        assert s.id_block_bits(txn) == 3 or next_col == 0  # (only aborted batches so far)
        everything = list(range(next_col))
        for raw, size in zip([everything, *subsets], chunk_bytes, strict=False):
            cols = sorted({c for c in raw if c < next_col})
            expected = view.external_ids(entity, cols)
            members = BitMap(cols)
            assert view.external_ids_bulk(entity, members) == expected
            pieces, total = view.packed_ids(entity, members, size)
            assert total == len(expected)
            assert all(pieces), "no empty piece"
            assert "\n".join(p.decode() for p in pieces) == "\n".join(expected)
            for piece in pieces:  # whole ids, within the size unless one id alone is larger
                assert len(piece) <= size or b"\n" not in piece


@PROPERTY
@given(
    batches=st.lists(
        st.tuples(
            st.lists(  # flushes of one batch: (entity, id) looked up with create
                st.lists(st.tuples(st.sampled_from([CONTACT, COMPANY]), ID_TEXT), max_size=30),
                min_size=1, max_size=4,
            ),
            st.booleans(),  # abort the batch at its end
        ),
        min_size=1, max_size=5,
    ),
    data=st.data(),
)
def test_blocks_equal_the_cols_entries_after_random_batches(
    batches: list[tuple[list[list[tuple[str, str]]], bool]], data: st.DataObject
) -> None:
    with small_blocks(), store() as s:
        for flushes, abort in batches:
            before = block_values(s)
            try:
                with s.write() as txn:
                    ids = IdMap(s, txn)
                    for flush in flushes:
                        for entity, ext_id in flush:
                            ids.col(entity, ext_id, create=True)
                        ids.flush()
                    if abort:
                        raise Abort
            except Abort:
                assert block_values(s) == before  # the aborted ids left no trace
            for entity in (CONTACT, COMPANY):
                with s.read() as txn:
                    n = s.get_u32(txn, next_col_key(entity))
                subsets = data.draw(
                    st.lists(st.lists(st.integers(0, max(n - 1, 0))), max_size=4), label="cols"
                )
                sizes = data.draw(st.lists(st.integers(1, 80), min_size=5, max_size=5))
                check_translation(s, entity, subsets, sizes)


def test_a_block_stays_with_its_recorded_width() -> None:
    """The width is the store's, not the code's: a store made with 8-column blocks
    keeps them after the constant changes."""
    with small_blocks(), store() as s:
        with s.write() as txn:
            ids = IdMap(s, txn)
            for i in range(20):
                ids.col(CONTACT, f"c{i}", create=True)
            ids.flush()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(idblocks, "BLOCK_BITS", 16)
            with s.write() as txn:
                ids = IdMap(s, txn)
                for i in range(20, 30):
                    ids.col(CONTACT, f"c{i}", create=True)
                ids.flush()
        assert sorted(block_values(s)) == [idblocks.block_key(CONTACT, b) for b in range(4)]
        check_translation(s, CONTACT, [[0, 7, 8, 29], list(range(5, 25))], [3, 1000, 10])


def test_a_column_skipped_over_has_no_id() -> None:
    """Columns are dense today; the blocks still tolerate a gap (an empty entry)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = lmdb.open(tmp, map_size=1 << 24, max_dbs=1)
        db = env.open_db(b"cols")
        with env.begin(write=True) as txn:
            append_ids(txn, db, CONTACT, 3, [0, 1, 5], ["a", "b", "f"])
            append_ids(txn, db, CONTACT, 3, [6, 9, 17], ["g", "j", "r"])
            with pytest.raises(ValueError):
                append_ids(txn, db, CONTACT, 3, [16], ["q"])  # already covered
        with env.begin(buffers=True) as txn:
            blocks = IdBlocks(txn, db, CONTACT, 3)
            cols = np.arange(20, dtype=np.uint32)
            assert blocks.ids(cols) == ["a", "b", "f", "g", "j", "r"]
            assert blocks.packed(cols, 3) == ([b"a\nb", b"f\ng", b"j\nr"], 6)
            assert blocks.ids(np.array([2, 3, 4, 10, 19, 40], dtype=np.uint32)) == []
            assert blocks.packed(np.array([7, 8], dtype=np.uint32)) == ([], 0)
        env.close()


def test_pack_strs_splits_at_whole_ids() -> None:
    ids = [f"id{i}" * (1 + i % 5) for i in range(500)]
    pieces = pack_strs(ids, 64)
    assert "\n".join(p.decode() for p in pieces) == "\n".join(ids)
    assert all(len(p) <= 64 for p in pieces)
    assert pack_strs([], 10) == [] and pack_strs(["x" * 30], 10) == [b"x" * 30]


# -------------------------------------------------------------------- through the Service


def contacts(ids: list[str], **fields: object) -> list[tuple[str, str, dict[str, object]]]:
    return [("contacts", "upsert", {"id": i, **fields}) for i in ids]


def resolve_all(svc: Service, packed_bytes: int = 0) -> list[str]:
    chunks, _ = svc.resolve(ORG, AllOf(()), NOW, chunk_size=5, packed_bytes=packed_bytes)
    if packed_bytes:
        return [i for piece in chunks for i in piece.decode().split("\n")]  # type: ignore[union-attr]
    return [i for chunk in chunks for i in chunk]


def every_id(svc: Service) -> tuple[list[str], list[str]]:
    """(ids through the bulk paths, ids through the cols entries) of every column."""
    s = svc.org_store(ORG)
    with s.read() as txn:
        view = ReadView(s, txn)
        cols = list(range(s.get_u32(txn, next_col_key(CONTACT))))
        return view.external_ids_bulk(CONTACT, BitMap(cols)), view.external_ids(CONTACT, cols)


def test_deletes_recreates_and_deal_contacts_keep_blocks_exact() -> None:
    with small_blocks(), service() as svc:
        svc.ingest(ORG, [], contacts([f"c{i}" for i in range(13)]), now=NOW)
        svc.ingest(
            ORG, [],
            [("contacts", "delete", {"id": f"c{i}"}) for i in range(0, 13, 3)]
            + contacts(["n1", "n2"])
            # a deal naming an unknown contact assigns that contact a column
            + [("deals", "upsert", {"id": "d1", "contact_id": "ghost", "value": 5})],
            now=NOW,
        )
        svc.ingest(ORG, [], contacts(["c3", "c6", "ghost", "n3"]), now=NOW)  # re-created
        bulk, per_column = every_id(svc)
        assert bulk == per_column and len(per_column) == 17
        assert per_column[:13] == [f"c{i}" for i in range(13)]  # deleted ones keep theirs
        live = [i for i in per_column if i not in {"c0", "c9", "c12"}]
        assert resolve_all(svc) == live
        for size in (1, 7, 64, 1 << 20):
            assert resolve_all(svc, size) == live


def test_an_aborted_batch_leaves_the_blocks_unchanged() -> None:
    with small_blocks(), service() as svc:
        svc.ingest(ORG, [], contacts([f"c{i}" for i in range(11)]), now=NOW)
        before = block_values(svc.org_store(ORG))
        original = idmap.IdMap.flush

        def flush_then_fail(self: IdMap) -> None:
            original(self)  # the new ids reach the blocks in the transaction...
            raise RuntimeError("boom")  # ...which then aborts

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(idmap.IdMap, "flush", flush_then_fail)
            with pytest.raises(RuntimeError):
                svc.ingest(ORG, [], contacts([f"x{i}" for i in range(30)]), now=NOW)
        assert block_values(svc.org_store(ORG)) == before
        assert resolve_all(svc, 16) == [f"c{i}" for i in range(11)]


def test_a_store_from_before_id_blocks_keeps_its_table(monkeypatch: pytest.MonkeyPatch) -> None:
    with service() as svc:
        with pytest.MonkeyPatch.context() as mp:  # the first load as an older version made it
            mp.setattr(OrgStore, "start_id_blocks", lambda self, txn: 0)
            svc.ingest(ORG, [], contacts([f"old{i}" for i in range(3000)]), now=NOW)
        svc.ingest(ORG, [], contacts([f"new{i}" for i in range(100)]), now=NOW)
        s = svc.org_store(ORG)
        with s.read() as txn:
            assert s.id_block_bits(txn) == 0
        assert block_values(s) == {}
        svc.warm()  # builds the legacy table
        assert len(s.id_table(CONTACT)._ids) == 3100
        expected = [f"old{i}" for i in range(3000)] + [f"new{i}" for i in range(100)]
        assert resolve_all(svc) == expected
        assert resolve_all(svc, 1000) == expected
        bulk, per_column = every_id(svc)
        assert bulk == per_column == expected


def test_a_fresh_store_has_blocks_and_warm_builds_no_table() -> None:
    with service() as svc:
        svc.ingest(ORG, [], contacts([f"c{i}" for i in range(2500)]), now=NOW)
        s = svc.org_store(ORG)
        with s.read() as txn:
            assert s.id_block_bits(txn) == idblocks.BLOCK_BITS
        svc.warm()
        assert CONTACT not in s._id_tables
        assert resolve_all(svc, 1 << 20) == [f"c{i}" for i in range(2500)]
        assert CONTACT not in s._id_tables  # the packed resolve read the blocks
