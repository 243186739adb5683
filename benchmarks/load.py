"""Bulk load: time, peak RSS of the loading process and on-disk size of the result.

The load runs in a fresh subprocess (`python -m benchmarks.load_worker`) so its peak
RSS (VmHWM) is the load's alone. All five files are offered first; if the service
refuses deals/campaigns/events as not indexed yet, the data folder is wiped and
contacts + companies are loaded alone (and the result says so).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from benchmarks import ROOT
from benchmarks.dataset import Dataset
from benchmarks.server import child_env

ALL_KINDS = ("companies", "contacts", "campaigns", "deals", "events")
BATCH_ABOVE = 2_000_000  # larger orgs load in batches of BATCH_LINES lines per transaction
BATCH_LINES = 1_000_000
BASE_KINDS = ("companies", "contacts")


@dataclass
class LoadResult:
    seconds: float  # wall time of the worker's read + ingest
    ingest_seconds: float  # Service.ingest's own figure
    peak_rss_bytes: int
    disk_bytes: int  # allocated blocks under the data folder
    apparent_bytes: int  # file sizes (LMDB files may be sparse)
    kinds: list[str]
    applied: dict[str, dict[str, int]]
    notes: list[str] = field(default_factory=list)
    writer_cpu_seconds: float | None = None  # the loading process (the writer)
    parser_cpu_seconds: float | None = None  # its parse process (bulk loads of large files)

    @property
    def activity_loaded(self) -> bool:
        return "events" in self.kinds and "deals" in self.kinds


def disk_usage(folder: Path) -> tuple[int, int]:
    """(allocated bytes, apparent bytes) of every file under `folder`."""
    allocated = apparent = 0
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            allocated += st.st_blocks * 512
            apparent += st.st_size
    return allocated, apparent


def _run_worker(data_dir: Path, org: str, dataset: Dataset, kinds: tuple[str, ...],
                timeout: float) -> dict[str, object]:
    args = [sys.executable, "-m", "benchmarks.load_worker", "--data", str(data_dir),
            "--org", org, "--source", str(dataset.path), "--kinds", ",".join(kinds)]
    if dataset.contacts > BATCH_ABOVE:
        args += ["--batch-lines", str(BATCH_LINES)]
    proc = subprocess.run(args, capture_output=True, text=True, env=child_env(), cwd=ROOT,
                          timeout=timeout, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"load worker failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, object] = orjson.loads(lines[-1])
    return result


def run_load(data_dir: Path, org: str, dataset: Dataset, timeout: float = 7200.0,
             log: Callable[[str], None] = print) -> LoadResult:
    """Load `dataset` into a fresh `data_dir` (wiped first) and measure it."""
    notes: list[str] = []
    for kinds in (ALL_KINDS, BASE_KINDS):
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        log(f"loading {', '.join(kinds)} ...")
        started = time.perf_counter()
        result = _run_worker(data_dir, org, dataset, kinds, timeout)
        if result["ok"]:
            if result.get("batches"):
                notes.append(f"loaded in {result['batches']} transactions of at most "
                             f"{BATCH_LINES:,} lines (one per file part)")
            allocated, apparent = disk_usage(data_dir)
            log(f"loaded in {result['seconds']:.1f} s "
                f"(worker wall {time.perf_counter() - started:.1f} s)")
            return LoadResult(
                seconds=float(result["seconds"]),  # type: ignore[arg-type]
                ingest_seconds=float(result["ingest_seconds"]),  # type: ignore[arg-type]
                peak_rss_bytes=int(result["vm_hwm_bytes"]),  # type: ignore[call-overload]
                disk_bytes=allocated,
                apparent_bytes=apparent,
                kinds=list(kinds),
                applied=result["applied"],  # type: ignore[arg-type]
                notes=notes,
                writer_cpu_seconds=result.get("writer_cpu_seconds"),  # type: ignore[arg-type]
                parser_cpu_seconds=result.get("parser_cpu_seconds"),  # type: ignore[arg-type]
            )
        if not result.get("unsupported") or kinds == BASE_KINDS:
            raise RuntimeError(f"load refused: {result['error']}")
        notes.append(
            f"the server refused {', '.join(k for k in kinds if k not in BASE_KINDS)} "
            f"(\"{result['error']}\"): loaded contacts and companies only"
        )
        log(notes[-1])
    raise AssertionError("unreachable")
