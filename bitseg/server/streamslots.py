"""Slots for long-lived streams (Watch, CountStream): each holds a server thread.

grpcio's threaded server runs a stream's handler on one pool thread for the stream's
whole life, so the server keeps RESERVED_THREADS (bitseg.server.app) out of reach of
held streams; one more stream than the slots allow is refused with RESOURCE_EXHAUSTED
instead of starving short calls of threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bitseg.errors import ResourceExhausted


@contextmanager
def held_slot(slots: threading.BoundedSemaphore | None, what: str) -> Iterator[None]:
    """Hold one of `slots` (None: unlimited) while the stream `what` is live."""
    if slots is not None and not slots.acquire(blocking=False):
        raise ResourceExhausted(
            f"too many {what} streams on this server process; retry later "
            "(BITSEG_RPC_THREADS sets the server's threads)"
        )
    try:
        yield
    finally:
        if slots is not None:
            slots.release()
