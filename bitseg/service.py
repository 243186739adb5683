"""The one facade the server (and tests) call: rules in, answers out, batches applied.

`Service` owns the open org stores of one data folder. Reads (count, preview,
resolve, list_members, export_csv, get/list segments) run on the caller's thread and
never block on a writer (LMDB MVCC). Writes (`ingest` and every segment change) must
all be made from one thread: the server gives them a dedicated single-thread
executor, because an LMDB write transaction is bound to the thread that began it.
A rule may reference segments (`{"segment": S}`); `_plan` expands them (see
bitseg.segments.expand) between validation and normalisation.

Several processes may open one data folder (`bitseg serve --workers N`): every cache
the stores keep is validated by the generation read from LMDB, every write method
holds the folder's cross-process write lock (bitseg.writelock), and a store opened
while another process's first ingest of that org was under way is re-checked until
the org has committed data (that ingest may fail and remove the folder).
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Concatenate, ParamSpec, TypeVar

import lmdb
from pyroaring import BitMap

from bitseg.engine import Executor, plan
from bitseg.engine.bsi import AnyBitMap
from bitseg.engine.planner import Plan
from bitseg.errors import InvalidArgument, NotFound
from bitseg.plancache import PlanCache
from bitseg.rules import normalise, validate
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule, SegmentRef
from bitseg.rules.references import campaign_references
from bitseg.schema import OrgSchema
from bitseg.segments.catalog import Catalog
from bitseg.segments.csvexport import CsvExport
from bitseg.segments.expand import ExpansionCache, expanded_limits, has_references
from bitseg.segments.layout import tracked_field
from bitseg.segments.membership import MemberChange, Members
from bitseg.segments.ops import SegmentOps, SegmentView
from bitseg.store import OrgStore, open_store
from bitseg.store.changelog import JOINED, read_backwards
from bitseg.store.keys import COMPANY, CONTACT
from bitseg.store.orgstore import check_org_name, next_col_key
from bitseg.store.readview import ReadView
from bitseg.timeutil import parse_instant
from bitseg.writelock import FolderWriteLock
from indexer.batch import FileInput, check_inputs, declare, iter_chunks
from indexer.writer import Writer


@dataclass(frozen=True)
class Member:
    """A contact as shown in a preview."""

    id: str
    name: str | None
    email: str | None
    company: str | None


@dataclass(frozen=True)
class SourceFile:
    """One ingest file: kind is contacts|companies|deals|campaigns|events, fmt is jsonl|csv."""

    kind: str
    name: str
    fmt: str
    data: bytes | BinaryIO  # bytes, or a binary file streamed line by line (JSON Lines)


@dataclass(frozen=True)
class IngestSummary:
    """What one applied batch did, per kind: {"contacts": {"upserted": n, ...}}."""

    applied: dict[str, dict[str, int]]
    seconds: float


MAX_PAGE = 1_000

P = ParamSpec("P")
R = TypeVar("R")


def _writes(
    method: Callable[Concatenate[Service, P], R],
) -> Callable[Concatenate[Service, P], R]:
    """Run a write method under the data folder's cross-process write lock."""

    @functools.wraps(method)
    def locked(self: Service, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._write_lock:
            return method(self, *args, **kwargs)

    return locked


class Service:
    """All orgs under one data folder."""

    def __init__(self, data_dir: str | Path, limits: Limits | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self._stores: dict[str, OrgStore] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()
        self._expansions = ExpansionCache()
        self._plans = PlanCache()
        self._write_lock = FolderWriteLock(self.data_dir)
        # org -> inode of data.mdb, for stores opened before the org had committed data
        self._unconfirmed: dict[str, int] = {}

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
            self._unconfirmed.clear()
        self._write_lock.close()

    # -- orgs ------------------------------------------------------------------------------
    def _store(self, org: str, create: bool = False) -> OrgStore:
        store = self._stores.get(org)
        if store is not None and org not in self._unconfirmed:
            return store
        with self._lock:
            store = self._stores.get(org)
            if store is not None and org in self._unconfirmed and not self._current(org, store):
                # another process's first ingest of this org failed and removed the folder
                # we opened: forget that environment (readers may still hold it)
                del self._stores[org], self._unconfirmed[org]
                self._plans.forget(org)
                store = None
            if store is None:
                store = open_store(self.data_dir, org, create=create)
                if store is None:
                    raise NotFound(
                        f'org "{org}" does not exist (an org is created by its first ingest)'
                    )
                store.commit_listeners.append(self._committed)
                with store.read() as txn:
                    if store.generation(txn) == 0:  # nothing committed yet: re-check later
                        self._unconfirmed[org] = _inode(store)
                self._stores[org] = store
            return store

    def _current(self, org: str, store: OrgStore) -> bool:
        """Whether an unconfirmed store is still the org's environment on disk."""
        with store.read() as txn:
            if store.generation(txn) > 0:  # committed data: no one removes the org any more
                del self._unconfirmed[org]
                return True
        return _inode(store) == self._unconfirmed[org]

    def warm(self) -> None:
        """Open every org, so the first query does not pay for it (called once in the
        background when the server starts). A store from before id blocks also gets its
        in-memory contact id table built, so its first large resolve does not wait."""
        for path in sorted(self.data_dir.iterdir()):
            if (path / "data.mdb").exists() and self.org_exists(path.name):
                store = self._store(path.name)
                with store.read() as txn:
                    if store.id_block_bits(txn):
                        continue  # the id blocks are read from the map: nothing to build
                    next_col = store.get_u32(txn, next_col_key(CONTACT))
                    store.id_table(CONTACT).ids(txn, store.db["cols"], next_col)

    @_writes
    def reevaluate(self, org: str, now: int | None = None) -> int:
        """Re-evaluate the org's segments at `now` (time passing); log entries written."""
        return SegmentOps(self._store(org), self.limits).reevaluate(now)

    @_writes
    def reevaluate_all(self, now: int | None = None) -> dict[str, int]:
        """`reevaluate` for every org in the data folder."""
        moved: dict[str, int] = {}
        for path in sorted(self.data_dir.iterdir()):
            if (path / "data.mdb").exists() and self.org_exists(path.name):
                moved[path.name] = self.reevaluate(path.name, now)
        return moved

    def membership_at(self, org: str, segment: str, at: int) -> list[str]:
        """Who was in `segment` at time `at`: its logged members now, with every later
        join undone and every later leave restored (from the change log)."""
        store = self._store(org)
        with store.read() as txn:
            record = Catalog(store, txn).get(segment)
            current = Members(store, txn, tracked_field).read(record.id)
            members = set(_read_view(store, txn).external_ids(CONTACT, current))
            for entry in read_backwards(store, txn):
                if parse_instant(str(entry["at"])) <= at:
                    break
                if entry["segment_id"] != record.id:
                    continue
                if entry["type"] == JOINED:
                    members.discard(str(entry["contact_id"]))
                else:
                    members.add(str(entry["contact_id"]))
        return sorted(members)

    def org_store(self, org: str) -> OrgStore:
        """The org's open store (NotFound if the org does not exist): for the change log
        readers and the webhook registry (bitseg.changes)."""
        return self._store(org)

    def add_commit_listener(self, listener: Callable[[str], None]) -> None:
        """Call `listener(org)` after every committed write of any org (on the writer's
        thread: hand the work to your own loop, e.g. with `call_soon_threadsafe`)."""
        self._listeners.append(listener)

    def _committed(self, org: str) -> None:
        for listener in list(self._listeners):
            listener(org)

    def _drop_org(self, org: str) -> None:
        """Remove an org whose first ingest failed, so it does not come into being."""
        with self._lock:
            self._unconfirmed.pop(org, None)
            self._plans.forget(org)
            store = self._stores.pop(org, None)
            if store is not None:
                store.close()
                shutil.rmtree(store.path, ignore_errors=True)

    def schema(self, org: str) -> OrgSchema:
        """The org's schema (built-in plus declared custom fields); NotFound if no such org."""
        store = self._store(org)
        with store.read() as txn:
            return store.schema(txn)

    def vocabulary(self, org: str) -> dict[str, object]:
        """The org's own words for natural-language mode, read from its index: field
        values, deal stages, campaigns, segment names, event types (`bitseg.nl.vocabulary`)."""
        from bitseg.nl.vocabulary import read_vocabulary  # NL mode only: imported when used

        segments = self.list_segments(org)
        with self._view(org) as view:
            return read_vocabulary(view, segments)

    def _existing(self, org: str) -> OrgStore | None:
        """The org's store, or None if it does not exist (yet)."""
        try:
            return self._store(org)
        except NotFound:
            return None

    def org_exists(self, org: str) -> bool:
        try:
            self._store(org)
        except (NotFound, InvalidArgument):
            return False
        return True

    @contextmanager
    def _view(self, org: str) -> Iterator[ReadView]:
        store = self._store(org)
        with store.read() as txn:
            yield _read_view(store, txn)

    # -- queries ---------------------------------------------------------------------------
    # `key` (optional, any query): a hashable stand-in for `rule` (e.g. its wire form, see
    # bitseg.server.rulecache) under which its plan is kept for the current generation.
    def _planned(self, view: ReadView, rule: Rule, clock: int, key: Hashable | None) -> Plan:
        if key is None:
            return self._plan(view, rule, clock)
        return self._plans.get_or_plan(  # type: ignore[no-any-return]
            view.store.path.name, view.gen, key, clock, lambda: self._plan(view, rule, clock)
        )

    def _plan(self, view: ReadView, rule: Rule, now: int | None):  # type: ignore[no-untyped-def]
        schema = view.schema
        validate(rule, schema, self.limits)
        check_campaigns(view, rule)
        clock = int(time.time()) if now is None else now
        limits = self.limits
        if has_references(rule):  # segment references: resolved, dynamic ones inlined
            memo = self._expansions.memo(view.store.path.name, view.gen)
            rule = SegmentOps(view.store, limits).expander(view.txn, schema, memo=memo).expand(rule)
            limits = expanded_limits(limits)
        return plan(normalise(rule, schema, clock, limits))

    def forget_query_caches(self, org: str) -> None:
        """Drop the org's cached plans and leaf answers, as a write would (the next query
        is then evaluated cold; used by the benchmarks)."""
        self._plans.forget(org)
        store = self._store(org)
        store.leaf_results.clear()
        store.dense_words.clear()

    def count(
        self, org: str, rule: Rule, now: int | None = None, key: Hashable | None = None
    ) -> tuple[int, float]:
        started = time.perf_counter()
        store = self._store(org)
        with store.read() as txn:
            view = _read_view(store, txn)
            clock = int(time.time()) if now is None else now
            n = _executor(view, clock, key is not None).count(
                self._planned(view, rule, clock, key)
            )
        return n, time.perf_counter() - started

    def _members(
        self, view: ReadView, rule: Rule, now: int | None, key: Hashable | None = None
    ) -> AnyBitMap:
        clock = int(time.time()) if now is None else now
        return _executor(view, clock, key is not None).members(
            self._planned(view, rule, clock, key)
        )

    def preview(
        self,
        org: str,
        rule: Rule,
        limit: int = 10,
        now: int | None = None,
        key: Hashable | None = None,
    ) -> tuple[int, list[Member], float]:
        if limit < 0 or limit > MAX_PAGE:
            raise InvalidArgument(f"limit: must be between 0 and {MAX_PAGE}, got {limit}")
        started = time.perf_counter()
        with self._view(org) as view:
            members = self._members(view, rule, now, key)
            cols = _first(members, 0, limit)
            shown = [self._member(view, col) for col in cols]
            total = len(members)
        return total, shown, time.perf_counter() - started

    def _member(self, view: ReadView, col: int) -> Member:
        record = view.record(CONTACT, col) or {}
        ext_id = view.external_ids(CONTACT, [col])[0]
        company_name = None
        company_id = record.get("company_id")
        if isinstance(company_id, str):
            company_col = view.column_of(COMPANY, company_id)
            company = view.record(COMPANY, company_col) if company_col is not None else None
            if company is not None and isinstance(company.get("name"), str):
                company_name = company["name"]  # type: ignore[assignment]
        return Member(
            id=ext_id,
            name=_str_or_none(record.get("name")),
            email=_str_or_none(record.get("email")),
            company=company_name,
        )

    def resolve(
        self,
        org: str,
        rule: Rule,
        now: int | None = None,
        chunk_size: int = 65_536,
        key: Hashable | None = None,
        packed_bytes: int = 0,
    ) -> tuple[IdChunks | PackedIds, float]:
        """Every member's external id, in chunks of `chunk_size` ids; with `packed_bytes`,
        in newline-joined UTF-8 pieces of at most that many bytes instead (gathered from
        the store's id blocks without a str per id). Either knows its `total` up front."""
        started = time.perf_counter()
        store = self._store(org)
        with store.read() as txn:
            view = _read_view(store, txn)
            members = self._members(view, rule, now, key)
            if packed_bytes:
                pieces, total = view.packed_ids(CONTACT, members, packed_bytes)
                chunks: IdChunks | PackedIds = PackedIds(pieces, total)
            else:
                chunks = IdChunks(store_ids(view, members), chunk_size)
        return chunks, time.perf_counter() - started

    def list_members(
        self,
        org: str,
        rule: Rule,
        now: int | None = None,
        cursor: str = "",
        page_size: int = 100,
        key: Hashable | None = None,
    ) -> tuple[list[str], str, float]:
        if page_size < 1 or page_size > MAX_PAGE:
            raise InvalidArgument(f"page_size: must be between 1 and {MAX_PAGE}, got {page_size}")
        start = _decode_cursor(cursor)
        started = time.perf_counter()
        with self._view(org) as view:
            members = self._members(view, rule, now, key)
            cols = _first(members, start, page_size + 1)
            more = len(cols) > page_size
            cols = cols[:page_size]
            ids = view.external_ids(CONTACT, cols)
        next_cursor = _encode_cursor(cols[-1] + 1) if more else ""
        return ids, next_cursor, time.perf_counter() - started

    def export_csv(
        self, org: str, rule: Rule, now: int | None = None, rows_per_chunk: int = 10_000
    ) -> tuple[CsvExport, float]:
        """The members of `rule` as CSV chunks, all read from one snapshot (close when done)."""
        started = time.perf_counter()
        store = self._store(org)
        stack = ExitStack()
        try:
            txn = stack.enter_context(store.read())
            view = _read_view(store, txn)
            export = CsvExport(stack, view, self._members(view, rule, now), rows_per_chunk)
        except BaseException:
            stack.close()
            raise
        return export, time.perf_counter() - started

    # -- segments (reads inline; writes on the writer thread, like ingest) ----------------
    def _segments(self, org: str) -> SegmentOps:
        return SegmentOps(self._store(org), self.limits)

    @_writes
    def create_segment(
        self,
        org: str,
        name: str,
        rule: Rule | None = None,
        members: list[str] | None = None,
        description: str = "",
        now: int | None = None,
    ) -> tuple[SegmentView, MemberChange | None]:
        """A dynamic segment (`rule`) or a static one (`members`, or neither: empty).
        Its first members are logged as joined, evaluated at `now` (default: the clock)."""
        return self._segments(org).create(name, description, rule, members, now)

    def get_segment(self, org: str, segment: str) -> SegmentView:
        """A segment by id or name (NotFound if none)."""
        return self._segments(org).get(segment)

    def list_segments(self, org: str, include_archived: bool = False) -> list[SegmentView]:
        return self._segments(org).list(include_archived)

    @_writes
    def update_segment(
        self,
        org: str,
        segment: str,
        name: str | None = None,
        description: str | None = None,
        rule: Rule | None = None,
    ) -> SegmentView:
        return self._segments(org).update(segment, name, description, rule)

    @_writes
    def duplicate_segment(self, org: str, segment: str, name: str | None = None) -> SegmentView:
        return self._segments(org).duplicate(segment, name)

    @_writes
    def archive_segment(self, org: str, segment: str, archived: bool = True) -> SegmentView:
        return self._segments(org).set_archived(segment, archived)

    @_writes
    def delete_segment(self, org: str, segment: str) -> None:
        self._segments(org).delete(segment)

    @_writes
    def add_members(self, org: str, segment: str, ids: list[str]) -> MemberChange:
        return self._segments(org).change_members(segment, ids, remove=False)

    @_writes
    def remove_members(self, org: str, segment: str, ids: list[str]) -> MemberChange:
        return self._segments(org).change_members(segment, ids, remove=True)

    @_writes
    def upsert_segments_by_name(self, org: str, names: list[str]) -> list[tuple[str, bool]]:
        """(id, created) per name in input order; missing ones become empty static segments."""
        return self._segments(org).upsert_by_name(names)

    @_writes
    def export_to_list(
        self, org: str, segment: str, name: str | None = None, now: int | None = None
    ) -> tuple[SegmentView, int]:
        """A new static segment holding `segment`'s members as of now, and their number."""
        store = self._store(org)
        with store.read() as txn:
            view = _read_view(store, txn)
            source = Catalog(store, txn).get(segment)
            members = self._members(view, SegmentRef(source.id), now)
        created = SegmentOps(store, self.limits).create_list(source, members, name, now)
        return created, len(members)

    # -- writes ----------------------------------------------------------------------------
    @_writes
    def ingest(
        self,
        org: str,
        files: list[SourceFile],
        records: list[tuple[str, str, dict[str, object]]] | None = None,
        schema: dict[str, str] | None = None,
        now: int | None = None,
    ) -> IngestSummary:
        started = time.perf_counter()
        inputs = [FileInput(f.kind, f.name, f.fmt, f.data) for f in files]
        check_org_name(org)
        check_inputs(inputs, records or [])
        existing = self._existing(org)
        current = OrgSchema()
        if existing is not None:
            with existing.read() as txn:
                current = existing.schema(txn)
        new_schema = declare(current, schema)
        chunks = iter_chunks(new_schema, inputs, records or [])
        if existing is None:
            # Parse the first chunk before creating the org, so a bad first line leaves nothing.
            first = next(chunks, None)
            chunks = itertools.chain([first] if first is not None else [], chunks)
        store = self._store(org, create=True)
        try:
            summary = Writer(store, self.limits).apply(new_schema, chunks, now)
        except BaseException:
            if existing is None:
                self._drop_org(org)
            raise
        return IngestSummary(applied=summary, seconds=time.perf_counter() - started)


def _read_view(store: OrgStore, txn: lmdb.Transaction) -> ReadView:
    """A `ReadView` that refcounting frees as soon as its query is done.

    `ReadView.__init__` keeps its bitmap fetcher as a lambda over `self`, a reference
    cycle: without this, every query's view and LMDB read transaction would live until
    the cyclic GC runs, and py-lmdb frees a reader slot only when its Transaction object
    is freed (the slots are shared by every process over the environment)."""
    view = ReadView(store, txn)
    view._fetch = functools.partial(txn.get, db=store.db["bm"])  # same reads, no cycle
    return view


def _inode(store: OrgStore) -> int:
    """The inode of the store's data file (-1 when it is gone)."""
    try:
        return os.stat(store.path / "data.mdb").st_ino
    except OSError:
        return -1


def _executor(view: ReadView, now: int, reused_plan: bool) -> Executor:
    """An executor over the shared caches; `reused_plan`: the plan is from the plan cache."""
    store = view.store
    return Executor(
        view, now=now, results=store.leaf_results, gen=view.gen, dense=store.dense_words,
        reused_plan=reused_plan,
    )


def check_campaigns(view: ReadView, rule: Rule) -> None:
    """Refuse a rule naming a campaign the org does not have, by the path that names it."""
    references = campaign_references(rule)
    if not references:
        return
    known = {cid for cid, _ in view.campaigns()}
    for path, cid in references:
        if cid not in known:
            raise InvalidArgument(f'{path}: unknown campaign "{cid}"')


def store_ids(view: ReadView, members: AnyBitMap) -> list[str]:
    return view.external_ids_bulk(CONTACT, members)


class IdChunks:
    """Member ids in chunks, with the total known up front."""

    def __init__(self, ids: list[str], chunk_size: int) -> None:
        self.ids = ids
        self.total = len(ids)
        self.chunk_size = max(1, chunk_size)

    def __iter__(self) -> Iterator[list[str]]:
        for start in range(0, len(self.ids), self.chunk_size):
            yield self.ids[start : start + self.chunk_size]


class PackedIds:
    """Member ids as newline-joined UTF-8 pieces, with the total known up front."""

    def __init__(self, pieces: list[bytes], total: int) -> None:
        self.pieces = pieces
        self.total = total

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.pieces)


def _first(members: AnyBitMap, start: int, n: int) -> list[int]:
    out: list[int] = []
    if n <= 0 or not members:
        return out
    for col in members.iter_equal_or_larger(start):
        out.append(col)
        if len(out) >= n:
            break
    return out


def _encode_cursor(col: int) -> str:
    return f"c{col:x}"


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        if cursor[0] != "c":
            raise ValueError
        return int(cursor[1:], 16)
    except ValueError:
        raise InvalidArgument(f'cursor: "{cursor}" is not a cursor this server gave out') from None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["BitMap", "IngestSummary", "Member", "Service", "SourceFile"]
