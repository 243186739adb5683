"""`ChangeHub`: the change-log side of one running server.

The server creates one hub over its `Service` and writer executor, `start()`s it on
its event loop before serving (it subscribes to the service's commit listener and
starts a webhook worker for every endpoint found in the data folder) and `stop()`s it
first thing on shutdown (live Watch streams end with UNAVAILABLE so clients
reconnect with since=<last seq>; webhook workers are cancelled).

With several server processes over one data folder (`bitseg serve --workers N`) every
process has a hub: each serves its own Watch streams (waking them on its own commits
and, through the log-end probe, on the others'), and the registry RPCs work in any of
them, but only the primary's hub (`deliver=True`) runs delivery workers; it picks up
endpoints registered or deleted through the others from the registry in LMDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bitseg.changes.watch import DEFAULT_POLL, Entry, OrgSignals, follow_log, log_end
from bitseg.changes.webhooks import WebhookInfo, Webhooks

if TYPE_CHECKING:
    from bitseg.service import Service


class ChangeHub:
    """Watchers and webhook workers of one server (see the module docstring)."""

    def __init__(
        self,
        service: Service,
        writer: ThreadPoolExecutor,
        poll_interval: float = DEFAULT_POLL,
        deliver: bool = True,
    ) -> None:
        self.service = service
        self.signals = OrgSignals(poll_interval, probe=self._log_end)
        self.webhooks = Webhooks(service, writer, self.signals, deliver=deliver)
        self._started = False

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.signals.attach(asyncio.get_running_loop())
        self.service.add_commit_listener(self.signals.committed)
        await self.webhooks.start()

    def _log_end(self, org: str) -> int:
        return log_end(self.service.org_store(org))

    async def stop(self) -> None:
        self.signals.close()
        await self.webhooks.stop()

    def watch(
        self, org: str, since: int = 0, follow: bool = True
    ) -> AsyncIterator[list[Entry]]:
        """The org's log entries after `since`, in lists (see `follow_log`)."""
        return follow_log(self.service, self.signals, org, since, follow)

    async def add_webhook(
        self,
        org: str,
        url: str,
        secret: str,
        segments: list[str] | None = None,
        since: int | None = None,
    ) -> WebhookInfo:
        return await self.webhooks.add(org, url, secret, segments, since)

    def list_webhooks(self, org: str) -> list[WebhookInfo]:
        return self.webhooks.list(org)

    async def delete_webhook(self, org: str, webhook_id: str) -> None:
        await self.webhooks.delete(org, webhook_id)
