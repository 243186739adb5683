"""The change log through the real server process (`bitseg serve`, stopped by pid).

The log is written into the data folder before the server starts (an org with some
entries); the subprocess server then serves it to `bitseg watch` and to a webhook,
starts the webhook's worker again after a restart, and stops promptly on SIGTERM
while a live watch is open and a delivery is being retried.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from pathlib import Path

import orjson
from changes_harness import WAIT, Receiver, append_offline, entry, wait_until
from serverproc import ROOT, start_server, stop_process, subprocess_env

from bitseg.client import Client
from bitseg.store import open_store

ORG = "acme"
SEG = "seg_00000000000a"


def readline(process: subprocess.Popen[str], timeout: float) -> str:
    """One line of the process's stdout, waiting at most `timeout` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout), f"no output within {timeout:.0f} s"
    return process.stdout.readline()


def make_org(data: Path, n: int) -> None:
    store = open_store(data, ORG, create=True)
    assert store is not None
    store.close()
    append_offline(data, ORG, [entry(SEG, "VIP", f"c{i}", joined=i % 4 != 3) for i in range(n)])


def test_watch_and_webhooks_through_the_server_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    make_org(data, 12)
    with Receiver() as receiver:
        with start_server(data) as proc:
            cmd = [sys.executable, "-m", "bitseg.cli", "watch", "--org", ORG, "--server",
                   proc.address, "--no-follow", "--json", "--since", "2"]
            done = subprocess.run(
                cmd, capture_output=True, text=True, env=subprocess_env(), cwd=ROOT,
                timeout=WAIT,
            )
            assert done.returncode == 0, done.stderr
            watched = [orjson.loads(line) for line in done.stdout.splitlines()]
            assert [e["seq"] for e in watched] == list(range(3, 13))
            with Client(proc.address, timeout=WAIT) as client:
                client.add_webhook(ORG, receiver.url, "k", since=0)
                wait_until(lambda: len(receiver.delivered()) == 12, what="deliveries")
                receiver.fail_always = True
        append_offline(data, ORG, [entry(SEG, "VIP", "late")])
        with start_server(data) as proc, Client(proc.address, timeout=WAIT) as client:
            # the endpoint found on disk has a worker again: it tries (and fails) seq 13
            wait_until(
                lambda: any(a.status == 500 for a in receiver.all()), what="a failed attempt"
            )
            watcher = subprocess.Popen(
                [sys.executable, "-m", "bitseg.cli", "watch", "--org", ORG, "--server",
                 proc.address, "--since", "12"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                env=subprocess_env(), cwd=ROOT,
            )
            try:
                line = readline(watcher, WAIT)  # the live watch is open
                assert line.startswith("13\t")
                started = time.monotonic()
                assert stop_process(proc.process) == 0
                assert time.monotonic() - started < 5.0  # not held by the watch or retries
                assert watcher.wait(WAIT) == 1  # UNAVAILABLE: the stream ended
            finally:
                stop_process(watcher)  # type: ignore[arg-type]
        assert [e["seq"] for e in receiver.delivered()] == list(range(1, 13))
