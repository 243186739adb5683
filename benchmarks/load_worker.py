"""Bulk-load one dataset folder into a data folder with `Service.ingest`, in its own process.

    python -m benchmarks.load_worker --data DIR --org ORG --source FOLDER \
        --kinds companies,contacts,campaigns,deals,events

Prints one JSON line on stdout: {"ok": true, "seconds", "ingest_seconds", "applied",
"vm_hwm_bytes", "writer_cpu_seconds", "parser_cpu_seconds"} (VmHWM read from
/proc/self/status after the load, so it is the peak RSS of this whole loading process;
CPU times from getrusage, the parser being the bulk load's second process), or
{"ok": false, "unsupported": bool, "error": "..."} when the service refuses the batch.
Run by `benchmarks.load`.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import resource
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
    parser.add_argument("--batch-lines", type=int, default=0,
                        help="ingest each file in batches of this many lines (0: one batch)")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    started = time.perf_counter()
    service = Service(args.data)
    if args.batch_lines > 0:
        result = _load_batched(service, args.org, kinds, args.source, args.batch_lines,
                               args.data, started)
        result["vm_hwm_bytes"] = vm_hwm_bytes()
        result.update(_cpu_seconds())
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        sys.stdout.flush()
        return 0
    with contextlib.ExitStack() as opened:
        # Files are streamed line by line (Service accepts binary file objects), so the
        # loader's memory does not hold the 2-3 GB of source text.
        streams = {k: opened.enter_context((args.source / f"{k}.jsonl").open("rb")) for k in kinds}
        result = _load(service, args.org, kinds, streams, started)
    result["vm_hwm_bytes"] = vm_hwm_bytes()
    result.update(_cpu_seconds())
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()
    return 0


def _cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) of the writer (this process) and of its parse process."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "writer_cpu_seconds": own.ru_utime + own.ru_stime,
        "parser_cpu_seconds": children.ru_utime + children.ru_stime,
    }


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


def _load_batched(
    service: Service, org: str, kinds: list[str], source: Path, batch_lines: int,
    work: Path, started: float,
) -> dict[str, Any]:
    """Each file in consecutive batches of `batch_lines` lines, one transaction each (a
    10M-contact org in one transaction would hold all its dirty pages in memory)."""
    applied: dict[str, dict[str, int]] = {}
    ingest_seconds = 0.0
    batches = 0
    part = work / "batch.part.jsonl"
    try:
        for kind in kinds:
            with (source / f"{kind}.jsonl").open("rb") as stream:
                while True:
                    lines = list(itertools.islice(stream, batch_lines))
                    if not lines:
                        break
                    part.write_bytes(b"".join(lines))
                    del lines
                    with part.open("rb") as batch:
                        summary = service.ingest(
                            org, [SourceFile(kind, f"{kind}.jsonl", "jsonl", batch)],
                            schema=demo_schema(),
                        )
                    ingest_seconds += summary.seconds
                    batches += 1
                    for name, counts in summary.applied.items():
                        total = applied.setdefault(name, {})
                        for key, value in counts.items():
                            total[key] = total.get(key, 0) + value
    except BitsegError as e:
        return {"ok": False, "unsupported": is_unsupported(e.message), "error": e.message}
    finally:
        part.unlink(missing_ok=True)
        service.close()
    return {"ok": True, "seconds": time.perf_counter() - started,
            "ingest_seconds": ingest_seconds, "applied": applied, "kinds": kinds,
            "batches": batches}


if __name__ == "__main__":
    sys.exit(main())
