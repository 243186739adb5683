"""The segment RPCs of `bitseg.v1.Bitseg`: decode, call `Service`, encode.

Mixed into `BitsegServicer`. Reads (get, list, CSV export) run inline on the calling
server thread; every write runs on the one writer thread, like ingest, because an LMDB
write transaction is bound to the thread that began it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import grpc
import orjson

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.rules.model import Rule, SegmentRef
from bitseg.segments.membership import MemberChange
from bitseg.segments.ops import SegmentView
from bitseg.server.wire import decode_rule, micros, parse_now
from bitseg.service import Service
from bitseg.timeutil import parse_instant
from bitseg.v1 import bitseg_pb2 as pb

T = TypeVar("T")

_TYPES = {"dynamic": pb.SEGMENT_TYPE_DYNAMIC, "static": pb.SEGMENT_TYPE_STATIC}


def segment_message(view: SegmentView) -> pb.Segment:
    return pb.Segment(
        id=view.id,
        name=view.name,
        description=view.description,
        type=_TYPES[view.type],
        rule_json=orjson.dumps(view.rule).decode() if view.rule is not None else "",
        rule_text=view.rule_text,
        archived=view.archived,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def members_message(change: MemberChange | None) -> pb.MembersResponse:
    if change is None:
        return pb.MembersResponse()
    return pb.MembersResponse(
        changed=change.changed,
        unchanged=change.unchanged,
        unknown=change.unknown,
        unknown_count=change.unknown_count,
    )


def required(value: str, name: str) -> str:
    if not value:
        raise InvalidArgument(f"{name}: required")
    return value


def selected_rule(request: Any, decode: Callable[[pb.Rule], Rule]) -> Rule:
    """A query's rule: its `segment` (as a reference) or its `rule`, exactly one of them."""
    segment = getattr(request, "segment", "")
    has_rule = request.HasField("rule")
    if segment and has_rule:
        raise InvalidArgument("give a segment or a rule, not both")
    if segment:
        return SegmentRef(segment)
    return decode(request.rule)


class SegmentRpcs:
    """Segment management RPCs (a mixin: needs `service`, `limits`, `writer`)."""

    service: Service
    limits: Limits
    writer: ThreadPoolExecutor

    def _decode(self, rule: pb.Rule) -> Rule:
        return decode_rule(rule, self.limits)

    def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a write on the writer thread and wait for it."""
        return self.writer.submit(partial(fn, *args)).result()

    def CreateSegment(
        self, request: pb.CreateSegmentRequest, context: grpc.ServicerContext
    ) -> pb.CreateSegmentResponse:
        org = required(request.org, "org")
        rule = self._decode(request.rule) if request.HasField("rule") else None
        members = list(request.members) if rule is None else None
        if rule is not None and request.members:
            raise InvalidArgument("a segment has a rule (dynamic) or members (static), not both")
        view, change = self._write(
            self.service.create_segment, org, request.name, rule, members, request.description
        )
        return pb.CreateSegmentResponse(
            segment=segment_message(view), members=members_message(change)
        )

    def GetSegment(
        self, request: pb.GetSegmentRequest, context: grpc.ServicerContext
    ) -> pb.Segment:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        return segment_message(self.service.get_segment(org, segment))

    def MembershipAt(
        self, request: pb.MembershipAtRequest, context: grpc.ServicerContext
    ) -> pb.MembershipAtResponse:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        at = parse_instant(required(request.at, "at"))
        return pb.MembershipAtResponse(ids=self.service.membership_at(org, segment, at))

    def ListSegments(
        self, request: pb.ListSegmentsRequest, context: grpc.ServicerContext
    ) -> pb.ListSegmentsResponse:
        views = self.service.list_segments(required(request.org, "org"), request.include_archived)
        return pb.ListSegmentsResponse(segments=[segment_message(v) for v in views])

    def UpdateSegment(
        self, request: pb.UpdateSegmentRequest, context: grpc.ServicerContext
    ) -> pb.Segment:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        name = request.name if request.HasField("name") else None
        description = request.description if request.HasField("description") else None
        rule = self._decode(request.rule) if request.HasField("rule") else None
        view = self._write(
            self.service.update_segment, org, segment, name, description, rule
        )
        return segment_message(view)

    def DuplicateSegment(
        self, request: pb.DuplicateSegmentRequest, context: grpc.ServicerContext
    ) -> pb.Segment:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        view = self._write(
            self.service.duplicate_segment, org, segment, request.name or None
        )
        return segment_message(view)

    def ArchiveSegment(
        self, request: pb.ArchiveSegmentRequest, context: grpc.ServicerContext
    ) -> pb.Segment:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        view = self._write(
            self.service.archive_segment, org, segment, not request.unarchive
        )
        return segment_message(view)

    def DeleteSegment(
        self, request: pb.DeleteSegmentRequest, context: grpc.ServicerContext
    ) -> pb.DeleteSegmentResponse:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        self._write(self.service.delete_segment, org, segment)
        return pb.DeleteSegmentResponse()

    def AddMembers(
        self, request: pb.AddMembersRequest, context: grpc.ServicerContext
    ) -> pb.MembersResponse:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        change = self._write(self.service.add_members, org, segment, list(request.ids))
        return members_message(change)

    def RemoveMembers(
        self, request: pb.RemoveMembersRequest, context: grpc.ServicerContext
    ) -> pb.MembersResponse:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        change = self._write(self.service.remove_members, org, segment, list(request.ids))
        return members_message(change)

    def UpsertSegmentsByName(
        self, request: pb.UpsertSegmentsByNameRequest, context: grpc.ServicerContext
    ) -> pb.UpsertSegmentsByNameResponse:
        org = required(request.org, "org")
        done = self._write(self.service.upsert_segments_by_name, org, list(request.names))
        return pb.UpsertSegmentsByNameResponse(
            ids=[i for i, _ in done], created=[c for _, c in done]
        )

    def ExportToList(
        self, request: pb.ExportToListRequest, context: grpc.ServicerContext
    ) -> pb.ExportToListResponse:
        org, segment = required(request.org, "org"), required(request.segment, "segment")
        now = parse_now(request.now)
        started = time.perf_counter()
        view, count = self._write(
            self.service.export_to_list, org, segment, request.name or None, now
        )
        seconds = time.perf_counter() - started
        return pb.ExportToListResponse(
            segment=segment_message(view), count=count, eval_micros=micros(seconds)
        )

    def ExportMembersCsv(
        self, request: pb.ExportMembersCsvRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.CsvChunk]:
        org = required(request.org, "org")
        rule = selected_rule(request, self._decode)
        export, seconds = self.service.export_csv(org, rule, parse_now(request.now))
        try:
            first = True
            for data in export:
                chunk = pb.CsvChunk(data=data)
                if first:
                    chunk.total = export.total
                    chunk.eval_micros = micros(seconds)
                    first = False
                yield chunk
        finally:
            export.close()
