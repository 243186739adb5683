"""The Python client: the public API other programs use to talk to a bitseg server.

>>> from bitseg.client import Client
>>> c = Client("127.0.0.1:50051")                                   # doctest: +SKIP
>>> c.load("acme", "folder/")                                       # doctest: +SKIP
>>> c.count("acme", 'country = "DE"', now="2026-11-20T12:00:00Z")   # doctest: +SKIP

A rule is a dict (the JSON form), a str (the text form), a rule model tree
(`bitseg.rules.model`, sent as a structured `RuleNode`) or a `bitseg.v1.Rule` message.
`now` is an ISO-8601 string or a datetime (naive means UTC); None is the server clock.
Every failed call raises `BitsegClientError` with `.code` the `grpc.StatusCode` and the
server's message as `str(e)`. After every query `last_eval_micros` holds the
server-side evaluation time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import grpc
import orjson

from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

DEFAULT_ADDRESS = "127.0.0.1:50051"
KINDS = ("contacts", "companies", "deals", "campaigns", "events")
CHUNK_BYTES = 1 << 20
MAX_RECEIVE = 256 << 20

Progress = Callable[[int, int], None]  # (bytes sent so far, total bytes)
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


class Client:
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
            ],
        )
        self._stub = pb_grpc.BitsegStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
        request = pb.CountRequest(org=org, now=now_text(now))
        put_rule(request.rule, rule)
        response = self._call(self._stub.Count, request)
        self.last_eval_micros = response.eval_micros
        return response.count, response.eval_micros

    def preview(
        self, org: str, rule: object, limit: int = 10, now: str | datetime | None = None
    ) -> Preview:
        """The count and the first `limit` members (id, name, email, company)."""
        request = pb.PreviewRequest(org=org, now=now_text(now), limit=limit)
        put_rule(request.rule, rule)
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
        rule: object,
        cursor: str = "",
        page_size: int = 100,
        now: str | datetime | None = None,
    ) -> MemberPage:
        """One page of member ids; pass `next_cursor` back for the next ("" when done)."""
        request = pb.ListMembersRequest(
            org=org, now=now_text(now), cursor=cursor, page_size=page_size
        )
        put_rule(request.rule, rule)
        response = self._call(self._stub.ListMembers, request)
        self.last_eval_micros = response.eval_micros
        return MemberPage(list(response.ids), response.next_cursor, response.eval_micros)

    def parse_rule(self, rule: object, org: str | None = None) -> dict[str, str]:
        """{"json": canonical JSON text, "text": text form}; with `org`, schema-checked."""
        request = pb.ParseRuleRequest(org=org or "")
        put_rule(request.rule, rule)
        response = self._call(self._stub.ParseRule, request)
        return {"json": response.json, "text": response.text}

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

    # ------------------------------------------------------------------ health

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until the channel is connected (raises BitsegClientError UNAVAILABLE)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise BitsegClientError(
                grpc.StatusCode.UNAVAILABLE, f"no bitseg server at {self.address}"
            ) from None


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
