"""Following one org's change log: commit wake-ups and the async reader behind Watch.

`OrgSignals` lives on the server's event loop. The service calls `committed(org)` on
its writer thread after every committed write; that hops onto the loop and wakes
everything waiting on that org (watchers and webhook workers). Waiters take the
org's current event *before* reading the log, so a commit that lands between their
read and their wait still wakes them: no lost wake-up, no busy polling.

Writes committed by another process (another worker of `bitseg serve --workers N`, or
any other program writing the data folder) fire no listener here. For them one task
per server probes the last sequence number of every org somebody waits on, every
`probe_interval` (50 ms; one short read transaction per watched org), and wakes that
org's waiters when it moved. A waiter's own fallback re-read (`poll_interval`, 1 s)
stays as a last resort.

`follow_log` yields the entries with seq > since in order, in lists of at most
`batch`, each read in its own short read transaction (never held across a yield);
with `follow` it then waits for new ones, without it stops at the end of the log as
it was when the call began.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from bitseg.errors import InvalidArgument, Unavailable
from bitseg.store import OrgStore, changelog

if TYPE_CHECKING:
    from bitseg.service import Service

Entry = dict[str, object]
Probe = Callable[[str], int]  # org -> its change log's last seq

DEFAULT_POLL = 1.0
PROBE_INTERVAL = 0.05
READ_BATCH = 500


class OrgSignals:
    """Per-org wake-ups fired after every committed write (see the module docstring)."""

    def __init__(
        self,
        poll_interval: float = DEFAULT_POLL,
        probe: Probe | None = None,
        probe_interval: float = PROBE_INTERVAL,
    ) -> None:
        self.poll_interval = poll_interval
        self.probe_interval = probe_interval
        self.closed = False
        self._events: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._probe = probe
        self._seen: dict[str, int] = {}  # last seq probed per org
        self._prober: asyncio.Task[None] | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the server's loop (and start probing, when there is a probe)."""
        self._loop = loop
        if self._probe is not None and self._prober is None:
            self._prober = loop.create_task(self._probe_forever(), name="bitseg-log-probe")

    def committed(self, org: str) -> None:
        """Called from any thread (the writer's) after a commit of `org`."""
        loop = self._loop
        if loop is None or self.closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody to wake
            loop.call_soon_threadsafe(self.fire, org)

    def event(self, org: str) -> asyncio.Event:
        """The event the next commit of `org` sets (take it before reading the log)."""
        event = self._events.get(org)
        if event is None:
            event = self._events[org] = asyncio.Event()
            if self._probe is not None and org not in self._seen:
                # the baseline is read before the waiter reads the log: any later commit
                # moves the probed seq past it
                seen = self._probe_once(org)
                if seen is not None:
                    self._seen[org] = seen
        return event

    def _probe_once(self, org: str) -> int | None:
        assert self._probe is not None
        try:
            return self._probe(org)
        except Exception:  # e.g. the org's folder is gone: nothing to wake for
            return None

    async def _probe_forever(self) -> None:
        """Wake the waiters of every org whose log end moved (see the module docstring)."""
        while not self.closed:
            await asyncio.sleep(self.probe_interval)
            for org in list(self._events):
                seq = self._probe_once(org)
                if seq is not None and seq != self._seen.get(org):
                    self._seen[org] = seq
                    self.fire(org)

    def fire(self, org: str) -> None:
        event = self._events.pop(org, None)
        if event is not None:
            event.set()

    def close(self) -> None:
        """Wake every waiter for good; they see `closed` and end."""
        self.closed = True
        if self._prober is not None:
            self._prober.cancel()
        for org in list(self._events):
            self.fire(org)

    async def wait(self, event: asyncio.Event, timeout: float | None = None) -> None:
        """Until `event` is set or the poll interval has passed."""
        if self.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), self.poll_interval if timeout is None else timeout)


def read_entries(store: OrgStore, after: int, limit: int) -> list[Entry]:
    """Up to `limit` entries with seq > `after`, in order (one short read transaction)."""
    with store.read() as txn:
        return list(changelog.read_after(store, txn, after, limit))


def log_end(store: OrgStore) -> int:
    """The org's last sequence number (0 for an empty log)."""
    with store.read() as txn:
        return changelog.last_seq(store, txn)


async def follow_log(
    service: Service,
    signals: OrgSignals,
    org: str,
    since: int,
    follow: bool = True,
    batch: int = READ_BATCH,
) -> AsyncIterator[list[Entry]]:
    """The entries of `org` with seq > `since`, in order and in lists; then, with `follow`,
    new entries as they are committed. NotFound for an unknown org; InvalidArgument
    for a `since` past the end of the log; Unavailable once the server shuts down."""
    if signals.closed:
        raise Unavailable("the server is shutting down")
    store = service.org_store(org)
    end = log_end(store)
    if since > end:
        raise InvalidArgument(f"since: {since} is past the end of the change log (last seq {end})")
    cursor = since
    while True:
        if signals.closed:
            raise Unavailable("the server is shutting down; reconnect with since=<last seq>")
        wake = signals.event(org)
        if not follow and cursor >= end:
            return
        entries = read_entries(store, cursor, batch)
        if not follow:
            entries = [e for e in entries if _seq(e) <= end]
        if entries:
            cursor = _seq(entries[-1])
            yield entries
            continue
        if not follow:  # the log ended before `end` (cannot happen: it only grows)
            return
        await signals.wait(wake)


def _seq(entry: Entry) -> int:
    seq = entry["seq"]
    assert isinstance(seq, int)
    return seq
