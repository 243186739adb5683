"""The Python client: the public API other programs use to talk to a bitseg server.

>>> from bitseg.client import Client
>>> c = Client("127.0.0.1:50051")                                   # doctest: +SKIP
>>> c.load("acme", "folder/")                                       # doctest: +SKIP
>>> c.count("acme", 'country = "DE"', now="2026-11-20T12:00:00Z")   # doctest: +SKIP

Segments are managed with `create_segment`, `get_segment`, `list_segments`,
`update_segment`, `duplicate_segment`, `archive_segment`, `delete_segment`, `add_members`,
`remove_members`, `upsert_segments_by_name` and `export_to_list`, and read with
`count_segment`, `preview_segment`, `resolve_segment`, `list_members(..., segment=S)` and
`export_csv`; a segment is named by its id or its name.

The change log (`segment.joined` / `segment.left`) is read with `watch(org, since=seq)`
(an iterator of `ChangeEvent`, following live by default) and pushed to webhooks managed
with `add_webhook`, `list_webhooks` and `delete_webhook`.

Natural-language mode: `translate(org, "enterprise accounts in Germany ...")` returns
the rule with its count, the phrases not understood and the ambiguities.

A rule is a dict (the JSON form), a str (the text form), a rule model tree
(`bitseg.rules.model`, sent as a structured `RuleNode`) or a `bitseg.v1.Rule` message.
`count_stream()` holds one stream for many counts (a segment builder counting at every
keystroke): each count then costs about half of a unary `count` over gRPC.

`now` is an ISO-8601 string or a datetime (naive means UTC); None is the server clock.
Every failed call raises `BitsegClientError` with `.code` the `grpc.StatusCode` and the
server's message as `str(e)`. After every query `last_eval_micros` holds the
server-side evaluation time.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self, TypeVar

import grpc
import orjson

from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

DEFAULT_ADDRESS = "127.0.0.1:50051"
KINDS = ("contacts", "companies", "deals", "campaigns", "events")
CHUNK_BYTES = 1 << 20
MEMBER_BATCH = 100_000  # at most this many ids per CreateSegment / AddMembers / RemoveMembers
MEMBER_BATCH_BYTES = 2 << 20  # and about this many bytes (requests are limited to 4 MiB)
MAX_RECEIVE = 256 << 20

Progress = Callable[[int, int], None]  # (bytes sent so far, total bytes)
_SEGMENT_TYPES = {pb.SEGMENT_TYPE_DYNAMIC: "dynamic", pb.SEGMENT_TYPE_STATIC: "static"}
T = TypeVar("T")


class BitsegClientError(Exception):
    """A call the server refused or could not answer; `.code` is the grpc.StatusCode."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PreviewMember:
    id: str
    name: str | None
    email: str | None
    company: str | None


@dataclass(frozen=True)
class Preview:
    count: int
    members: list[PreviewMember]
    eval_micros: int


@dataclass(frozen=True)
class MemberPage:
    ids: list[str]
    next_cursor: str
    eval_micros: int


@dataclass(frozen=True)
class Segment:
    """A segment: `type` is "dynamic" (with `rule`, the JSON form, and `rule_text`) or
    "static". `unknown_members`: ids given to create_segment(members=...) that are no
    contact (nothing was stored for them)."""

    id: str
    name: str
    description: str
    type: str
    rule: dict[str, Any] | None
    rule_text: str
    archived: bool
    created_at: str
    updated_at: str
    unknown_members: tuple[str, ...] = ()


@dataclass(frozen=True)
class MembersResult:
    """What add_members (remove_members) did: `changed` contacts added (removed),
    `unchanged` ones already in (not in) the segment, `unknown` ids that are no contact
    (at most 1,000 listed per request; `unknown_count` counts them all)."""

    changed: int
    unchanged: int
    unknown: list[str]
    unknown_count: int


@dataclass(frozen=True)
class ChangeEvent:
    """One change log entry: `type` is "segment.joined" or "segment.left"; `seq` is
    gap-free per org (resume a watch with since=seq); `at` is ISO-8601 UTC; `cause` is
    "write", "time" or "segment"."""

    seq: int
    type: str
    segment_id: str
    segment: str
    contact_id: str
    at: str
    cause: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "type": self.type, "segment_id": self.segment_id,
            "segment": self.segment, "contact_id": self.contact_id, "at": self.at,
            "cause": self.cause,
        }


@dataclass(frozen=True)
class Webhook:
    """A webhook endpoint (never its secret) and its delivery state: `delivered_seq` is
    its durable cursor; deliveries are pending while it is below `last_seq`;
    `last_error` / `failures` describe the batch being retried (empty / 0 when fine)."""

    id: str
    url: str
    segment_ids: tuple[str, ...]
    segment_names: tuple[str, ...]
    created_at: str
    delivered_seq: int
    last_seq: int
    last_error: str
    failures: int


@dataclass(frozen=True)
class Phrase:
    """Words of a translated sentence: text = sentence[start:end] (-1: not located)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Ambiguity:
    """A phrase with several readings: the one used and the others, as rule text."""

    phrase: Phrase
    chosen: str
    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class Translation:
    """What `translate` returns: the rule (`rule` JSON, `text`; None / "" when nothing
    was understood), its live `count` (None if not counted), the phrases not understood,
    the ambiguities, notes on assumptions, parts `rejected` by validation, which
    `translator` made it ("offline" or "model") and the server-side time."""

    rule: dict[str, Any] | None
    text: str
    count: int | None
    not_understood: tuple[Phrase, ...]
    ambiguities: tuple[Ambiguity, ...]
    notes: tuple[str, ...]
    rejected: tuple[str, ...]
    translator: str
    eval_micros: int


@dataclass(frozen=True)
class ServerInfo:
    """The server process that answered (`bitseg serve --workers N`: one of N)."""

    pid: int
    worker: int  # 0: the primary
    workers: int
    primary: bool
    version: str


def default_address() -> str:
    """$BITSEG_SERVER, else 127.0.0.1:50051."""
    return os.environ.get("BITSEG_SERVER") or DEFAULT_ADDRESS


def rule_message(rule: object) -> pb.Rule:
    """The wire form of a rule given as dict, str, model tree or proto message."""
    message = pb.Rule()
    put_rule(message, rule)
    return message


def put_rule(out: pb.Rule, rule: object) -> None:
    """Fill `out` in place (CopyFrom, never the constructor: it re-parses nested messages)."""
    if isinstance(rule, pb.Rule):
        out.CopyFrom(rule)
    elif isinstance(rule, pb.RuleNode):
        out.node.CopyFrom(rule)
    elif isinstance(rule, str):
        out.text = rule
    elif isinstance(rule, Mapping):
        out.json = orjson.dumps(rule).decode()
    elif is_dataclass(rule) and not isinstance(rule, type):
        from bitseg.server.rule_proto import to_proto

        out.node.CopyFrom(to_proto(rule))  # type: ignore[arg-type]
    else:
        raise TypeError(f"a rule is a dict, a str or a rule tree, got {type(rule).__name__}")


def now_text(now: str | datetime | None) -> str:
    """A request's `now`: ISO-8601 text, "" for the server clock."""
    if now is None:
        return ""
    if isinstance(now, datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return now


def find_sources(folder: Path) -> list[tuple[str, Path]]:
    """(kind, path) of every contacts/companies/deals/campaigns/events .jsonl or .csv file."""
    found = []
    for kind in KINDS:
        for ext in (".jsonl", ".csv"):
            path = folder / f"{kind}{ext}"
            if path.is_file():
                found.append((kind, path))
    return found


def unpack_ids(data: bytes) -> list[str]:
    """The ids of one packed resolve chunk (newline-separated UTF-8)."""
    return data.decode().split("\n") if data else []


def _records_messages(
    org: str, records: Iterable[Mapping[str, Any]], kind: str, op: str
) -> Iterator[pb.IngestRequest]:
    for record in records:
        yield pb.IngestRequest(
            org=org, record=pb.Record(kind=kind, op=op, json=orjson.dumps(record).decode())
        )


class _Closable:
    """`with` closes it."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Client(_Closable):
    """A synchronous client over one gRPC channel; a context manager, or call `close()`."""

    def __init__(
        self,
        address: str | None = None,
        timeout: float | None = 30.0,
        ingest_timeout: float | None = None,
    ) -> None:
        self.address = address or default_address()
        self.timeout = timeout
        self.ingest_timeout = ingest_timeout
        self.last_eval_micros = 0
        self.last_ingest_seconds = 0.0
        self._channel = grpc.insecure_channel(
            self.address,
            options=[
                ("grpc.max_receive_message_length", MAX_RECEIVE),
                ("grpc.max_send_message_length", -1),
                # a connection of its own per Client (not one shared by every channel of
                # the process to this address), so clients spread over a server's workers
                ("grpc.use_local_subchannel_pool", 1),
            ],
        )
        self._stub = pb_grpc.BitsegStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def _call(self, fn: Callable[..., T], request: Any, timeout: float | None = None) -> T:
        try:
            return fn(request, timeout=timeout if timeout is not None else self.timeout)
        except grpc.RpcError as e:
            raise _client_error(e) from None

    # ------------------------------------------------------------------ queries

    def count(self, org: str, rule: object, now: str | datetime | None = None) -> int:
        """The number of contacts matching `rule`."""
        return self.count_with_time(org, rule, now)[0]

    def count_with_time(
        self, org: str, rule: object, now: str | datetime | None = None
    ) -> tuple[int, int]:
        """(count, server-side evaluation time in microseconds)."""
        response = self._call(self._stub.Count, count_request(org, rule, now))
        self.last_eval_micros = response.eval_micros
        return response.count, response.eval_micros

    def count_stream(self, timeout: float | None = None) -> CountStream:
        """A held stream for many counts, answered in order (close it, or use `with`);
        `timeout` bounds the stream's whole life (None: no deadline)."""
        return CountStream(self._stub, timeout)

    def preview(
        self, org: str, rule: object, limit: int = 10, now: str | datetime | None = None
    ) -> Preview:
        """The count and the first `limit` members (id, name, email, company)."""
        request = pb.PreviewRequest(org=org, now=now_text(now), limit=limit)
        put_rule(request.rule, rule)
        return self._preview(request)

    def _preview(self, request: pb.PreviewRequest) -> Preview:
        response = self._call(self._stub.Preview, request)
        self.last_eval_micros = response.eval_micros
        members = [
            PreviewMember(
                id=m.id,
                name=m.name if m.HasField("name") else None,
                email=m.email if m.HasField("email") else None,
                company=m.company if m.HasField("company") else None,
            )
            for m in response.members
        ]
        return Preview(response.count, members, response.eval_micros)

    def resolve(self, org: str, rule: object, now: str | datetime | None = None) -> list[str]:
        """Every member's external id (streamed, packed chunks)."""
        request = pb.ResolveRequest(org=org, now=now_text(now), packed=True)
        put_rule(request.rule, rule)
        return self._resolve(request)

    def _resolve(self, request: pb.ResolveRequest) -> list[str]:
        ids: list[str] = []
        try:
            for chunk in self._stub.Resolve(request, timeout=self.timeout):
                if chunk.eval_micros:
                    self.last_eval_micros = chunk.eval_micros
                if chunk.ids_packed:
                    ids.extend(unpack_ids(chunk.ids_packed))
                elif chunk.ids:
                    ids.extend(chunk.ids)
        except grpc.RpcError as e:
            raise _client_error(e) from None
        return ids

    def list_members(
        self,
        org: str,
        rule: object = None,
        cursor: str = "",
        page_size: int = 100,
        now: str | datetime | None = None,
        *,
        segment: str | None = None,
    ) -> MemberPage:
        """One page of member ids of `rule`, or of `segment` (id or name); pass `next_cursor`
        back for the next page ("" when done; a page after the last is empty)."""
        request = pb.ListMembersRequest(
            org=org, now=now_text(now), cursor=cursor, page_size=page_size
        )
        _select(request, rule, segment)
        response = self._call(self._stub.ListMembers, request)
        self.last_eval_micros = response.eval_micros
        return MemberPage(list(response.ids), response.next_cursor, response.eval_micros)

    def parse_rule(self, rule: object, org: str | None = None) -> dict[str, str]:
        """{"json": canonical JSON text, "text": text form}; with `org`, schema-checked."""
        request = pb.ParseRuleRequest(org=org or "")
        put_rule(request.rule, rule)
        response = self._call(self._stub.ParseRule, request)
        return {"json": response.json, "text": response.text}

    def translate(
        self, org: str, sentence: str, now: str | datetime | None = None, offline: bool = False
    ) -> Translation:
        """Natural-language mode: the rule `sentence` describes, validated against the org,
        with its live count, the phrases not understood and the ambiguities; `offline`
        skips the server's language model, if it has one."""
        request = pb.TranslateRequest(
            org=org, sentence=sentence, now=now_text(now), offline=offline
        )
        response = self._call(self._stub.Translate, request)
        self.last_eval_micros = response.eval_micros
        return Translation(
            rule=orjson.loads(response.json) if response.json else None,
            text=response.text,
            count=response.count if response.HasField("count") else None,
            not_understood=tuple(_phrase(p) for p in response.not_understood),
            ambiguities=tuple(
                Ambiguity(_phrase(a.phrase), a.chosen, tuple(a.alternatives))
                for a in response.ambiguities
            ),
            notes=tuple(response.notes),
            rejected=tuple(response.rejected),
            translator=response.translator,
            eval_micros=response.eval_micros,
        )

    # ------------------------------------------------------------------ segments
    # A segment is named by its id or its name everywhere.

    def create_segment(
        self,
        org: str,
        name: str,
        rule: object = None,
        members: Iterable[str] | None = None,
        description: str = "",
    ) -> Segment:
        """A dynamic segment (`rule`) or a static one (`members`, or neither: empty).

        Many members are sent in several requests (the first creates the segment)."""
        if rule is not None and members is not None:
            raise ValueError("a segment has a rule (dynamic) or members (static), not both")
        request = pb.CreateSegmentRequest(org=org, name=name, description=description)
        batches = _batches(members if members is not None else (), MEMBER_BATCH)
        if rule is not None:
            put_rule(request.rule, rule)
            batches = iter(())
        else:
            request.members.extend(next(batches))
        response = self._call(self._stub.CreateSegment, request)
        unknown = list(response.members.unknown)
        for batch in batches:
            more = pb.AddMembersRequest(org=org, segment=response.segment.id, ids=batch)
            unknown.extend(self._call(self._stub.AddMembers, more).unknown)
        return _segment(response.segment, tuple(unknown))

    def get_segment(self, org: str, segment: str) -> Segment:
        request = pb.GetSegmentRequest(org=org, segment=segment)
        return _segment(self._call(self._stub.GetSegment, request))

    def membership_at(self, org: str, segment: str, at: str | datetime) -> list[str]:
        """Who was in `segment` at time `at` (from the change log), as sorted ids."""
        request = pb.MembershipAtRequest(org=org, segment=segment, at=now_text(at))
        return list(self._call(self._stub.MembershipAt, request).ids)

    def list_segments(self, org: str, include_archived: bool = False) -> list[Segment]:
        """Every segment of the org, ordered by name; archived ones only on request."""
        request = pb.ListSegmentsRequest(org=org, include_archived=include_archived)
        return [_segment(s) for s in self._call(self._stub.ListSegments, request).segments]

    def update_segment(
        self,
        org: str,
        segment: str,
        *,
        name: str | None = None,
        description: str | None = None,
        rule: object = None,
    ) -> Segment:
        """Change the name, description and (dynamic segments) rule; None leaves it as is."""
        request = pb.UpdateSegmentRequest(org=org, segment=segment)
        if name is not None:
            request.name = name
        if description is not None:
            request.description = description
        if rule is not None:
            put_rule(request.rule, rule)
        return _segment(self._call(self._stub.UpdateSegment, request))

    def duplicate_segment(self, org: str, segment: str, name: str | None = None) -> Segment:
        """A copy named `name`, default "<name> (copy)"."""
        request = pb.DuplicateSegmentRequest(org=org, segment=segment, name=name or "")
        return _segment(self._call(self._stub.DuplicateSegment, request))

    def archive_segment(self, org: str, segment: str, unarchive: bool = False) -> Segment:
        """Hide a segment from list_segments (it keeps working); `unarchive=True` undoes it."""
        request = pb.ArchiveSegmentRequest(org=org, segment=segment, unarchive=unarchive)
        return _segment(self._call(self._stub.ArchiveSegment, request))

    def unarchive_segment(self, org: str, segment: str) -> Segment:
        return self.archive_segment(org, segment, unarchive=True)

    def delete_segment(self, org: str, segment: str) -> None:
        """Delete a segment (FAILED_PRECONDITION while other segments reference it)."""
        self._call(self._stub.DeleteSegment, pb.DeleteSegmentRequest(org=org, segment=segment))

    def add_members(self, org: str, segment: str, ids: Iterable[str]) -> MembersResult:
        """Add contacts (by id) to a static segment, sent in requests of MEMBER_BATCH ids."""
        return self._members(self._stub.AddMembers, pb.AddMembersRequest, org, segment, ids)

    def remove_members(self, org: str, segment: str, ids: Iterable[str]) -> MembersResult:
        """Remove contacts (by id) from a static segment."""
        return self._members(
            self._stub.RemoveMembers, pb.RemoveMembersRequest, org, segment, ids
        )

    def _members(
        self, call: Any, message: Any, org: str, segment: str, ids: Iterable[str]
    ) -> MembersResult:
        changed = unchanged = unknown_count = 0
        unknown: list[str] = []
        for batch in _batches(ids, MEMBER_BATCH):
            response = self._call(call, message(org=org, segment=segment, ids=batch))
            changed += response.changed
            unchanged += response.unchanged
            unknown.extend(response.unknown)
            unknown_count += response.unknown_count
        return MembersResult(changed, unchanged, unknown, unknown_count)

    def upsert_segments_by_name(self, org: str, names: Iterable[str]) -> list[str]:
        """The segment id of each name, in order; missing ones are created (empty, static)."""
        request = pb.UpsertSegmentsByNameRequest(org=org, names=list(names))
        return list(self._call(self._stub.UpsertSegmentsByName, request).ids)

    def export_to_list(
        self,
        org: str,
        segment: str,
        name: str | None = None,
        now: str | datetime | None = None,
    ) -> Segment:
        """Freeze `segment`'s current members into a new static segment (returned)."""
        request = pb.ExportToListRequest(
            org=org, segment=segment, name=name or "", now=now_text(now)
        )
        response = self._call(self._stub.ExportToList, request)
        self.last_eval_micros = response.eval_micros
        return _segment(response.segment)

    def count_segment(self, org: str, segment: str, now: str | datetime | None = None) -> int:
        """The number of members of a segment."""
        request = pb.CountRequest(org=org, segment=segment, now=now_text(now))
        response = self._call(self._stub.Count, request)
        self.last_eval_micros = response.eval_micros
        return response.count

    def preview_segment(
        self, org: str, segment: str, limit: int = 10, now: str | datetime | None = None
    ) -> Preview:
        """A segment's count and first `limit` members (id, name, email, company)."""
        request = pb.PreviewRequest(org=org, segment=segment, now=now_text(now), limit=limit)
        return self._preview(request)

    def resolve_segment(
        self, org: str, segment: str, now: str | datetime | None = None
    ) -> list[str]:
        """Every member id of a segment (streamed, packed chunks)."""
        request = pb.ResolveRequest(org=org, segment=segment, now=now_text(now), packed=True)
        return self._resolve(request)

    def export_csv(
        self,
        org: str,
        segment: str | None = None,
        out: str | Path | BinaryIO | None = None,
        *,
        rule: object = None,
        now: str | datetime | None = None,
    ) -> bytes | int:
        """Members of `segment` (or `rule`) as CSV: id,name,email,company.

        With `out` (a path or a binary file) the CSV is streamed into it and the number of
        members is returned; without, the whole CSV is returned as bytes.
        """
        request = pb.ExportMembersCsvRequest(org=org, now=now_text(now))
        _select(request, rule, segment)
        if out is None:
            sink = io.BytesIO()
            self._export_csv(request, sink)
            return sink.getvalue()
        if isinstance(out, str | Path):
            with open(out, "wb") as f:
                return self._export_csv(request, f)
        return self._export_csv(request, out)

    def _export_csv(self, request: pb.ExportMembersCsvRequest, sink: BinaryIO) -> int:
        total = 0
        try:
            for chunk in self._stub.ExportMembersCsv(request, timeout=self.timeout):
                if chunk.eval_micros or chunk.total:
                    self.last_eval_micros = chunk.eval_micros
                    total = chunk.total
                sink.write(chunk.data)
        except grpc.RpcError as e:
            raise _client_error(e) from None
        return total

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        org: str,
        records: Iterable[Mapping[str, Any]],
        kind: str = "contacts",
        op: str = "upsert",
    ) -> dict[str, dict[str, int]]:
        """Apply records (dicts) of one kind as one atomic batch; op is upsert|patch|delete."""
        messages = _records_messages(org, records, kind, op)
        return self._ingest(_with_org(org, messages))

    def declare_fields(self, org: str, fields: Mapping[str, str]) -> dict[str, dict[str, int]]:
        """Declare custom contact fields {name: keyword|set|text|int|time|bool}."""
        message = pb.IngestRequest(org=org, schema=pb.SchemaDeclaration(custom_fields=fields))
        return self._ingest(iter([message]))

    def load(
        self,
        org: str,
        folder: str | Path,
        progress: Progress | None = None,
        schema: Mapping[str, str] | None = None,
    ) -> dict[str, dict[str, int]]:
        """Ingest every source file found in `folder` (plus its schema.json) as one batch.

        Returns the per-kind counts {"contacts": {"upserted": n, "patched": n, "deleted": n}}.
        `progress(sent, total)` is called as bytes go out.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"no such folder: {folder}")
        sources = find_sources(folder)
        declared = dict(_read_schema(folder / "schema.json"))
        declared.update(schema or {})
        if not sources and not declared:
            raise FileNotFoundError(
                f"{folder}: no contacts/companies/deals/campaigns/events .jsonl or .csv"
            )
        return self._ingest(_file_messages(org, sources, declared, progress))

    def _ingest(self, messages: Iterator[pb.IngestRequest]) -> dict[str, dict[str, int]]:
        try:
            response = self._stub.Ingest(messages, timeout=self.ingest_timeout)
        except grpc.RpcError as e:
            raise _client_error(e) from None
        self.last_ingest_seconds = response.seconds
        return {
            kind: {f.name: getattr(counts, f.name) for f in counts.DESCRIPTOR.fields}
            for kind, counts in sorted(response.applied.items())
        }

    # ------------------------------------------------------------------ change log

    def watch(
        self,
        org: str,
        since: int = 0,
        follow: bool = True,
        *,
        reconnect: bool = False,
        max_backoff: float = 10.0,
    ) -> Iterator[ChangeEvent]:
        """The org's change log entries with seq > `since`, in order; with `follow` (the
        default) the iterator then waits for new ones and never ends by itself.

        With `reconnect`, an UNAVAILABLE stream (server restart, network) is resumed
        with since=<last seq yielded>, after waits of 0.5 s doubling to `max_backoff`:
        no gap, no duplicate. Closing the iterator (or `break`) cancels the call."""
        last = since
        delay = 0.5
        while True:
            request = pb.WatchRequest(org=org, since=last, follow=follow)
            call = self._stub.Watch(request, timeout=None)
            try:
                for message in call:
                    for item in message.events:
                        event = _change_event(item)
                        last, delay = event.seq, 0.5
                        yield event
                return
            except grpc.RpcError as e:
                error = _client_error(e)
                if not reconnect or error.code != grpc.StatusCode.UNAVAILABLE:
                    raise error from None
            finally:
                call.cancel()
            time.sleep(delay)
            delay = min(max_backoff, delay * 2)

    def add_webhook(
        self,
        org: str,
        url: str,
        secret: str,
        segments: Iterable[str] | None = None,
        since: int | None = None,
    ) -> str:
        """Register an endpoint receiving the org's change log as signed JSON POSTs;
        returns its id. `segments` (ids or names) filters what it receives; `since`
        replays from a seq (default: only what happens from now on)."""
        request = pb.AddWebhookRequest(org=org, url=url, secret=secret)
        if segments is not None:
            if isinstance(segments, str):
                raise TypeError("segments: expected an iterable of segment ids or names")
            request.segments.extend(segments)
        if since is not None:
            request.since = since
        return self._call(self._stub.AddWebhook, request).id

    def list_webhooks(self, org: str) -> list[Webhook]:
        response = self._call(self._stub.ListWebhooks, pb.ListWebhooksRequest(org=org))
        return [_webhook(w) for w in response.webhooks]

    def delete_webhook(self, org: str, webhook_id: str) -> None:
        """Remove an endpoint and stop its deliveries (NOT_FOUND for an unknown id)."""
        self._call(self._stub.DeleteWebhook, pb.DeleteWebhookRequest(org=org, id=webhook_id))

    # ------------------------------------------------------------------ health

    def server_info(self) -> ServerInfo:
        """Which server process this client's connection reached (pid, worker index)."""
        r = self._call(self._stub.ServerInfo, pb.ServerInfoRequest())
        return ServerInfo(r.pid, r.worker, r.workers, r.primary, r.version)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the channel is connected (raises BitsegClientError UNAVAILABLE)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise BitsegClientError(
                grpc.StatusCode.UNAVAILABLE, f"no bitseg server at {self.address}"
            ) from None


_END_OF_REQUESTS = object()
CLOSE_TIMEOUT = 5.0  # seconds `CountStream.close` waits for the server to end the stream


class CountStream(_Closable):
    """Counts over one held gRPC stream (`Client.count_stream()`).

    Each `count` sends one request and waits for its answer, so calls from several
    threads are taken one at a time. A refused request raises `BitsegClientError` as a
    unary count would and the stream stays usable; a broken stream (the server gone,
    the deadline passed) raises and is closed.
    """

    def __init__(self, stub: pb_grpc.BitsegStub, timeout: float | None = None) -> None:
        self.last_eval_micros = 0
        self._requests: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._responses = stub.CountStream(
            iter(self._requests.get, _END_OF_REQUESTS), timeout=timeout
        )
        self._lock = threading.Lock()
        self._closed = False
        # grpc's thread feeding the requests waits on the queue: a stream dropped without
        # close() must still end it (called once: by _close or at collection)
        self._end_requests = weakref.finalize(self, self._requests.put, _END_OF_REQUESTS)

    def count(self, org: str, rule: object, now: str | datetime | None = None) -> int:
        """The number of contacts matching `rule`."""
        return self._ask(count_request(org, rule, now))[0]

    def count_with_time(
        self, org: str, rule: object, now: str | datetime | None = None
    ) -> tuple[int, int]:
        """(count, server-side evaluation time in microseconds)."""
        return self._ask(count_request(org, rule, now))

    def count_segment(self, org: str, segment: str, now: str | datetime | None = None) -> int:
        """The number of members of a segment."""
        return self._ask(pb.CountRequest(org=org, segment=segment, now=now_text(now)))[0]

    def _ask(self, request: pb.CountRequest) -> tuple[int, int]:
        with self._lock:
            if self._closed:
                raise BitsegClientError(grpc.StatusCode.CANCELLED, "the count stream is closed")
            try:
                self._requests.put(request)
                response = next(self._responses)
            except grpc.RpcError as e:
                self._close()
                raise _client_error(e) from None
            except StopIteration:
                self._close()
                raise BitsegClientError(
                    grpc.StatusCode.UNAVAILABLE, "the server ended the count stream"
                ) from None
            except BaseException:  # interrupted mid-answer: later answers would be out of step
                self._close()
                raise
        if response.error_code:
            code = getattr(grpc.StatusCode, response.error_code, grpc.StatusCode.UNKNOWN)
            raise BitsegClientError(code, response.error or response.error_code)
        self.last_eval_micros = response.eval_micros
        return response.count, response.eval_micros

    def close(self) -> None:
        """End the stream (idempotent): the server is told there is nothing more to count
        and ends it; cancelled if it has not within CLOSE_TIMEOUT, or at once while another
        thread's count is still waiting for its answer (that count then raises)."""
        if self._lock.acquire(timeout=CLOSE_TIMEOUT):
            try:
                self._close(graceful=True)
            finally:
                self._lock.release()
        else:
            self._close()

    def _close(self, graceful: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        self._end_requests()
        if graceful:
            with contextlib.suppress(
                grpc.RpcError, grpc.FutureTimeoutError, grpc.FutureCancelledError
            ):
                self._responses.result(timeout=CLOSE_TIMEOUT)
        self._responses.cancel()  # nothing once the stream has ended


def count_request(org: str, rule: object, now: str | datetime | None) -> pb.CountRequest:
    request = pb.CountRequest(org=org, now=now_text(now))
    put_rule(request.rule, rule)
    return request


def _select(request: Any, rule: object, segment: str | None) -> None:
    """Fill a query's selector: `segment` (id or name) or `rule`, exactly one."""
    if (rule is None) == (segment is None):
        raise ValueError("give a rule or a segment (exactly one)")
    if segment is not None:
        request.segment = segment
    else:
        put_rule(request.rule, rule)


def _segment(message: pb.Segment, unknown: tuple[str, ...] = ()) -> Segment:
    return Segment(
        id=message.id,
        name=message.name,
        description=message.description,
        type=_SEGMENT_TYPES.get(message.type, "unspecified"),
        rule=orjson.loads(message.rule_json) if message.rule_json else None,
        rule_text=message.rule_text,
        archived=message.archived,
        created_at=message.created_at,
        updated_at=message.updated_at,
        unknown_members=unknown,
    )


def _change_event(message: pb.ChangeEvent) -> ChangeEvent:
    return ChangeEvent(
        seq=message.seq,
        type=message.type,
        segment_id=message.segment_id,
        segment=message.segment,
        contact_id=message.contact_id,
        at=message.at,
        cause=message.cause,
    )


def _webhook(message: pb.Webhook) -> Webhook:
    return Webhook(
        id=message.id,
        url=message.url,
        segment_ids=tuple(message.segment_ids),
        segment_names=tuple(message.segment_names),
        created_at=message.created_at,
        delivered_seq=message.delivered_seq,
        last_seq=message.last_seq,
        last_error=message.last_error,
        failures=message.failures,
    )


def _phrase(message: pb.Phrase) -> Phrase:
    return Phrase(message.text, message.start, message.end)


def _batches(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    """`ids` in lists of at most `size` ids and about MEMBER_BATCH_BYTES; at least one
    (possibly empty) list."""
    if isinstance(ids, str):
        raise TypeError("ids: expected an iterable of ids, got one string")
    batch: list[str] = []
    nbytes = 0
    sent = False
    for ext_id in ids:
        batch.append(ext_id)
        nbytes += len(ext_id.encode()) + 3
        if len(batch) >= size or nbytes >= MEMBER_BATCH_BYTES:
            yield batch
            sent = True
            batch, nbytes = [], 0
    if batch or not sent:
        yield batch


def _with_org(org: str, messages: Iterator[pb.IngestRequest]) -> Iterator[pb.IngestRequest]:
    """Make sure a stream has at least its first message (naming the org)."""
    first = next(messages, None)
    yield first if first is not None else pb.IngestRequest(org=org)
    yield from messages


def _read_schema(path: Path) -> Mapping[str, str]:
    if not path.is_file():
        return {}
    data = orjson.loads(path.read_bytes())
    custom = data.get("custom_fields", {}) if isinstance(data, dict) else None
    if not isinstance(custom, dict):
        raise ValueError(f'{path}: expected {{"custom_fields": {{name: type}}}}')
    return {str(k): str(v) for k, v in custom.items()}


def _file_messages(
    org: str,
    sources: list[tuple[str, Path]],
    schema: Mapping[str, str],
    progress: Progress | None,
) -> Iterator[pb.IngestRequest]:
    total = sum(path.stat().st_size for _, path in sources)
    sent = 0
    yield pb.IngestRequest(org=org, schema=pb.SchemaDeclaration(custom_fields=schema))
    if progress:
        progress(sent, total)
    for kind, path in sources:
        fmt = "csv" if path.suffix == ".csv" else "jsonl"
        with path.open("rb") as f:
            while data := f.read(CHUNK_BYTES):
                chunk = pb.FileChunk(kind=kind, name=path.name, format=fmt, data=data)
                yield pb.IngestRequest(file=chunk)
                sent += len(data)
                if progress:
                    progress(sent, total)


def _client_error(error: grpc.RpcError) -> BitsegClientError:
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    return BitsegClientError(code, details or code.name)
