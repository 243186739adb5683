"""Per-rule latency: Count (server-side and end to end), Preview, Resolve, and DuckDB.

For every benchmark rule, in this order (one rule at a time, so nothing overlaps):

- `server`: `Service.count`'s own seconds, in this process over the same LMDB
  environment the server has open (the pure evaluation time);
- `eval` and `e2e`: `Client.count_with_time` over gRPC on loopback: the response's
  `eval_micros` and the wall time around the call;
- `stream`: the same count over one held `CountStream` (`Client.count_stream()`, as a
  segment builder counts at every keystroke), wall time per count;
- `preview` (10 members) and `resolve` (every member id into a Python list), wall time;
- `duck` / `duck_resolve`: the rule's SQL `COUNT(*)` and id list in DuckDB, wall time.

Then the answers are compared: bitseg's in-process count, gRPC count, preview count
and resolved ids against DuckDB's count and ids. Any difference is a mismatch that
the report shows loudly. A rule the server refuses as not implemented yet is "n/a".
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from benchmarks.load_worker import is_unsupported
from benchmarks.peer import DuckPeer
from benchmarks.rules import BenchRule
from benchmarks.stats import Sample, repeat
from bitseg.client import BitsegClientError, Client
from bitseg.errors import BitsegError
from bitseg.rules import rule_from_json
from bitseg.service import Service

NA = "n/a"
OK = "ok"
ERROR = "error"


@dataclass
class LatencyConfig:
    reps: int = 200  # Count / Preview / DuckDB count repetitions
    resolve_reps: int = 20  # Resolve (bitseg and DuckDB) repetitions
    warmup: int = 5
    budget: float = 10.0  # seconds per measured series
    duckdb: bool = True


@dataclass
class RuleResult:
    rule: BenchRule
    status: str = OK
    note: str = ""
    members: int | None = None
    server: Sample = field(default_factory=Sample)
    server_cold: Sample = field(default_factory=Sample)  # plan and leaf caches dropped
    eval: Sample = field(default_factory=Sample)
    e2e: Sample = field(default_factory=Sample)
    stream: Sample = field(default_factory=Sample)  # e2e over one held CountStream
    preview: Sample = field(default_factory=Sample)
    resolve: Sample = field(default_factory=Sample)
    duck: Sample = field(default_factory=Sample)
    duck_resolve: Sample = field(default_factory=Sample)
    duck_count: int | None = None
    mismatches: list[str] = field(default_factory=list)
    duck_error: str = ""

    @property
    def ratio(self) -> float:
        """DuckDB p50 / bitseg server-side p50 (nan when either is missing)."""
        if self.status != OK or not self.duck or not self.server or self.server.p50 <= 0:
            return math.nan
        return self.duck.p50 / self.server.p50

    @property
    def checked(self) -> bool:
        return self.status == OK and self.duck_count is not None


def _unsupported(e: BitsegClientError) -> bool:
    return e.code == grpc.StatusCode.UNIMPLEMENTED or (
        e.code == grpc.StatusCode.INVALID_ARGUMENT and is_unsupported(e.message)
    )


def _timed(fn: Callable[[], object]) -> Callable[[], float]:
    def once() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return once


def measure_rule(
    rule: BenchRule,
    service: Service,
    client: Client,
    peer: DuckPeer | None,
    org: str,
    now: str,
    now_epoch: int,
    cfg: LatencyConfig,
    unavailable: dict[str, tuple[str, str]],
) -> RuleResult:
    """Measure one rule; `unavailable` maps a need ("activity", "segment") to
    (status, why) when the rule cannot run."""
    result = RuleResult(rule)
    ids: list[str] | None = None
    missing = [unavailable[n] for n in sorted(rule.needs) if n in unavailable]
    if missing:
        result.status = ERROR if any(s == ERROR for s, _ in missing) else NA
        result.note = "; ".join(why for _, why in missing)
    else:
        try:
            ids = _measure_bitseg(result, service, client, org, now, now_epoch, cfg)
        except Exception as e:  # e.g. the server failed mid-series: report, go on
            result.status, result.note = ERROR, f"{type(e).__name__}: {e}"
    if peer is not None:
        _measure_duckdb(result, peer, cfg, ids)
    return result


def _measure_bitseg(result: RuleResult, service: Service, client: Client, org: str, now: str,
                    now_epoch: int, cfg: LatencyConfig) -> list[str] | None:
    """Fill the bitseg columns; returns the resolved member ids (None if not resolved)."""
    rule = result.rule
    try:
        count, _ = client.count_with_time(org, rule.rule, now=now)
    except BitsegClientError as e:
        result.status = NA if _unsupported(e) else ERROR
        result.note = f"{e.code.name}: {e.message}"
        return None
    result.members = count
    model = rule_from_json(rule.rule)
    try:
        local_count, _ = service.count(org, model, now_epoch)
    except BitsegError as e:
        result.status, result.note = ERROR, f"in-process Service.count: {e.message}"
        return None
    if local_count != count:
        result.mismatches.append(f"in-process count {local_count:,} != gRPC count {count:,}")
    result.server = repeat(lambda: service.count(org, model, now_epoch)[1],
                           cfg.reps, cfg.warmup, cfg.budget)

    def cold_count() -> float:
        service.forget_query_caches(org)  # as after a write: no plan, no cached leaf
        return service.count(org, model, now_epoch)[1]

    result.server_cold = repeat(cold_count, cfg.reps, cfg.warmup, cfg.budget)

    def grpc_count() -> float:
        started = time.perf_counter()
        n, micros = client.count_with_time(org, rule.rule, now=now)
        elapsed = time.perf_counter() - started
        result.eval.values.append(micros / 1e6)
        if n != count:
            result.mismatches.append(f"gRPC count changed between calls: {n:,} != {count:,}")
        return elapsed

    result.e2e = repeat(grpc_count, cfg.reps, cfg.warmup, cfg.budget)
    result.eval.values = result.eval.values[cfg.warmup:]
    with client.count_stream() as stream:
        def stream_count() -> float:
            started = time.perf_counter()
            n = stream.count(org, rule.rule, now=now)
            elapsed = time.perf_counter() - started
            if n != count:
                result.mismatches.append(f"CountStream count {n:,} != Count {count:,}")
            return elapsed

        result.stream = repeat(stream_count, cfg.reps, cfg.warmup, cfg.budget)
    preview = client.preview(org, rule.rule, limit=10, now=now)
    if preview.count != count:
        result.mismatches.append(f"preview count {preview.count:,} != count {count:,}")
    if len(preview.members) != min(10, count):
        result.mismatches.append(f"preview gave {len(preview.members)} members of {count:,}")
    result.preview = repeat(_timed(lambda: client.preview(org, rule.rule, limit=10, now=now)),
                            cfg.reps, cfg.warmup, cfg.budget)
    if cfg.resolve_reps <= 0:
        return None
    ids = client.resolve(org, rule.rule, now=now)
    if len(ids) != count:
        result.mismatches.append(f"resolve gave {len(ids):,} ids, count says {count:,}")
    if len(set(ids)) != len(ids):
        result.mismatches.append(f"resolve gave {len(ids) - len(set(ids)):,} duplicate ids")
    result.resolve = repeat(_timed(lambda: client.resolve(org, rule.rule, now=now)),
                            cfg.resolve_reps, min(cfg.warmup, 1), cfg.budget)
    return ids


def _measure_duckdb(result: RuleResult, peer: DuckPeer, cfg: LatencyConfig,
                    ids: list[str] | None) -> None:
    rule = result.rule
    try:
        result.duck_count = peer.count(rule.count_sql())
    except Exception as e:  # a broken SQL is reported, not fatal
        result.duck_error = f"{type(e).__name__}: {e}"
        if result.status == OK:
            result.mismatches.append(f"DuckDB failed: {result.duck_error}")
        return
    result.duck = repeat(_timed(lambda: peer.count(rule.count_sql())),
                         cfg.reps, cfg.warmup, cfg.budget)
    if cfg.resolve_reps > 0:
        duck_ids = peer.ids(rule.ids_sql())
        result.duck_resolve = repeat(_timed(lambda: peer.ids(rule.ids_sql())),
                                     cfg.resolve_reps, min(cfg.warmup, 1), cfg.budget)
        if ids is not None:
            _compare_ids(result, ids, duck_ids)
    if result.status == OK and result.members != result.duck_count:
        result.mismatches.insert(
            0, f"count: bitseg {result.members:,} != DuckDB {result.duck_count:,}"
        )


def _compare_ids(result: RuleResult, ids: list[str], duck_ids: list[str]) -> None:
    ours, theirs = set(ids), set(duck_ids)
    if ours == theirs:
        return
    only_ours = sorted(ours - theirs)
    only_theirs = sorted(theirs - ours)
    result.mismatches.append(
        f"member ids differ: {len(only_ours):,} only in bitseg (e.g. {only_ours[:5]}), "
        f"{len(only_theirs):,} only in DuckDB (e.g. {only_theirs[:5]})"
    )


def run_latency(
    rules: list[BenchRule],
    service: Service,
    client: Client,
    peer: DuckPeer | None,
    org: str,
    now: str,
    now_epoch: int,
    cfg: LatencyConfig,
    unavailable: dict[str, tuple[str, str]],
    log: Callable[[str], None] = print,
) -> list[RuleResult]:
    results = []
    for rule in rules:
        gc.collect()  # no collection of the previous rule's garbage inside this rule's series
        started = time.perf_counter()
        r = measure_rule(rule, service, client, peer, org, now, now_epoch, cfg, unavailable)
        results.append(r)
        shown = (f"{r.members:,} members, server p50 {r.server.p50 * 1e3:.3f} ms"
                 if r.status == OK else f"{r.status}: {r.note}")
        duck = f", DuckDB p50 {r.duck.p50 * 1e3:.2f} ms" if r.duck else ""
        flag = f"  MISMATCH: {'; '.join(r.mismatches)}" if r.mismatches else ""
        log(f"  {rule.name:<20} {shown}{duck} ({time.perf_counter() - started:.1f} s){flag}")
    return results
