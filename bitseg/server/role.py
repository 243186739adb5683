"""Which part one server process plays when several serve the same port.

`bitseg serve --workers N` runs N processes over one data folder, all bound to the
same host:port with SO_REUSEPORT (the kernel spreads connections over them). Worker 0,
the primary, is the process that was started: it binds first, starts the others,
prints the ready line once every one of them is bound, runs what must happen exactly
once (time-based re-evaluation, webhook delivery) and stops the others when it stops.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_WORKERS = 64


@dataclass(frozen=True)
class ServerRole:
    """Worker `index` of `workers` (index 0 is the primary)."""

    index: int = 0
    workers: int = 1

    @property
    def primary(self) -> bool:
        return self.index == 0

    @property
    def shared_port(self) -> bool:
        """Whether the port is bound with SO_REUSEPORT (only when several processes share it)."""
        return self.workers > 1
