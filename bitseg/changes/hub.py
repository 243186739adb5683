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

The hub lives on the server's event loop; the RPC handlers run on the gRPC server's
threads and reach it through `call` (run a coroutine there and wait for its result)
and `iterate` (follow an async iterator there, item by item, from a thread).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from bitseg.changes.watch import DEFAULT_POLL, Entry, OrgSignals, follow_log, log_end
from bitseg.changes.webhooks import WebhookInfo, Webhooks
from bitseg.errors import Unavailable

if TYPE_CHECKING:
    from bitseg.service import Service

T = TypeVar("T")


async def _next(iterator: AsyncIterator[T]) -> tuple[bool, T | None]:
    try:
        return True, await iterator.__anext__()
    except StopAsyncIteration:
        return False, None


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
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._loop = asyncio.get_running_loop()
        self.signals.attach(self._loop)
        self.service.add_commit_listener(self.signals.committed)
        await self.webhooks.start()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self.signals.closed:
            raise Unavailable("the server is shutting down; reconnect with since=<last seq>")
        return self._loop

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the hub's loop and wait for it (from another thread)."""
        try:
            loop = self._running_loop()
        except Unavailable:
            coroutine.close()
            raise
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def iterate(
        self,
        iterator: AsyncIterator[T],
        on_done: Callable[[Callable[[], None]], object] | None = None,
    ) -> Iterator[T]:
        """The items of an async iterator that runs on the hub's loop, for a thread.
        `on_done(cancel)` registers `cancel` to run when the caller goes away (gRPC's
        `context.add_callback`): a wait for the next item then ends at once."""
        loop = self._running_loop()
        pending: list[concurrent.futures.Future[tuple[bool, T | None]]] = []
        gone = False

        def cancel() -> None:
            nonlocal gone
            gone = True
            for future in list(pending):
                future.cancel()

        if on_done is not None:
            on_done(cancel)
        try:
            while not gone:
                future = asyncio.run_coroutine_threadsafe(_next(iterator), loop)
                pending[:] = [future]
                if gone:
                    future.cancel()
                try:
                    more, item = future.result()
                except concurrent.futures.CancelledError:
                    return
                if not more:
                    return
                yield item  # type: ignore[misc]
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    asyncio.run_coroutine_threadsafe(aclose(), loop)

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
