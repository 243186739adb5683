"""Smoke test of the benchmark suite: `python -m benchmarks` at 5,000 contacts, few reps.

Checks that the suite runs end to end (generate, load in a subprocess, real server on
127.0.0.1, DuckDB peer, throughput, updates), that the report has the per-rule table,
and that no supported rule's answer differs between bitseg and DuckDB.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[dict[str, object]]]:
    tmp = tmp_path_factory.mktemp("bench")
    out, raw = tmp / "RESULTS.md", tmp / "raw.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-m", "benchmarks", "--contacts", "5000", "--reps", "5",
            "--resolve-reps", "2", "--warmup", "1", "--budget", "2",
            "--throughput-seconds", "0.2", "--update-batches", "2",
            "--out", str(out), "--json", str(raw), "--data", str(tmp / "data")]
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=170, check=False)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert not (tmp / "data" / "lmdb-5000").exists()  # the LMDB folder is removed
    return out.read_text(), orjson.loads(raw.read_bytes())


def _table_rows(report: str) -> dict[str, str]:
    return {line.split("`")[1]: line for line in report.splitlines() if line.startswith("| `")
            and "|" in line[3:] and line.count("|") >= 15}


def test_report_has_the_sections_and_the_table(smoke_run: tuple[str, list[dict[str, object]]]
                                               ) -> None:
    report, _ = smoke_run
    for heading in ("## Machine", "## Versions", "## Command", "## 5,000 contacts",
                    "### Bulk load", "### Latency per rule", "### Correctness",
                    "### Concurrent Count throughput", "### Incremental updates",
                    "### Targets (issue 7)", "## The benchmark rules"):
        assert heading in report, heading
    assert "| rule | members | count server p50 |" in report
    assert "| stream p50 | stream p99 |" in report
    assert "python -m benchmarks --contacts 5000" in report
    rows = _table_rows(report)
    assert len(rows) >= 15
    for name in ("tag", "two_keywords", "negation", "int_range", "older_than", "within_last",
                 "mixed_10", "everyone"):
        assert name in rows, name
        assert rows[name].rstrip(" |").endswith("ok"), rows[name]  # contact rules: supported


def test_no_mismatch_between_duckdb_and_bitseg(smoke_run: tuple[str, list[dict[str, object]]]
                                               ) -> None:
    report, raw = smoke_run
    rules = raw[0]["rules"]
    assert isinstance(rules, dict)
    supported = {name: r for name, r in rules.items() if r["status"] == "ok"}
    assert len(supported) >= 10
    bad = {name: r["mismatches"] for name, r in rules.items() if r["mismatches"]}
    assert not bad, bad
    for name, r in supported.items():
        assert r["members"] == r["duckdb_count"], name
        assert r["stream_p50"] is not None and r["e2e_p50"] is not None, name  # both measured
    for row in _table_rows(report).values():
        assert "MISMATCH" not in row, row
    assert "supported rules: bitseg's in-process count" in report
    errors = {name: r["note"] for name, r in rules.items() if r["status"] == "error"}
    assert not errors, errors
