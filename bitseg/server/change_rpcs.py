"""The change-log RPCs of `bitseg.v1.Bitseg`: Watch and the webhook registry.

Mixed into `BitsegServicer`; the server sets `changes` (its `ChangeHub`, on the
server's event loop) and `stream_slots` before serving. Watch is a generator on a gRPC
server thread following the hub's async reader (`ChangeHub.iterate`); each live stream
holds one server thread and one of `stream_slots` (bitseg.server.streamslots).
Errors raised before or between its messages (NOT_FOUND, INVALID_ARGUMENT, UNAVAILABLE
on shutdown) reach the error mapping in bitseg.server.errors like every other error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import grpc

from bitseg.changes.hub import ChangeHub
from bitseg.changes.watch import Entry
from bitseg.changes.webhooks import WebhookInfo
from bitseg.errors import Unavailable
from bitseg.server.segment_rpcs import required
from bitseg.server.streamslots import held_slot
from bitseg.v1 import bitseg_pb2 as pb


def change_event(entry: Entry) -> pb.ChangeEvent:
    seq = entry.get("seq", 0)
    return pb.ChangeEvent(
        seq=seq if isinstance(seq, int) else 0,
        type=_text(entry.get("type")),
        segment_id=_text(entry.get("segment_id")),
        segment=_text(entry.get("segment")),
        contact_id=_text(entry.get("contact_id")),
        at=_text(entry.get("at")),
        cause=_text(entry.get("cause")),
    )


def webhook_message(info: WebhookInfo) -> pb.Webhook:
    return pb.Webhook(
        id=info.id,
        url=info.url,
        segment_ids=list(info.segment_ids),
        segment_names=list(info.segment_names),
        created_at=info.created_at,
        delivered_seq=info.delivered_seq,
        last_seq=info.last_seq,
        last_error=info.last_error,
        failures=info.failures,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


class ChangeRpcs:
    """Watch, AddWebhook, ListWebhooks, DeleteWebhook (a mixin: needs `changes`)."""

    changes: ChangeHub | None = None
    stream_slots: threading.BoundedSemaphore | None = None  # shared with CountStream
    step_aside: Callable[[], None] | None = None  # the server pool's (ActivePool)

    def _changes(self) -> ChangeHub:
        if self.changes is None:
            raise Unavailable("the change log is not served by this server")
        return self.changes

    def Watch(
        self, request: pb.WatchRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchResponse]:
        org = required(request.org, "org")
        follow = request.follow if request.HasField("follow") else True
        hub = self._changes()
        with held_slot(self.stream_slots, "Watch", self.step_aside):
            stream = hub.iterate(hub.watch(org, request.since, follow), context.add_callback)
            for entries in stream:
                yield pb.WatchResponse(events=[change_event(entry) for entry in entries])

    def AddWebhook(
        self, request: pb.AddWebhookRequest, context: grpc.ServicerContext
    ) -> pb.Webhook:
        org = required(request.org, "org")
        since = request.since if request.HasField("since") else None
        hub = self._changes()
        info = hub.call(
            hub.add_webhook(org, request.url, request.secret, list(request.segments) or None,
                            since)
        )
        return webhook_message(info)

    def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: grpc.ServicerContext
    ) -> pb.ListWebhooksResponse:
        infos = self._changes().list_webhooks(required(request.org, "org"))
        return pb.ListWebhooksResponse(webhooks=[webhook_message(i) for i in infos])

    def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: grpc.ServicerContext
    ) -> pb.DeleteWebhookResponse:
        org, webhook_id = required(request.org, "org"), required(request.id, "id")
        hub = self._changes()
        hub.call(hub.delete_webhook(org, webhook_id))
        return pb.DeleteWebhookResponse()
