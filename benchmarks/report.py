"""RESULTS.md: machine, versions, command, and per size the tables and the targets.

`python -m benchmarks` pickles its `Report` next to the data (`<data>/run-c<size>.pkl`);
`python -m benchmarks.report <pickle> --out FILE` renders it again (after a change
to this module) without re-running the measurements.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import bitseg
from benchmarks import ROOT
from benchmarks.dataset import KINDS, Dataset
from benchmarks.latency import NA, OK, RuleResult
from benchmarks.load import LoadResult
from benchmarks.rules import SEGMENT_NAME, SEGMENT_RULE
from benchmarks.stats import Sample, geomean
from benchmarks.throughput import ThroughputResult
from benchmarks.update import UpdateResult

MISMATCH = "MISMATCH"
GIB = 1 << 30


@dataclass
class SizeRun:
    """Everything measured for one dataset size."""

    contacts: int
    dataset: Dataset
    load: LoadResult
    rules: list[RuleResult] = field(default_factory=list)
    throughput: list[ThroughputResult] = field(default_factory=list)
    update: UpdateResult | None = None
    duck_load_seconds: float | None = None
    duck_rows: dict[str, int] = field(default_factory=dict)
    segment_note: str = ""
    server_rss_bytes: int = 0
    server_anon_bytes: int = 0  # RssAnon after the queries (heap and caches)
    cache_mb: int = 0  # the server's BITSEG_CACHE_MB
    seconds: float = 0.0

    @property
    def supported(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status == OK]

    @property
    def mismatches(self) -> list[RuleResult]:
        return [r for r in self.rules if r.mismatches]

    @property
    def ratios(self) -> list[float]:
        return [r.ratio for r in self.supported if not math.isnan(r.ratio)]


# ---------------------------------------------------------------- formatting
def ms(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "—"
    v = seconds * 1e3
    if v < 1:
        return f"{v:.3f}"
    if v < 100:
        return f"{v:.2f}"
    return f"{v:,.0f}"


def p50(sample: Sample) -> str:
    return ms(sample.p50) if sample else "—"


def p99(sample: Sample) -> str:
    return ms(sample.p99) if sample else "—"


def size_bytes(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def ratio_text(x: float) -> str:
    if math.isnan(x):
        return "—"
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2f}x"


# ---------------------------------------------------------------- machine, versions
def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": size_bytes(ram),
            "os": f"{platform.system()} {platform.release()}", "load": load}


def versions(duckdb_version: str | None) -> dict[str, str]:
    out = {"python": platform.python_version(), "bitseg": bitseg.__version__}
    for dist in ("pyroaring", "lmdb", "grpcio", "protobuf", "numpy", "duckdb"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    if duckdb_version:
        out["duckdb"] = duckdb_version
    return out


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    head = rev.stdout.strip() or "unknown"
    return head + (" + uncommitted changes" if dirty.stdout.strip() else "")


# ---------------------------------------------------------------- targets
@dataclass
class Target:
    text: str
    figure: str
    status: str  # "met" | "missed" | "not measured"


def _status(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets(run: SizeRun) -> list[Target]:
    """Issue 7's targets, evaluated on this run (they are stated for 1M / 10M contacts)."""
    out: list[Target] = []
    sup = [r for r in run.supported if r.server]
    na = [r.rule.name for r in run.rules if r.status != OK]
    na_note = f"; {len(na)} rule{'s' if len(na) > 1 else ''} n/a" if na else ""
    if sup:
        worst = max(sup, key=lambda r: r.server.p50)
        slow = [r.rule.name for r in sup if r.server.p50 > 1e-3]
        out.append(Target("Count server-side p50 <= 1 ms for every benchmark rule",
                          f"worst {ms(worst.server.p50)} ms ({worst.rule.name})"
                          + (f"; over 1 ms: {', '.join(slow)}" if slow else "") + na_note,
                          _status(not slow and not na)))
        singles = [r for r in sup if r.rule.single]
        if singles:
            worst1 = max(singles, key=lambda r: r.server.p50)
            slow1 = [r.rule.name for r in singles if r.server.p50 > 0.2e-3]
            out.append(Target("Count server-side p50 <= 0.2 ms for single-predicate rules",
                              f"worst {ms(worst1.server.p50)} ms ({worst1.rule.name})"
                              + (f"; over 0.2 ms: {', '.join(slow1)}" if slow1 else ""),
                              _status(not slow1)))
    g = geomean(run.ratios)
    if not math.isnan(g):
        out.append(Target(">= 100x faster than DuckDB (geometric mean of p50 ratios)",
                          f"{ratio_text(g)} over {len(run.ratios)} rules" + na_note,
                          _status(g >= 100 and not na)))
    else:
        out.append(Target(">= 100x faster than DuckDB", "DuckDB skipped", "not measured"))
    e2e = [r for r in sup if r.e2e]
    if e2e:
        w50 = max(e2e, key=lambda r: r.e2e.p50)
        w99 = max(e2e, key=lambda r: r.e2e.p99)
        med = sorted(r.e2e.p50 for r in e2e)[len(e2e) // 2]
        out.append(Target("End-to-end Count, one client: p50 <= 0.5 ms (every rule)",
                          f"worst {ms(w50.e2e.p50)} ms ({w50.rule.name}); median rule "
                          f"{ms(med)} ms", _status(w50.e2e.p50 <= 0.5e-3)))
        out.append(Target("End-to-end Count, one client: p99 <= 2 ms (every rule)",
                          f"worst {ms(w99.e2e.p99)} ms ({w99.rule.name})",
                          _status(w99.e2e.p99 <= 2e-3)))
    streamed = [r for r in sup if r.stream]
    if streamed:
        s50 = max(streamed, key=lambda r: r.stream.p50)
        s99 = max(streamed, key=lambda r: r.stream.p99)
        med = sorted(r.stream.p50 for r in streamed)[len(streamed) // 2]
        out.append(Target("End-to-end Count over a held CountStream, one client: p50 <= 0.5 ms "
                          "(every rule)",
                          f"worst {ms(s50.stream.p50)} ms ({s50.rule.name}); median rule "
                          f"{ms(med)} ms", _status(s50.stream.p50 <= 0.5e-3)))
        out.append(Target("End-to-end Count over a held CountStream, one client: p99 <= 2 ms "
                          "(every rule)",
                          f"worst {ms(s99.stream.p99)} ms ({s99.rule.name})",
                          _status(s99.stream.p99 <= 2e-3)))
    t16 = [t for t in run.throughput if t.tasks == 16]
    if t16:
        best = t16[0]
        out.append(Target(">= 5,000 counts/s with 16 concurrent clients",
                          f"{best.per_second:,.0f} counts/s ({best.label})",
                          _status(best.per_second >= 5000)))
    else:
        out.append(Target(">= 5,000 counts/s with 16 concurrent clients", "skipped",
                          "not measured"))
    everyone = next((r for r in sup if r.rule.name == "everyone" and r.resolve), None)
    if everyone is not None:
        out.append(Target("Resolve of 1M member ids to a Python client <= 0.3 s",
                          f"{ms(everyone.resolve.p50)} ms for {everyone.members:,} ids",
                          _status(everyone.resolve.p50 <= 0.3)
                          if run.contacts >= 1_000_000 else "not measured (under 1M ids)"))
    load = run.load
    full = load.activity_loaded
    load_ok = load.seconds <= 60 and full
    what = ", ".join(load.kinds)
    out.append(Target("Bulk load of 1M contacts with companies, deals and events <= 60 s",
                      f"{load.seconds:.1f} s ({what})"
                      + ("" if full else "; deals/events refused by the server"),
                      _status(load_ok) if full else "**missed** (not loadable yet)"))
    out.append(Target("Bulk load peak RSS <= 4 GiB", f"{size_bytes(load.peak_rss_bytes)} ({what})",
                      _status(load.peak_rss_bytes <= 4 * GIB)))
    if run.contacts >= 10_000_000 and sup:
        worst = max(sup, key=lambda r: r.server.p50)
        out.append(Target("10M: Count server-side <= 5 ms for every rule",
                          f"worst {ms(worst.server.p50)} ms ({worst.rule.name})",
                          _status(worst.server.p50 <= 5e-3)))
    else:
        out.append(Target("10M: Count server-side <= 5 ms for every rule",
                          "needs a 10M run", "not measured"))
    memory = (f"server RssAnon after the queries {size_bytes(run.server_anon_bytes)} with "
              f"BITSEG_CACHE_MB={run.cache_mb} (VmHWM incl. LMDB's file pages: "
              f"{size_bytes(run.server_rss_bytes)})")
    out.append(Target("10M: memory bounded by the configured cache size", memory,
                      "see the note below" if run.contacts >= 10_000_000 else "not measured"))
    if run.contacts != 1_000_000:  # the 1M targets, measured at another size
        for t in out:
            if not t.text.startswith("10M") and not t.status.startswith("not measured"):
                t.status = f"({t.status.strip('*')} at {run.contacts:,})"
    return out


# ---------------------------------------------------------------- the document
def _rules_table(run: SizeRun) -> list[str]:
    head = ("| rule | members | count server p50 | server p99 | cold p50 | cold p99 "
            "| eval_micros p50 | e2e p50 "
            "| e2e p99 | stream p50 | stream p99 | preview p50 | resolve p50 "
            "| DuckDB p50 | DuckDB p99 "
            "| DuckDB ids p50 | DuckDB/bitseg | check |")
    lines = [head, "|" + "|".join(["---"] + ["---:"] * 16 + ["---"]) + "|"]
    for r in run.rules:
        duck = [p50(r.duck), p99(r.duck), p50(r.duck_resolve)]
        if r.status == OK:
            check = (f"**{MISMATCH}**" if r.mismatches
                     else ("ok" if r.duck_count is not None else "—"))
            cells = [f"{r.members:,}", p50(r.server), p99(r.server), p50(r.server_cold),
                     p99(r.server_cold), p50(r.eval), p50(r.e2e),
                     p99(r.e2e), p50(r.stream), p99(r.stream), p50(r.preview),
                     p50(r.resolve), *duck, ratio_text(r.ratio), check]
        elif r.status == NA:
            cells = ["n/a (not supported yet)"] + ["—"] * 11 + duck + ["—", "—"]
        else:
            cells = ["**error**"] + ["—"] * 11 + duck + ["—", f"**{MISMATCH}**"
                                                         if r.mismatches else "error"]
        lines.append(f"| `{r.rule.name}` | " + " | ".join(cells) + " |")
    return lines


def _size_section(run: SizeRun) -> list[str]:
    ds, load = run.dataset, run.load
    files = ds.file_bytes()
    out = [f"## {run.contacts:,} contacts", ""]
    origin = ("reused from the cache" if ds.cached
              else f"generated in {ds.generate_seconds:.1f} s")
    out += ["### Dataset", "",
            f"`bitseg.demo.generate_org(contacts={ds.contacts}, seed={ds.seed}, "
            f"now=\"{ds.now}\", activity=True)` — {origin} (`{ds.path.name}`).", "",
            "| kind | records | JSONL size | loaded into bitseg | DuckDB rows |",
            "|---|---:|---:|---|---:|"]
    for kind in KINDS:
        loaded = "yes" if kind in load.kinds else "**no** (refused)"
        out.append(f"| {kind} | {ds.counts.get(kind, 0):,} | {size_bytes(files.get(kind, 0))} "
                   f"| {loaded} | {run.duck_rows.get(kind, 0):,} |")
    out += ["", "### Bulk load", "",
            "| loaded | load time | Service.ingest time | peak RSS (VmHWM) | on disk "
            "(allocated) | on disk (apparent) |", "|---|---:|---:|---:|---:|---:|",
            f"| {', '.join(load.kinds)} | {load.seconds:.1f} s | {load.ingest_seconds:.1f} s "
            f"| {size_bytes(load.peak_rss_bytes)} | {size_bytes(load.disk_bytes)} "
            f"| {size_bytes(load.apparent_bytes)} |", ""]
    for note in load.notes:
        out.append(f"- Note: {note}.")
    if load.writer_cpu_seconds is not None:
        out.append(f"- CPU time: writer {load.writer_cpu_seconds:.1f} s, parse process "
                   f"{load.parser_cpu_seconds or 0:.1f} s (they run side by side).")
    if run.duck_load_seconds is not None:
        out.append(f"- DuckDB (peer) loaded the same five JSONL files in "
                   f"{run.duck_load_seconds:.1f} s.")
    out.append(f"- Server memory after the query benchmarks: RssAnon (heap, caches) "
               f"{size_bytes(run.server_anon_bytes)}, VmHWM (incl. LMDB's file-backed pages, "
               f"which the kernel can drop) {size_bytes(run.server_rss_bytes)}; "
               f"BITSEG_CACHE_MB={run.cache_mb}.")
    out += ["", "### Latency per rule (milliseconds)", ""]
    out += _rules_table(run)
    g = geomean(run.ratios)
    out += ["", f"**Geometric mean DuckDB/bitseg ratio (count p50, server-side): "
            f"{ratio_text(g)}** over {len(run.ratios)} rules.", ""]
    e2e_ratios = [r.duck.p50 / r.e2e.p50 for r in run.supported if r.duck and r.e2e]
    if e2e_ratios:
        out += [f"Against bitseg's end-to-end gRPC Count instead: "
                f"{ratio_text(geomean(e2e_ratios))}.", ""]
    n_samples = [r.server.n for r in run.supported if r.server]
    if n_samples:
        out += [f"Samples per rule: count {min(n_samples)}–{max(n_samples)}, resolve "
                f"{min((r.resolve.n for r in run.supported), default=0)}–"
                f"{max((r.resolve.n for r in run.supported), default=0)}.", ""]
    out += ["### Correctness: bitseg vs DuckDB", ""]
    checked = [r for r in run.rules if r.checked]
    bad = run.mismatches
    if bad:
        out.append(f"**{MISMATCH}: {len(bad)} rule(s) disagree — these are bugs.**")
        out.append("")
        for r in bad:
            for m in r.mismatches:
                out.append(f"- **{MISMATCH}** `{r.rule.name}`: {m}")
    elif checked:
        out.append(f"All {len(checked)} supported rules: bitseg's in-process count, gRPC count, "
                   "preview count and resolved member ids equal DuckDB's count and ids.")
    else:
        out.append("Not checked (DuckDB skipped).")
    errors = [r for r in run.rules if r.status not in (OK, NA)]
    for r in errors:
        out.append(f"- **error** `{r.rule.name}`: {r.note}")
    out += ["", "### Concurrent Count throughput (grpc.aio, one connection per task)", ""]
    if run.throughput:
        out += ["| workload | client tasks | client processes | server workers | counts/s "
                "| call p50 | call p99 | calls | errors |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for t in run.throughput:
            err = f"{t.errors:,}" + (f" ({t.first_error})" if t.first_error else "")
            processes = getattr(t, "processes", 1)  # runs pickled before these columns
            workers = getattr(t, "server_workers", 1)
            out.append(f"| {t.label} | {t.tasks} | {processes} | {workers} "
                       f"| {t.per_second:,.0f} | {p50(t.latency)} ms "
                       f"| {p99(t.latency)} ms | {t.calls:,} | {err} |")
    else:
        out.append("Skipped.")
    out += ["", "### Incremental updates (contact patches through Client.ingest)", ""]
    up = run.update
    if up is not None:
        out += ["| batches | batch size | contacts/s | batch p50 | batch p99 | note |",
                "|---:|---:|---:|---:|---:|---|",
                f"| {up.batches} | {up.batch_size:,} | {up.per_second:,.0f} | {p50(up.batch)} ms "
                f"| {p99(up.batch)} ms | {up.error or ''} |"]
    else:
        out.append("Skipped.")
    out += ["", "### Not supported yet (n/a)", ""]
    na = [r for r in run.rules if r.status == NA]
    if na:
        for r in na:
            out.append(f"- `{r.rule.name}` ({r.rule.title}): {r.note}")
    else:
        out.append("Nothing: every benchmark rule ran.")
    if run.segment_note and not any("segment" in r.rule.needs for r in na):
        out.append(f"- Segment: {run.segment_note}")
    out += ["", "### Targets (issue 7)", ""]
    if run.contacts != 1_000_000:
        out += [f"The targets are stated for 1M contacts; this run has {run.contacts:,}.", ""]
    out += ["| target | measured | status |", "|---|---|---|"]
    for t in targets(run):
        out.append(f"| {t.text} | {t.figure} | {t.status} |")
    out.append("")
    return out


@dataclass
class Report:
    """One invocation's results: everything `render` needs (picklable)."""

    runs: list[SizeRun]
    command: str
    versions: dict[str, str]
    machine: dict[str, str]
    started: datetime
    seconds: float
    revision: str
    load_at_end: str
    rule_texts: dict[str, str]
    rules_sql: dict[str, str]
    titles: dict[str, str]


def render(report: Report) -> str:
    machine_, versions_ = report.machine, report.versions
    out = ["# bitseg benchmark results", "",
           f"Written by `python -m benchmarks` on {report.started:%Y-%m-%d %H:%M} UTC in "
           f"{report.seconds / 60:.1f} min, at revision {report.revision}.", "",
           "## Command", "", "```", report.command, "```", "",
           "## Machine", "",
           f"- CPU: {machine_['cpu']}, {machine_['cores']} cores; RAM {machine_['ram']}; "
           f"{machine_['os']}",
           f"- Load average when the run started: {machine_['load']}; when it ended: "
           f"{report.load_at_end} (the machine may be shared with other work; all figures "
           "are wall-clock).", "",
           "## Versions", "",
           "| " + " | ".join(versions_) + " |",
           "|" + "---|" * len(versions_),
           "| " + " | ".join(versions_.values()) + " |", "",
           "## Method", "",
           "- **count server p50/p99**: `Service.count`'s own elapsed time, in the benchmark "
           "process over the same LMDB environment as the server (the evaluation alone). "
           "**eval_micros**: the same figure as reported in the gRPC Count response. "
           "Repeated counts of one rule reuse its plan and cached leaf answers (kept per data "
           "generation); **cold** drops both before every count, as a write does, so it is "
           "the first evaluation after a write (deserialized bitmaps stay cached: they are "
           "revalidated by version, not dropped).",
           "- **e2e**: wall time of `Client.count_with_time` (JSON rule, gRPC, loopback, one "
           "client). **stream**: the same count over one held `Client.count_stream()` "
           "(the CountStream RPC: one request and its answer per count on an open stream, "
           "as a segment builder counts at every keystroke). "
           "**preview**: `Client.preview(limit=10)`. **resolve**: `Client.resolve` "
           "until every member id is in a Python list.",
           "- **DuckDB**: the same rule as SQL (listed at the end) over tables loaded from the "
           "same JSONL files into a DuckDB database file (or memory, with `--duckdb-memory`; "
           "events stored in time order, event type an ENUM; see `benchmarks/peer.py`): "
           "`SELECT count(*)` (and `SELECT c.id` into "
           "a Python list for *DuckDB ids*), default threads. **DuckDB/bitseg** = DuckDB "
           "count p50 / bitseg server-side count p50.",
           "- Each series: a short warm-up, then up to `--reps` (resolve: `--resolve-reps`) "
           "repetitions within a per-series time budget. The answers are cross-checked "
           "(counts and member id sets) and any difference is flagged as "
           f"**{MISMATCH}**.",
           "- **Bulk load**: `Service.ingest` of the five JSONL files in one batch, in a fresh "
           "subprocess (`benchmarks.load_worker`); the time includes reading the files, and "
           "the peak RSS (VmHWM) includes their bytes, which the process holds as the server's "
           "Ingest RPC does.",
           "- n/a: the server refuses the rule as not implemented yet "
           "(INVALID_ARGUMENT \"... not indexed by this version yet\"), or the API it needs "
           "(segments) does not exist yet. DuckDB's figures are still shown for them.", ""]
    for run in report.runs:
        out += _size_section(run)
    out += ["## The benchmark rules", "",
            f"Segment `{SEGMENT_NAME}` (created through the client when the segment API "
            f"exists): `{_json(SEGMENT_RULE)}`.", "",
            "| rule | what | text form | SQL (WHERE over contacts c) |", "|---|---|---|---|"]
    for name, text in report.rule_texts.items():
        sql = report.rules_sql[name].replace("|", "\\|")
        out.append(f"| `{name}` | {report.titles[name]} | `{text}` | `{sql}` |")
    out.append("")
    return "\n".join(out)


def _json(obj: object) -> str:
    import orjson

    return orjson.dumps(obj).decode()


def now_utc() -> datetime:
    return datetime.now(UTC)


def save(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(report))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report",
                                     description="Render a pickled run again.")
    parser.add_argument("pickle", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    report = pickle.loads(args.pickle.read_bytes())  # our own file, written by the suite
    args.out.write_text(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
