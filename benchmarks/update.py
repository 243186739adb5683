"""Incremental update throughput: batches of contact patches through `Client.ingest`.

Each batch patches `batch_size` distinct existing contacts (a new lead_score,
engagement_score, lifecycle_stage and last_activity_at) in one atomic Ingest call
over gRPC; the figure is contacts patched per second of wall time. Bounded by a
number of batches and a time budget. Run last: it changes the data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.stats import Sample
from bitseg.client import Client
from bitseg.timeutil import parse_instant

STAGES = ("SUBSCRIBER", "LEAD", "MQL", "SQL", "CUSTOMER")


@dataclass
class UpdateResult:
    batch_size: int
    batches: int = 0
    records: int = 0
    seconds: float = 0.0
    batch: Sample = field(default_factory=Sample)
    error: str = ""

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def _patches(rng: np.random.Generator, contacts: int, size: int, now: int
             ) -> list[dict[str, Any]]:
    ids = rng.choice(contacts, size=min(size, contacts), replace=False)
    scores = rng.integers(0, 101, (len(ids), 2)).tolist()
    stages = rng.integers(0, len(STAGES), len(ids)).tolist()
    ages = rng.integers(0, 30 * 86_400, len(ids))
    times = np.datetime_as_string((now - ages).astype("datetime64[s]"), unit="s",
                                  timezone="UTC").tolist()
    return [
        {"id": f"c{c}", "lead_score": s[0], "engagement_score": s[1],
         "lifecycle_stage": STAGES[st], "last_activity_at": t}
        for c, s, st, t in zip(ids.tolist(), scores, stages, times, strict=True)
    ]


def run_updates(
    client: Client,
    org: str,
    contacts: int,
    now: str,
    batches: int = 20,
    batch_size: int = 1_000,
    budget: float = 60.0,
    seed: int = 7,
    log: Callable[[str], None] = print,
) -> UpdateResult:
    rng = np.random.default_rng(seed)
    now_s = parse_instant(now)
    result = UpdateResult(batch_size)
    deadline = time.perf_counter() + budget
    for _ in range(batches):
        if result.batches and time.perf_counter() > deadline:
            break
        records = _patches(rng, contacts, batch_size, now_s)
        started = time.perf_counter()
        try:
            applied = client.ingest(org, records, kind="contacts", op="patch")
        except Exception as e:  # reported in the table
            result.error = f"{type(e).__name__}: {e}"
            break
        elapsed = time.perf_counter() - started
        patched = applied.get("contacts", {}).get("patched", 0)
        if patched != len(records):
            result.error = f"a batch of {len(records)} patches reported {patched} patched"
        result.batch.values.append(elapsed)
        result.batches += 1
        result.records += len(records)
        result.seconds += elapsed
    log(f"  {result.batches} batches of {batch_size}: {result.per_second:,.0f} contacts/s"
        + (f" ({result.error})" if result.error else ""))
    return result
