"""gRPC core settings that must be in place before `grpc` is first imported.

grpcio 1.85 serves TCP connections through EventEngine by default: EventEngine's own
threads read the socket and then wake the thread waiting on the completion queue, one
more thread hop (two context switches) each way per call. iomgr's epoll1 poller, which
EventEngine replaces, lets the waiting thread read the socket itself. Turning
EventEngine off for connections a client makes (`event_engine_client`) and connections
a server accepts (`event_engine_listener`) cut one loopback Count from 449 to 395 µs
(client CPU 170 -> 138 µs and server CPU 287 -> 263 µs per call; interleaved A/B on the
2-core benchmark machine).

grpc reads GRPC_EXPERIMENTS once, when it is imported, so `import bitseg` (this module,
from the package's `__init__`) sets it, unless grpc is already imported or the
environment sets GRPC_EXPERIMENTS itself (set it, even empty, to keep grpc's defaults).
Processes started from then on inherit it, as `bitseg serve --workers N`'s workers
should. A grpcio that no longer knows an experiment logs "Unknown experiment" and goes
on (tests/test_grpcenv.py checks the installed one knows both).
"""

from __future__ import annotations

import os
import sys

VARIABLE = "GRPC_EXPERIMENTS"
EXPERIMENTS = "-event_engine_client,-event_engine_listener"


def configure() -> bool:
    """Set GRPC_EXPERIMENTS (see the module docstring); True if it was set here."""
    if "grpc" in sys.modules or VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = EXPERIMENTS
    return True
