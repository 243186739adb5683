"""Webhooks: per-org endpoints in LMDB and one in-order delivery worker per endpoint.

Registry (the org's "hooks" database):
  b"h" + id  -> the endpoint as JSON: id, url, secret, segments (ids, or null = all),
               created_at
  b"c" + id  -> its durable cursor: the last log seq acknowledged (8 bytes, big-endian)
  b"s" + id  -> its delivery status while a batch is failing: {"last_error", "failures"}
These are written in a transaction that neither bumps the store generation nor fires
the commit listeners (`side_write`): nothing any reader caches lives in "hooks", and
an acknowledgement must not wake every watcher and worker of the org.

Delivery: one asyncio task per endpoint reads the log after its cursor, keeps the
entries its segment filter selects (at most BATCH per request, scanning at most
SCAN entries per step), POSTs them as JSON

    {"org": "acme", "webhook_id": "wh_…", "events": [<log entry>, …]}

with `X-Bitseg-Timestamp: <unix seconds>` and
`X-Bitseg-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, and
retries the same batch until a 2xx answer, waiting BACKOFF_START s doubling to
BACKOFF_CAP s, each wait scaled by a random factor in [0.5, 1]. Only after a 2xx is
the cursor advanced (to the last entry examined, so filtered-out entries advance it
too; a run of filtered-out entries alone is stored every SKIP_SAVE entries rather than
every step), and only then is the next batch read: per endpoint, a later entry is never sent
before an earlier one was acknowledged. A restart resumes from the durable cursor:
acknowledged entries are never re-sent; a batch whose 2xx arrived but whose cursor
write did not (a crash in between) is sent again: at-least-once, and every event's
`seq` (unique per org) lets receivers drop duplicates.

Several server processes (`bitseg serve --workers N`): only the primary's `Webhooks`
(`deliver=True`) runs workers. Endpoints registered or deleted through another process
reach it through the registry: it re-reads the registry every REGISTRY_SYNC seconds,
starting workers for new endpoints and stopping those of deleted ones, and a worker
checks that its endpoint still exists before every attempt. The status a worker keeps
in memory is also stored (on every failed attempt and when delivery recovers), so
`ListWebhooks` shows the last error whichever process answers.

HTTP is a minimal HTTP/1.1 client on asyncio streams (TLS via `ssl`), so a delivery
in flight is cancelled at once on shutdown; redirects are not followed (a 3xx is a
failure like any other non-2xx).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import random
import secrets
import ssl
import struct
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import lmdb
import orjson

from bitseg import __version__
from bitseg.changes.watch import Entry, OrgSignals
from bitseg.errors import FailedPrecondition, InvalidArgument, NotFound
from bitseg.segments.catalog import Catalog
from bitseg.store import OrgStore, changelog
from bitseg.timeutil import format_time

if TYPE_CHECKING:
    from bitseg.service import Service

log = logging.getLogger("bitseg.webhooks")

T = TypeVar("T")

BATCH = 100  # events per request at most
SCAN = 1_000  # log entries examined per step at most (a narrow filter skips many)
SKIP_SAVE = 10_000  # filtered-out entries skipped before the cursor is stored anyway
BACKOFF_START = 0.5
BACKOFF_CAP = 60.0
HTTP_TIMEOUT = 10.0
MAX_WEBHOOKS = 100  # per org
MAX_URL = 2048
MAX_SECRET = 512
MAX_SEGMENTS = 1000
REGISTRY_SYNC = 0.5  # seconds between re-reads of the registry by the delivering process
ID_PREFIX = "wh_"

SIGNATURE_HEADER = "X-Bitseg-Signature"
TIMESTAMP_HEADER = "X-Bitseg-Timestamp"
WEBHOOK_HEADER = "X-Bitseg-Webhook-Id"

_HOOK = b"h"
_CURSOR = b"c"
_STATUS = b"s"
_SEQ = struct.Struct(">Q")


# -- signatures ----------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Bitseg-Signature value: "sha256=" + hex HMAC-SHA256(secret, ts + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches (constant-time) and the timestamp is
    within `tolerance` seconds of `now` (which defeats replays of old deliveries)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    clock = time.time() if now is None else now
    if abs(clock - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# -- the registry --------------------------------------------------------------------------
@dataclass(frozen=True)
class WebhookRecord:
    """One endpoint as stored. `segments`: the segment ids it wants (None: every one)."""

    id: str
    url: str
    secret: str
    segments: tuple[str, ...] | None
    created_at: str

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "id": self.id,
                "url": self.url,
                "secret": self.secret,
                "segments": list(self.segments) if self.segments is not None else None,
                "created_at": self.created_at,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> WebhookRecord:
        data = orjson.loads(raw)
        segments = data.get("segments")
        return cls(
            id=data["id"],
            url=data["url"],
            secret=data["secret"],
            segments=tuple(segments) if segments is not None else None,
            created_at=data.get("created_at", ""),
        )


@dataclass(frozen=True)
class WebhookInfo:
    """An endpoint as listed (never its secret), with its delivery state."""

    id: str
    url: str
    segment_ids: tuple[str, ...]  # empty: every segment
    segment_names: tuple[str, ...]  # the current name of each (empty if deleted since)
    created_at: str
    delivered_seq: int  # the durable cursor: last seq acknowledged (or skipped by the filter)
    last_seq: int  # the org's last log seq
    last_error: str  # of the current batch's last failed attempt ("" when delivering fine)
    failures: int  # failed attempts of the current batch


@contextlib.contextmanager
def side_write(store: OrgStore) -> Iterator[lmdb.Transaction]:
    """A write transaction for "hooks" bookkeeping: no generation bump (no reader cache
    depends on it) and no commit listeners (an ack must not wake the org's watchers)."""
    with store.write_lock, store.env.begin(write=True) as txn:
        yield txn


def check_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise InvalidArgument("url: required")
    if len(url) > MAX_URL:
        raise InvalidArgument(f"url: at most {MAX_URL} characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f'url: "{url}" is not an http:// or https:// URL with a host')
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise InvalidArgument(f'url: "{url}" has an invalid port') from None
    if any(c.isspace() for c in url):
        raise InvalidArgument("url: must not contain whitespace")
    return url


def check_secret(secret: str) -> str:
    if not secret:
        raise InvalidArgument("secret: required (it keys the HMAC signature)")
    if len(secret) > MAX_SECRET:
        raise InvalidArgument(f"secret: at most {MAX_SECRET} characters")
    return secret


def add_webhook(
    store: OrgStore,
    url: str,
    secret: str,
    segments: list[str] | None,
    since: int | None,
    now: int | None = None,
) -> tuple[WebhookRecord, int]:
    """Register an endpoint; its cursor starts at `since`, default the log's current end
    (so it receives what happens from now on). Returns (record, cursor)."""
    url, secret = check_url(url), check_secret(secret)
    if segments is not None and len(segments) > MAX_SEGMENTS:
        raise InvalidArgument(f"segments: at most {MAX_SEGMENTS}")
    with side_write(store) as txn:
        if sum(1 for _ in _scan(store, txn, _HOOK)) >= MAX_WEBHOOKS:
            raise FailedPrecondition(f"an org has at most {MAX_WEBHOOKS} webhooks")
        ids: tuple[str, ...] | None = None
        if segments:
            catalog = Catalog(store, txn)
            ids = tuple(dict.fromkeys(catalog.get(ref).id for ref in segments))
        end = changelog.last_seq(store, txn)
        if since is not None and since > end:
            raise InvalidArgument(
                f"since: {since} is past the end of the change log (last seq {end})"
            )
        cursor = end if since is None else since
        record = WebhookRecord(
            id=ID_PREFIX + secrets.token_hex(6),
            url=url,
            secret=secret,
            segments=ids,
            created_at=format_time(int(time.time()) if now is None else now),
        )
        hooks = store.db["hooks"]
        txn.put(_HOOK + record.id.encode(), record.to_json(), db=hooks)
        txn.put(_CURSOR + record.id.encode(), _SEQ.pack(cursor), db=hooks)
    return record, cursor


def delete_webhook(store: OrgStore, webhook_id: str) -> bool:
    """Remove an endpoint and its cursor; False if there is none with that id."""
    with side_write(store) as txn:
        hooks = store.db["hooks"]
        found = txn.delete(_HOOK + webhook_id.encode(), db=hooks)
        txn.delete(_CURSOR + webhook_id.encode(), db=hooks)
        txn.delete(_STATUS + webhook_id.encode(), db=hooks)
    return bool(found)


def hook_exists(store: OrgStore, webhook_id: str) -> bool:
    with store.read() as txn:
        return txn.get(_HOOK + webhook_id.encode(), db=store.db["hooks"]) is not None


def save_status(store: OrgStore, webhook_id: str, last_error: str, failures: int) -> None:
    """Store an endpoint's delivery status (removed once delivery works again)."""
    with side_write(store) as txn:
        hooks = store.db["hooks"]
        if txn.get(_HOOK + webhook_id.encode(), db=hooks) is None:
            return
        key = _STATUS + webhook_id.encode()
        if failures:
            status = {"last_error": last_error, "failures": failures}
            txn.put(key, orjson.dumps(status), db=hooks)
        else:
            txn.delete(key, db=hooks)


def read_status(store: OrgStore, txn: lmdb.Transaction, webhook_id: str) -> tuple[str, int]:
    """(last_error, failures) as stored ("", 0 when delivering fine)."""
    raw = txn.get(_STATUS + webhook_id.encode(), db=store.db["hooks"])
    if raw is None:
        return "", 0
    status = orjson.loads(bytes(raw))
    return str(status.get("last_error", "")), int(status.get("failures", 0))


def read_webhooks(store: OrgStore) -> list[tuple[WebhookRecord, int]]:
    """Every endpoint of the org with its durable cursor, by id."""
    with store.read() as txn:
        return _webhooks(store, txn)


def _webhooks(store: OrgStore, txn: lmdb.Transaction) -> list[tuple[WebhookRecord, int]]:
    hooks = store.db["hooks"]
    out = []
    for key, value in _scan(store, txn, _HOOK):
        raw = txn.get(_CURSOR + key[len(_HOOK) :], db=hooks)
        cursor = _SEQ.unpack(bytes(raw))[0] if raw is not None else 0
        out.append((WebhookRecord.from_json(bytes(value)), cursor))
    return out


def save_cursor(store: OrgStore, webhook_id: str, seq: int) -> bool:
    """Advance an endpoint's durable cursor to `seq`; False if the endpoint is gone."""
    with side_write(store) as txn:
        hooks = store.db["hooks"]
        if txn.get(_HOOK + webhook_id.encode(), db=hooks) is None:
            return False
        raw = txn.get(_CURSOR + webhook_id.encode(), db=hooks)
        if raw is None or _SEQ.unpack(bytes(raw))[0] < seq:
            txn.put(_CURSOR + webhook_id.encode(), _SEQ.pack(seq), db=hooks)
    return True


def _scan(store: OrgStore, txn: lmdb.Transaction, prefix: bytes) -> Iterator[tuple[bytes, Any]]:
    cursor = txn.cursor(db=store.db["hooks"])
    if not cursor.set_range(prefix):
        return
    for key, value in cursor.iternext():
        key = bytes(key)
        if not key.startswith(prefix):
            return
        yield key, value


def next_batch(
    store: OrgStore, cursor: int, segments: frozenset[str] | None
) -> tuple[list[Entry], int]:
    """(the next entries to send, the seq the cursor may move to once they are acked)."""
    events: list[Entry] = []
    upto = cursor
    with store.read() as txn:
        for entry in changelog.read_after(store, txn, cursor, SCAN):
            seq = entry["seq"]
            assert isinstance(seq, int)
            upto = seq
            if segments is None or entry.get("segment_id") in segments:
                events.append(entry)
                if len(events) >= BATCH:
                    break
    return events, upto


# -- HTTP ----------------------------------------------------------------------------------
async def http_post(
    url: str, body: bytes, headers: dict[str, str], timeout: float = HTTP_TIMEOUT
) -> tuple[int, str]:
    """POST `body` to `url` (HTTP/1.1, Connection: close); (status, reason).
    Raises OSError / TimeoutError / ValueError on a transport or protocol failure."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    netloc = parts.netloc.rpartition("@")[2]
    lines = [f"POST {target} HTTP/1.1", f"Host: {netloc}"]
    if parts.username is not None:
        userinfo = f"{urllib.parse.unquote(parts.username)}:"
        userinfo += urllib.parse.unquote(parts.password or "")
        lines.append("Authorization: Basic " + base64.b64encode(userinfo.encode()).decode())
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    head = "\r\n".join(lines).encode("latin-1")
    context = ssl.create_default_context() if https else None
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(
            host, port, ssl=context, server_hostname=host if https else None
        )
        try:
            writer.write(head + body)
            await writer.drain()
            status_line = (await reader.readline()).decode("latin-1").strip()
            version, _, rest = status_line.partition(" ")
            code, _, reason = rest.partition(" ")
            if not version.startswith("HTTP/") or not code.isdigit():
                raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
            return int(code), reason
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


Poster = Callable[[str, bytes, dict[str, str]], Any]  # an awaitable of (status, reason)


# -- delivery ------------------------------------------------------------------------------
class _Gone(Exception):
    """The endpoint was deleted while its worker ran."""


class Worker:
    """Delivers one endpoint's events in order; runs until cancelled or deleted."""

    def __init__(
        self,
        org: str,
        store: OrgStore,
        record: WebhookRecord,
        cursor: int,
        signals: OrgSignals,
        writer: ThreadPoolExecutor,
    ) -> None:
        self.org = org
        self.store = store
        self.record = record
        self.cursor = cursor  # last seq acknowledged or filtered out
        self.durable = cursor  # the cursor as stored
        self.signals = signals
        self.writer = writer
        self.filter = frozenset(record.segments) if record.segments is not None else None
        self.failures = 0
        self.last_error = ""
        self.task: asyncio.Task[None] | None = None
        self.serial = 0  # order of creation, see Webhooks._sync

    async def run(self) -> None:
        errors = 0
        while not self.signals.closed:
            try:
                await self.step()
                errors = 0
            except _Gone:
                return
            except Exception as e:  # never die silently: log, back off, carry on
                log.exception("webhook %s (%s): delivery worker failed", self.record.id, self.org)
                self.last_error = f"internal error: {type(e).__name__}"
                await asyncio.sleep(backoff(errors))
                errors += 1

    async def step(self) -> None:
        """Deliver the next batch (or wait for one) and advance the cursor."""
        wake = self.signals.event(self.org)
        events, upto = next_batch(self.store, self.cursor, self.filter)
        if upto <= self.cursor:
            await self.signals.wait(wake)
            return
        if events:
            await self.deliver(events)
        elif upto - self.durable < SKIP_SAVE:
            # only filtered-out entries: no fsync per step; re-scanning them after a
            # restart sends nothing twice
            self.cursor = upto
            return
        loop = asyncio.get_running_loop()
        saved = loop.run_in_executor(
            self.writer, save_cursor, self.store, self.record.id, upto
        )
        if not await asyncio.shield(saved):  # shielded: a stop never loses a finished ack
            raise _Gone
        self.cursor = self.durable = upto

    async def deliver(self, events: list[Entry], post: Poster = http_post) -> None:
        """POST one batch until a 2xx answer, backing off between attempts."""
        body = orjson.dumps({"org": self.org, "webhook_id": self.record.id, "events": events})
        attempt = 0
        while True:
            if not hook_exists(self.store, self.record.id):
                raise _Gone  # deleted (maybe through another server process)
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"bitseg/{__version__}",
                WEBHOOK_HEADER: self.record.id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.record.secret, timestamp, body),
            }
            try:
                status, reason = await post(self.record.url, body, headers)
                if 200 <= status < 300:
                    if self.failures:
                        self.failures, self.last_error = 0, ""
                        await self._store_status()
                    return
                error = f"HTTP {status} {reason}".strip()
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as e:
                error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            self.failures += 1
            self.last_error = error
            await self._store_status()
            delay = backoff(attempt)
            log.warning(
                "webhook %s (%s): attempt %d for seq %s..%s failed (%s); retrying in %.1f s",
                self.record.id, self.org, attempt + 1, events[0]["seq"], events[-1]["seq"],
                error, delay,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def _store_status(self) -> None:
        """Store the status for `ListWebhooks` in every process (shielded like the cursor)."""
        loop = asyncio.get_running_loop()
        saved = loop.run_in_executor(
            self.writer, save_status, self.store, self.record.id, self.last_error, self.failures
        )
        await asyncio.shield(saved)


def backoff(attempt: int) -> float:
    """The wait before retry `attempt` + 1: 0.5 s doubling, capped at 60 s, jittered."""
    return min(BACKOFF_CAP, BACKOFF_START * 2 ** min(attempt, 30)) * random.uniform(0.5, 1.0)


class Webhooks:
    """Every endpoint's worker of one server; the registry RPCs go through here.
    With `deliver=False` (a server process other than the primary) no worker runs here."""

    def __init__(
        self,
        service: Service,
        writer: ThreadPoolExecutor,
        signals: OrgSignals,
        deliver: bool = True,
    ) -> None:
        self.service = service
        self.writer = writer
        self.signals = signals
        self.deliver = deliver
        self._workers: dict[tuple[str, str], Worker] = {}
        self._serial = 0
        self._deleted: set[tuple[str, str]] = set()  # deleted here: never started again
        self._sync: asyncio.Task[None] | None = None

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writer, partial(fn, *args))

    async def start(self) -> None:
        """Start a worker for every endpoint of every org in the data folder, then follow
        the registry (endpoints added or deleted through other server processes)."""
        if not self.deliver:
            return
        for org, store, hooks in await self._write(self._scan_orgs):
            for record, cursor in hooks:
                self._spawn(org, store, record, cursor)
        if self._workers:
            log.info("webhooks: %d delivery workers started", len(self._workers))
        self._sync = asyncio.get_running_loop().create_task(
            self._sync_forever(), name="webhook-registry"
        )

    async def _sync_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.signals.closed:
            await asyncio.sleep(REGISTRY_SYNC)
            serial = self._serial
            try:
                found = await loop.run_in_executor(None, self._scan_orgs)
            except Exception:
                log.exception("webhooks: reading the registry failed")
                continue
            self._reconcile(found, serial)

    def _reconcile(
        self, found: list[tuple[str, OrgStore, list[tuple[WebhookRecord, int]]]], serial: int
    ) -> None:
        """Start workers for endpoints found, stop those of endpoints gone (only workers
        started before the scan began: a newer one may be missing from it)."""
        present = {(org, record.id) for org, _, hooks in found for record, _ in hooks}
        for key, worker in list(self._workers.items()):
            if key not in present and worker.serial < serial and worker.task is not None:
                log.info("webhooks: %s (%s) was deleted: stopping its worker", key[1], key[0])
                worker.task.cancel()
        for org, store, hooks in found:
            for record, cursor in hooks:
                if (org, record.id) not in self._workers:
                    self._spawn(org, store, record, cursor)

    def _scan_orgs(self) -> list[tuple[str, OrgStore, list[tuple[WebhookRecord, int]]]]:
        found = []
        data_dir = self.service.data_dir
        for path in sorted(data_dir.iterdir()) if data_dir.is_dir() else []:
            if not (path / "data.mdb").exists():
                continue
            try:
                store = self.service.org_store(path.name)
            except (NotFound, InvalidArgument):
                continue
            hooks = read_webhooks(store)
            if hooks:
                found.append((path.name, store, hooks))
        return found

    def _spawn(self, org: str, store: OrgStore, record: WebhookRecord, cursor: int) -> None:
        key = (org, record.id)
        if key in self._workers or key in self._deleted or self.signals.closed:
            return
        worker = Worker(org, store, record, cursor, self.signals, self.writer)
        self._serial += 1
        worker.serial = self._serial
        worker.task = asyncio.get_running_loop().create_task(
            worker.run(), name=f"webhook-{org}-{record.id}"
        )
        worker.task.add_done_callback(lambda _t: self._forget(key, worker))
        self._workers[key] = worker

    def _forget(self, key: tuple[str, str], worker: Worker) -> None:
        if self._workers.get(key) is worker:
            del self._workers[key]

    async def stop(self) -> None:
        """Cancel every worker and wait for them (a delivery in flight is abandoned: its
        batch is sent again after the restart)."""
        if self._sync is not None:
            self._sync.cancel()
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()

    async def add(
        self,
        org: str,
        url: str,
        secret: str,
        segments: list[str] | None = None,
        since: int | None = None,
    ) -> WebhookInfo:
        check_url(url)
        check_secret(secret)
        store = self.service.org_store(org)
        record, cursor = await self._write(add_webhook, store, url, secret, segments, since)
        if self.deliver:
            self._spawn(org, store, record, cursor)
        return self._info(store, record, cursor)

    def list(self, org: str) -> list[WebhookInfo]:
        store = self.service.org_store(org)
        return [self._info(store, record, cursor) for record, cursor in read_webhooks(store)]

    async def delete(self, org: str, webhook_id: str) -> None:
        store = self.service.org_store(org)
        if not await self._write(delete_webhook, store, webhook_id):
            raise NotFound(f'webhook "{webhook_id}" does not exist')
        self._deleted.add((org, webhook_id))
        worker = self._workers.pop((org, webhook_id), None)
        if worker is not None and worker.task is not None:
            worker.task.cancel()
            await asyncio.gather(worker.task, return_exceptions=True)

    def _info(self, store: OrgStore, record: WebhookRecord, cursor: int) -> WebhookInfo:
        worker = self._workers.get((store.path.name, record.id))
        with store.read() as txn:
            last = changelog.last_seq(store, txn)
            catalog = Catalog(store, txn)
            ids = record.segments or ()
            names = tuple(
                (found.name if (found := catalog.by_id(i)) is not None else "") for i in ids
            )
            last_error, failures = read_status(store, txn, record.id)
        if worker is not None:  # this process delivers: its live state is the newest
            last_error, failures = worker.last_error, worker.failures
        return WebhookInfo(
            id=record.id,
            url=record.url,
            segment_ids=ids,
            segment_names=names,
            created_at=record.created_at,
            delivered_seq=max(cursor, worker.cursor if worker is not None else 0),
            last_seq=last,
            last_error=last_error,
            failures=failures,
        )
