"""Slots for long-lived streams (Watch, CountStream): each holds a server thread.

grpcio's threaded server runs a stream's handler on one pool thread for the stream's
whole life, so the server keeps RESERVED_THREADS (bitseg.server.app) out of reach of
held streams; one more stream than the slots allow is refused with RESOURCE_EXHAUSTED
instead of starving short calls of threads. A held stream mostly waits for its next
request, so it also stops counting against the pool's active calls as it starts
(otherwise it would hold one of them, BITSEG_RPC_ACTIVE per process, until it ages out).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bitseg.errors import ResourceExhausted


@contextmanager
def held_slot(slots: threading.BoundedSemaphore | None, what: str,
              aside: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold one of `slots` (None: unlimited) while the stream `what` is live, and tell
    the server's pool that the call will mostly wait (`aside`: its
    `ActivePool.step_aside`, None without one)."""
    if slots is not None and not slots.acquire(blocking=False):
        raise ResourceExhausted(
            f"too many {what} streams on this server process; retry later "
            "(BITSEG_RPC_THREADS sets the server's threads)"
        )
    try:
        if aside is not None:
            aside()
        yield
    finally:
        if slots is not None:
            slots.release()
