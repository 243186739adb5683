"""The `bitseg.v1.Bitseg` servicer: decode the request, call `Service`, encode the answer.

Every method runs on one of the gRPC server's threads (bitseg.server.app): reads
inline, writes (`Service.ingest`, segment changes) handed to the one writer thread and
waited for, because an LMDB write transaction is bound to the thread that began it.
Errors are not handled here: they propagate to the error mapping in
`bitseg.server.errors`, the one place they become gRPC statuses.
"""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import grpc

from bitseg import __version__
from bitseg.errors import InvalidArgument
from bitseg.rules import rule_to_json_text, to_text, validate
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule
from bitseg.server import rule_proto
from bitseg.server.change_rpcs import ChangeRpcs
from bitseg.server.errors import answers_each_request, check_request, error_status
from bitseg.server.ingest import IngestBatch
from bitseg.server.nl_rpcs import NlRpcs
from bitseg.server.role import ServerRole
from bitseg.server.rulecache import RuleCache
from bitseg.server.segment_rpcs import SegmentRpcs, selected_rule
from bitseg.server.streamslots import held_slot
from bitseg.server.wire import decode_rule, micros, parse_now
from bitseg.service import Service
from bitseg.store.idblocks import pack_strs
from bitseg.v1 import bitseg_pb2 as pb
from bitseg.v1 import bitseg_pb2_grpc as pb_grpc

DEFAULT_PREVIEW = 10
MAX_PREVIEW = 1000
DEFAULT_PAGE = 100
MAX_PAGE = 1000
CHUNK_BYTES = 1 << 20  # aim for resolve chunks of about 1 MiB on the wire

Query = pb.CountRequest | pb.PreviewRequest | pb.ResolveRequest | pb.ListMembersRequest


def _org(org: str) -> str:
    if not org:
        raise InvalidArgument("org: required")
    return org


def _bounded(value: int, default: int, maximum: int, name: str) -> int:
    if value == 0:
        return default
    if value > maximum:
        raise InvalidArgument(f"{name}: at most {maximum}, got {value}")
    return value


def _split(ids: list[str], size: int) -> Iterator[list[str]]:
    """Split one id list into pieces of about CHUNK_BYTES (`size` = its byte estimate)."""
    pieces = max(1, -(-size // CHUNK_BYTES))
    step = max(1, -(-len(ids) // pieces))
    for start in range(0, len(ids), step):
        yield ids[start : start + step]


def _chunks(ids_chunks: Iterable[list[str] | bytes], packed: bool) -> Iterator[pb.ResolveChunk]:
    """Resolve chunks of id lists, or of pieces the service already packed (bytes)."""
    for ids in ids_chunks:
        if isinstance(ids, bytes):
            yield pb.ResolveChunk(ids_packed=ids)
        elif packed:
            for piece in pack_strs(ids, CHUNK_BYTES):
                yield pb.ResolveChunk(ids_packed=piece)
        else:
            for piece in _split(ids, sum(map(len, ids)) + 3 * len(ids)):
                yield pb.ResolveChunk(ids=piece)


class BitsegServicer(SegmentRpcs, ChangeRpcs, NlRpcs, pb_grpc.BitsegServicer):
    """Thin: every method is decode -> Service -> encode."""

    def __init__(
        self,
        service: Service,
        limits: Limits,
        writer: ThreadPoolExecutor,
        role: ServerRole | None = None,
    ) -> None:
        self.service = service
        self.limits = limits
        self.writer = writer
        self.role = role or ServerRole()
        self.rules = RuleCache(limits)

    def _query(self, request: Query) -> tuple[str, Rule, int, Hashable | None]:
        """(org, rule, now, plan cache key) of a query; a `segment` selector stands for
        {"segment": S}. Rules are decoded once per wire form (bitseg.server.rulecache)."""
        org = _org(request.org)
        segment = request.segment
        if segment and not request.HasField("rule"):
            return org, selected_rule(request, self.rules.decode), parse_now(request.now), (
                "segment", segment
            )
        key: Hashable | None = None

        def decode(rule: pb.Rule) -> Rule:
            nonlocal key
            decoded, key = self.rules.decode(rule)
            return decoded

        rule = selected_rule(request, decode)  # raises when both are given, or neither
        return org, rule, parse_now(request.now), key

    def Count(
        self, request: pb.CountRequest, context: grpc.ServicerContext
    ) -> pb.CountResponse:
        org, rule, now, key = self._query(request)
        count, seconds = self.service.count(org, rule, now, key)
        return pb.CountResponse(count=count, eval_micros=micros(seconds))

    @answers_each_request
    def CountStream(
        self, requests: Iterator[pb.CountRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.CountStreamResponse]:
        """Count each request as it comes; a refused one is answered with its error."""
        with held_slot(self.stream_slots, "CountStream", self.step_aside):
            for request in requests:
                try:
                    org, rule, now, key = self._query(check_request(request))
                    count, seconds = self.service.count(org, rule, now, key)
                except Exception as e:
                    status = error_status(e)
                    if status is None:  # unexpected: ends the stream as INTERNAL
                        raise
                    yield pb.CountStreamResponse(error_code=status[0], error=status[1])
                    continue
                yield pb.CountStreamResponse(count=count, eval_micros=micros(seconds))

    def Preview(
        self, request: pb.PreviewRequest, context: grpc.ServicerContext
    ) -> pb.PreviewResponse:
        org, rule, now, key = self._query(request)
        limit = _bounded(request.limit, DEFAULT_PREVIEW, MAX_PREVIEW, "limit")
        count, members, seconds = self.service.preview(org, rule, limit, now, key)
        return pb.PreviewResponse(
            count=count,
            members=[
                pb.Member(id=m.id, name=m.name, email=m.email, company=m.company) for m in members
            ],
            eval_micros=micros(seconds),
        )

    def Resolve(
        self, request: pb.ResolveRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.ResolveChunk]:
        org, rule, now, key = self._query(request)
        # Packed: the service gathers newline-joined pieces straight from the id blocks.
        packed_bytes = CHUNK_BYTES if request.packed else 0
        chunks, seconds = self.service.resolve(org, rule, now, key=key, packed_bytes=packed_bytes)
        total = getattr(chunks, "total", None)
        if total is None:  # the service gives no total up front: gather the ids first
            chunks = list(chunks)
            total = sum(map(len, chunks))
        first = True
        for chunk in _chunks(chunks, request.packed):
            if first:
                chunk.total = total
                chunk.eval_micros = micros(seconds)
                first = False
            yield chunk
        if first:  # no members: still one chunk with the total and the time
            yield pb.ResolveChunk(total=0, eval_micros=micros(seconds))

    def ListMembers(
        self, request: pb.ListMembersRequest, context: grpc.ServicerContext
    ) -> pb.ListMembersResponse:
        org, rule, now, key = self._query(request)
        page_size = _bounded(request.page_size, DEFAULT_PAGE, MAX_PAGE, "page_size")
        ids, next_cursor, seconds = self.service.list_members(
            org, rule, now, request.cursor, page_size, key
        )
        return pb.ListMembersResponse(
            ids=ids, next_cursor=next_cursor, eval_micros=micros(seconds)
        )

    def Ingest(
        self, request_iterator: Iterator[pb.IngestRequest], context: grpc.ServicerContext
    ) -> pb.IngestResponse:
        batch = IngestBatch()
        for message in request_iterator:
            batch.add(message)
        org, files, records = batch.finish()
        ingest = partial(self.service.ingest, org, files, records, batch.schema or None)
        summary = self.writer.submit(ingest).result()
        return pb.IngestResponse(
            applied={
                kind: pb.KindCounts(
                    upserted=counts.get("upserted", 0),
                    patched=counts.get("patched", 0),
                    deleted=counts.get("deleted", 0),
                )
                for kind, counts in summary.applied.items()
            },
            seconds=summary.seconds,
        )

    def ParseRule(
        self, request: pb.ParseRuleRequest, context: grpc.ServicerContext
    ) -> pb.ParseRuleResponse:
        rule = decode_rule(request.rule, self.limits)
        if request.org:
            self._validate_for(request.org, rule)
        response = pb.ParseRuleResponse(json=rule_to_json_text(rule), text=to_text(rule))
        response.node.CopyFrom(rule_proto.to_proto(rule))  # CopyFrom: no re-parse
        return response

    def ServerInfo(
        self, request: pb.ServerInfoRequest, context: grpc.ServicerContext
    ) -> pb.ServerInfoResponse:
        role = self.role
        return pb.ServerInfoResponse(
            pid=os.getpid(), worker=role.index, workers=role.workers, primary=role.primary,
            version=__version__,
        )

    def _validate_for(self, org: str, rule: Rule) -> None:
        """Check the rule against the org's fields (NOT_FOUND for an unknown org)."""
        schema_of = getattr(self.service, "schema", None)
        if schema_of is None:  # no schema accessor: counting validates the same way
            self.service.count(org, rule, int(time.time()))
            return
        validate(rule, schema_of(org), self.limits)
