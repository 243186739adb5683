"""`python -m benchmarks`: run the suite and write benchmarks/RESULTS.md.

    python -m benchmarks                        # 1M contacts, the full suite
    python -m benchmarks --contacts 100000      # one smaller size
    python -m benchmarks --contacts 100000 1000000 --out /tmp/RESULTS.md
    python -m benchmarks --contacts 5000 --reps 5 --throughput-seconds 0.3 --skip-update
    python -m benchmarks --contacts 100000 --workers 2 --client-processes 2

Datasets are generated once per (size, seed, generator version) under
`<data>/datasets/` (default `bench-data/`, git-ignored) and reused; each run loads
a fresh LMDB data folder `<data>/lmdb-<size>` (removed afterwards unless --keep-data).
Servers listen on 127.0.0.1 only and are stopped by pid. Exit code 0 even when the
report flags a mismatch (use --strict to get 3 then).
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import orjson

from benchmarks import DEFAULT_DATA, DEFAULT_OUT, NOW, ORG, SEED
from benchmarks.dataset import ensure_dataset
from benchmarks.latency import ERROR, NA, OK, LatencyConfig, run_latency
from benchmarks.load import LoadResult, run_load
from benchmarks.load_worker import is_unsupported
from benchmarks.peer import DuckPeer
from benchmarks.report import (
    Report,
    SizeRun,
    git_revision,
    machine,
    now_utc,
    render,
    save,
    targets,
    versions,
)
from benchmarks.rules import SEGMENT_NAME, SEGMENT_RULE, BenchRule, benchmark_rules
from benchmarks.server import rss_anon_bytes, start_server, vm_hwm_bytes
from benchmarks.throughput import run_throughput
from benchmarks.update import run_updates
from bitseg.client import BitsegClientError, Client
from bitseg.rules import rule_from_json, to_text
from bitseg.service import Service
from bitseg.store.orgstore import cache_bytes_from_env
from bitseg.timeutil import parse_instant

_T0 = time.perf_counter()


def log(message: str) -> None:
    sys.stderr.write(f"[{time.perf_counter() - _T0:7.1f} s] {message}\n")
    sys.stderr.flush()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--contacts", type=int, nargs="+", default=[1_000_000],
                   help="dataset size(s) (default 1000000)")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--reps", type=int, default=200, help="Count/Preview/DuckDB repetitions")
    p.add_argument("--resolve-reps", type=int, default=20,
                   help="Resolve repetitions (0: no resolve and no id check)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--budget", type=float, default=10.0,
                   help="seconds at most per measured series (at least 3 samples)")
    p.add_argument("--throughput-seconds", type=float, default=5.0)
    p.add_argument("--workers", type=int, default=1,
                   help="server processes sharing the port (bitseg serve --workers)")
    p.add_argument("--client-processes", type=int, default=1,
                   help="client processes the throughput tasks are spread over")
    p.add_argument("--update-batches", type=int, default=20)
    p.add_argument("--update-batch-size", type=int, default=1_000)
    p.add_argument("--update-budget", type=float, default=60.0)
    p.add_argument("--rules", default="", help="comma-separated rule names (default: all)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--json", type=Path, default=None, help="also write raw figures as JSON")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="work folder: dataset cache and LMDB data (default bench-data/)")
    p.add_argument("--load-timeout", type=float, default=7200.0)
    p.add_argument("--skip-duckdb", action="store_true")
    p.add_argument("--duckdb-memory", action="store_true",
                   help="DuckDB in memory instead of a (compressed) database file")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-update", action="store_true")
    p.add_argument("--keep-data", action="store_true",
                   help="keep the LMDB data folder after the run")
    p.add_argument("--reuse-load", action="store_true",
                   help="reuse a kept, unmodified LMDB folder of the same dataset (no load)")
    p.add_argument("--strict", action="store_true", help="exit 3 if any mismatch is flagged")
    return p.parse_args(argv)


def create_segment(client: Client) -> tuple[str, str]:
    """Create the benchmark segment: ("ok", "") or (status, why) for the segment rule.

    A missing or unimplemented segment API makes the rule n/a; any other failure
    makes it an error (reported loudly) without stopping the suite.
    """
    create = getattr(client, "create_segment", None)
    if create is None:
        return NA, "the segment API does not exist yet (Client.create_segment; issue 5)"
    try:
        create(ORG, SEGMENT_NAME, rule=SEGMENT_RULE, description="benchmark segment")
    except BitsegClientError as e:
        if e.code == grpc.StatusCode.ALREADY_EXISTS:
            return OK, ""
        if e.code == grpc.StatusCode.UNIMPLEMENTED or is_unsupported(e.message):
            return NA, f"creating the segment: {e.code.name}: {e.message}"
        return ERROR, f"Client.create_segment failed: {e.code.name}: {e.message}"
    except Exception as e:  # the client API is being built alongside; never fatal here
        return ERROR, f"Client.create_segment failed: {type(e).__name__}: {e}"
    return OK, ""


def select_rules(all_rules: list[BenchRule], names: str) -> list[BenchRule]:
    if not names:
        return all_rules
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {r.name: r for r in all_rules}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"unknown rule(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in wanted]


def run_size(contacts: int, args: argparse.Namespace, rules: list[BenchRule],
             log: Callable[[str], None]) -> SizeRun:
    started = time.perf_counter()
    data_root: Path = args.data.resolve()
    log(f"=== {contacts:,} contacts ===")
    dataset = ensure_dataset(data_root, contacts, args.seed, NOW, log)
    org_dir = data_root / f"lmdb-{contacts}"
    marker = org_dir.with_name(org_dir.name + ".load.json")
    load = reused_load(marker, org_dir, dataset.path.name) if args.reuse_load else None
    if load is None:
        marker.unlink(missing_ok=True)
        load = run_load(org_dir, ORG, dataset, args.load_timeout, log)
        marker.write_bytes(orjson.dumps({"dataset": dataset.path.name,
                                         "load": dataclasses.asdict(load)}))
    else:
        log(f"reusing the loaded {org_dir} (load figures from that load)")
    run = SizeRun(contacts, dataset, load)
    peer: DuckPeer | None = None
    if not args.skip_duckdb:
        peer = DuckPeer(":memory:" if args.duckdb_memory
                        else data_root / f"duckdb-{contacts}.duckdb")
        log("DuckDB: loading the same JSONL files ...")
        run.duck_load_seconds = peer.load(dataset.path)
        run.duck_rows = dict(peer.rows)
        log(f"DuckDB: loaded in {run.duck_load_seconds:.1f} s {peer.rows}")
    cfg = LatencyConfig(args.reps, args.resolve_reps, args.warmup, args.budget, peer is not None)
    now_epoch = parse_instant(NOW)
    try:
        with start_server(org_dir, data_root / f"server-{contacts}.log",
                          workers=args.workers) as server:
            log(f"server pid {server.pid} on {server.address} ({args.workers} worker(s))")
            with Client(server.address, timeout=600.0) as client:
                client.wait_ready(60.0)
                unavailable: dict[str, tuple[str, str]] = {}
                if not load.activity_loaded:
                    unavailable["activity"] = (
                        NA, "deals/events not loaded: the server refused them")
                segment_status, run.segment_note = create_segment(client)
                if segment_status != OK:
                    unavailable["segment"] = (segment_status, run.segment_note)
                    log(f"segment: {segment_status}: {run.segment_note}")
                log("latency per rule:")
                service = Service(org_dir)
                try:
                    run.rules = run_latency(rules, service, client, peer, ORG, NOW, now_epoch,
                                            cfg, unavailable, log)
                finally:
                    service.close()
                if peer is not None:
                    peer.close()
                    peer = None
                run.server_rss_bytes = vm_hwm_bytes(server.pid)
                run.server_anon_bytes = rss_anon_bytes(server.pid)
                run.cache_mb = cache_bytes_from_env() >> 20
                supported = [r.rule for r in run.rules if r.status == OK]
                if not args.skip_throughput and supported:
                    log("throughput:")
                    main_rule = next((r for r in supported if r.name == "two_keywords"),
                                     supported[0])
                    workloads = {
                        f"`{main_rule.name}`": [main_rule.rule],
                        f"mix of {len(supported)} rules": [r.rule for r in supported],
                    }
                    run.throughput = run_throughput(
                        server.address, ORG, NOW, workloads, duration=args.throughput_seconds,
                        log=log, processes=args.client_processes, server_workers=args.workers)
                if not args.skip_update and args.update_batches > 0:
                    log("incremental updates:")
                    marker.unlink(missing_ok=True)  # the data no longer equals the dataset
                    run.update = run_updates(client, ORG, contacts, NOW, args.update_batches,
                                             args.update_batch_size, args.update_budget, log=log)
    except BaseException:
        if marker.is_file():
            log(f"kept {org_dir}: rerun with --reuse-load to skip the load")
        raise
    else:
        if not args.keep_data:
            shutil.rmtree(org_dir, ignore_errors=True)
            marker.unlink(missing_ok=True)
    finally:
        if peer is not None:
            peer.close()
    run.seconds = time.perf_counter() - started
    return run


def reused_load(marker: Path, org_dir: Path, dataset_name: str) -> LoadResult | None:
    """The figures of an earlier, unmodified load of this dataset, if there is one."""
    if not marker.is_file() or not org_dir.is_dir():
        return None
    data = orjson.loads(marker.read_bytes())
    if data.get("dataset") != dataset_name:
        return None
    load = LoadResult(**data["load"])
    load.notes.append("load figures from an earlier run (--reuse-load)")
    return load


def raw_figures(run: SizeRun) -> dict[str, object]:
    return {
        "contacts": run.contacts,
        "load": {"seconds": run.load.seconds, "peak_rss_bytes": run.load.peak_rss_bytes,
                 "disk_bytes": run.load.disk_bytes, "kinds": run.load.kinds},
        "rules": {
            r.rule.name: {
                "status": r.status, "note": r.note, "members": r.members,
                "duckdb_count": r.duck_count, "mismatches": r.mismatches,
                "server_p50": r.server.p50 if r.server else None,
                "server_p99": r.server.p99 if r.server else None,
                "e2e_p50": r.e2e.p50 if r.e2e else None,
                "e2e_p99": r.e2e.p99 if r.e2e else None,
                "stream_p50": r.stream.p50 if r.stream else None,
                "stream_p99": r.stream.p99 if r.stream else None,
                "preview_p50": r.preview.p50 if r.preview else None,
                "resolve_p50": r.resolve.p50 if r.resolve else None,
                "duckdb_p50": r.duck.p50 if r.duck else None,
            } for r in run.rules
        },
        "throughput": [{"tasks": t.tasks, "workload": t.label, "per_second": t.per_second,
                        "client_processes": t.processes, "server_workers": t.server_workers}
                       for t in run.throughput],
        "update_per_second": run.update.per_second if run.update else None,
        "targets": [{"target": t.text, "figure": t.figure, "status": t.status}
                    for t in targets(run)],
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started_at = now_utc()
    machine_info = machine()
    revision = git_revision()  # the code this run imports
    all_rules = benchmark_rules(parse_instant(NOW))
    rules = select_rules(all_rules, args.rules)
    runs = [run_size(n, args, rules, log) for n in args.contacts]
    texts, sqls, titles = {}, {}, {}
    for r in rules:
        try:
            texts[r.name] = to_text(rule_from_json(r.rule))
        except Exception:  # a rule form the text printer does not know yet
            texts[r.name] = r.json()
        sqls[r.name] = r.where
        titles[r.name] = r.title
    duck_version = None if args.skip_duckdb else DuckPeer.version_string()
    command = "python -m benchmarks " + shlex.join(argv) if argv else "python -m benchmarks"
    report = Report(runs, command, versions(duck_version), machine_info, started_at,
                    time.perf_counter() - _T0, revision, machine()["load"], texts, sqls,
                    titles)
    pickled = args.data / f"run-{'-'.join(f'c{n}' for n in args.contacts)}.pkl"
    save(report, pickled)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(report))
    log(f"wrote {args.out}; `python -m benchmarks.report {pickled} --out FILE` renders it again")
    if args.json is not None:
        args.json.write_bytes(orjson.dumps([raw_figures(r) for r in runs],
                                           option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    bad = [(run.contacts, r.rule.name, m) for run in runs for r in run.rules for m in r.mismatches]
    for contacts, name, message in bad:
        log(f"MISMATCH at {contacts:,} contacts, rule {name}: {message}")
    return 3 if bad and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
