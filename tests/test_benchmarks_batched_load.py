"""The benchmark loader's batched mode (used above 2M contacts) gives the same org as one
batch: same records applied and the same answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from bitseg.demo import generate_org
from bitseg.rules.parser import parse_text
from bitseg.service import Service

ROOT = Path(__file__).resolve().parents[1]
RULES = (
    'country = "DE" and lead_score between (20, 60)',
    'event "email_opened" within last "30d" count >= 2',
    "has deals",
    'last_activity_at older than "60d"',
)


def _load(source: Path, data: Path, batch_lines: int) -> dict[str, object]:
    args = [sys.executable, "-m", "benchmarks.load_worker", "--data", str(data), "--org",
            "acme", "--source", str(source), "--batch-lines", str(batch_lines)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          check=True)
    result: dict[str, object] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"], result
    return result


def test_batched_load_matches_one_batch(tmp_path: Path) -> None:
    source = tmp_path / "src"
    generate_org(source, contacts=3_000, seed=3, activity=True, events_per_contact=5)
    whole = _load(source, tmp_path / "one", 0)
    batched = _load(source, tmp_path / "many", 700)
    assert batched["batches"] > 5
    assert batched["applied"] == whole["applied"]
    now = 1_795_176_000
    one, many = Service(tmp_path / "one"), Service(tmp_path / "many")
    try:
        for text in RULES:
            rule = parse_text(text)
            assert one.count("acme", rule, now)[0] == many.count("acme", rule, now)[0], text
    finally:
        one.close()
        many.close()
