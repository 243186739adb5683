"""bitseg's benchmark suite: `python -m benchmarks` writes `benchmarks/RESULTS.md`.

One run, per dataset size: generate (or reuse) a deterministic org with
`bitseg.demo.generate_org`, bulk-load it in a subprocess (time, peak RSS, disk size),
start the real server on 127.0.0.1, then per benchmark rule measure Count (in-process
`Service.count` time, the gRPC `eval_micros` and end to end), Preview and Resolve,
and the same rule as SQL in DuckDB over the same JSONL files (the peer, with its
answers checked against bitseg's); then concurrent Count throughput (grpc.aio) and
incremental update throughput. Modules: `dataset`, `rules`, `peer` (DuckDB), `load`
(+ `load_worker`), `server`, `latency`, `throughput`, `update`, `report`.
"""

from __future__ import annotations

from pathlib import Path

import bitseg  # noqa: F401  before grpc: its client and server settings (bitseg.grpcenv)

ROOT = Path(__file__).resolve().parent.parent
ORG = "bench"
NOW = "2026-11-20T12:00:00Z"
SEED = 1
DEFAULT_DATA = ROOT / "bench-data"  # ignored by the repository's .gitignore
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
