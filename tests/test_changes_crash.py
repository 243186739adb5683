"""A writer killed with SIGKILL mid-stream loses nothing acknowledged and leaves no half batch.

A child process applies numbered batches (each upserts one new contact in the tracked
segment and patches an older one out of it) and prints an acknowledgement after each
commit. The parent kills it at a random moment, then reopens the data folder: the
batches present must be exactly a prefix 0..k with k >= the last acknowledged one,
each with all of its records and all of its change-log entries, and the log's
sequence numbers must have no gap.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bitseg.rules import parse_text
from bitseg.service import Service
from bitseg.store.changelog import read_after

WRITER = textwrap.dedent(
    """
    import sys
    from bitseg.rules import parse_text
    from bitseg.service import Service

    svc = Service(sys.argv[1])
    svc.ingest("crash", files=[], records=[("contacts", "upsert", {"id": "seed", "country": "DE"})])
    svc.create_segment("crash", "DE", rule=parse_text('country = "DE"'))
    print("ready", flush=True)
    for i in range(100_000):
        records = [("contacts", "upsert", {"id": f"c{i}", "country": "DE", "lead_score": i})]
        records += [("contacts", "upsert", {"id": f"x{i}.{j}", "country": "FR"}) for j in range(50)]
        if i:
            records.append(("contacts", "patch", {"id": f"c{i - 1}", "country": "FR"}))
        svc.ingest("crash", files=[], records=records)
        print(f"ack {i}", flush=True)
    """
)


def run_and_kill(data: Path, delay: float) -> int:
    """Start the writer, kill it after `delay` s of writing; the last acknowledged batch."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    acked = -1
    for line in proc.stdout.read().splitlines():
        if line.startswith("ack "):
            acked = int(line.split()[1])
    return acked


def test_sigkill_keeps_every_acknowledged_batch_and_no_half_batch(tmp_path: Path) -> None:
    rng = random.Random(7)
    for attempt in range(3):
        data = tmp_path / f"run{attempt}"
        acked = run_and_kill(data, rng.uniform(0.3, 1.5))
        assert acked >= 0, "the writer acknowledged nothing before it was killed"
        svc = Service(data)
        try:
            present = [
                i for i in range(acked + 50)
                if svc.count("crash", parse_text(f'lead_score = {i}'), 0)[0] == 1
            ]
            k = max(present)
            assert present == list(range(k + 1)), "batches present form a prefix"
            assert k >= acked, "every acknowledged batch is there"
            fr = svc.count("crash", parse_text('country = "FR"'), 0)[0]
            assert fr == 50 * (k + 1) + k, "each batch is whole: its 50 extra contacts and patch"
            store = svc._store("crash")
            with store.read() as txn:
                log = list(read_after(store, txn, 0, limit=10_000_000))
            assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
            joined = {e["contact_id"] for e in log if e["type"] == "segment.joined"}
            left = {e["contact_id"] for e in log if e["type"] == "segment.left"}
            assert joined == {"seed"} | {f"c{i}" for i in range(k + 1)}
            assert left == {f"c{i}" for i in range(k)}
        finally:
            svc.close()
