"""Bulk-load one dataset folder into a data folder with `Service.ingest`, in its own process.

    python -m benchmarks.load_worker --data DIR --org ORG --source FOLDER \
        --kinds companies,contacts,campaigns,deals,events

Prints one JSON line on stdout: {"ok": true, "seconds", "ingest_seconds", "applied",
"vm_hwm_bytes"} (VmHWM read from /proc/self/status after the load, so it is the
peak RSS of this whole loading process), or {"ok": false, "unsupported": bool,
"error": "..."} when the service refuses the batch. Run by `benchmarks.load`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import orjson

from benchmarks.server import vm_hwm_bytes
from bitseg.demo import demo_schema
from bitseg.errors import BitsegError
from bitseg.service import Service, SourceFile

UNSUPPORTED_MARKERS = ("not indexed by this version yet", "not available in this version yet",
                       "not supported")


def is_unsupported(message: str) -> bool:
    """True for the service's "this kind is not implemented yet" refusals."""
    return any(marker in message for marker in UNSUPPORTED_MARKERS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load_worker")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--org", required=True)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--kinds", default="companies,contacts,campaigns,deals,events")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    started = time.perf_counter()
    service = Service(args.data)
    with contextlib.ExitStack() as opened:
        # Files are streamed line by line (Service accepts binary file objects), so the
        # loader's memory does not hold the 2-3 GB of source text.
        streams = {k: opened.enter_context((args.source / f"{k}.jsonl").open("rb")) for k in kinds}
        result = _load(service, args.org, kinds, streams, started)
    result["vm_hwm_bytes"] = vm_hwm_bytes()
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()
    return 0


def _load(
    service: Service, org: str, kinds: list[str], streams: dict[str, Any], started: float
) -> dict[str, Any]:
    try:
        files = [SourceFile(kind, f"{kind}.jsonl", "jsonl", streams[kind]) for kind in kinds]
        summary = service.ingest(org, files, schema=demo_schema())
    except BitsegError as e:
        result = {"ok": False, "unsupported": is_unsupported(e.message), "error": e.message}
    except Exception as e:  # reported to the parent, which prints it
        traceback.print_exc()
        result = {"ok": False, "unsupported": False, "error": f"{type(e).__name__}: {e}"}
    else:
        result = {
            "ok": True,
            "seconds": time.perf_counter() - started,
            "ingest_seconds": summary.seconds,
            "applied": summary.applied,
            "kinds": kinds,
        }
    finally:
        service.close()
    return result


if __name__ == "__main__":
    sys.exit(main())
