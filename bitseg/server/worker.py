"""`python -m bitseg.server.worker`: one extra worker of `bitseg serve --workers N`.

Started by the primary (bitseg.server.workers) with the port it bound; serves the
same data folder on the same host:port with SO_REUSEPORT, prints the usual ready
line on its stdout (a pipe the primary reads), and stops on SIGTERM/SIGINT or as
soon as the primary is gone: the kernel sends it SIGTERM when the primary dies
(Linux PR_SET_PDEATHSIG) and it also checks its parent pid twice a second.
It runs neither the time-based re-evaluation nor webhook deliveries (the primary does).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
from pathlib import Path

from bitseg.server.role import MAX_WORKERS, ServerRole

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask for SIGTERM when the parent dies (Linux); exit now if it is already gone."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the parent-pid check in serve_async still stops us
    if os.getppid() != parent:
        sys.exit(0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bitseg.server.worker", description=__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--parent", type=int, required=True, help="the primary's pid")
    p.add_argument("--grace", type=float, default=5.0)
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if not 1 <= args.index < args.workers <= MAX_WORKERS or args.port <= 0:
        p.error(f"need 1 <= index < workers <= {MAX_WORKERS} and a bound port")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    die_with_parent(args.parent)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s [worker {args.index}] %(message)s",
    )
    from bitseg.server.app import serve  # after the parent-death signal is armed

    serve(
        args.data, host=args.host, port=args.port, grace=args.grace,
        role=ServerRole(args.index, args.workers), parent_pid=args.parent,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
