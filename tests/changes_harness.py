"""Test helpers for the change log readers: an in-process server, log entries, a receiver.

`LoopServer` runs a real `BitsegServer` (gRPC on 127.0.0.1, port 0 unless given) on its
own event loop thread and keeps a handle on it, so tests can append change log entries
through the server's own `Service` on its writer thread (`append`): the commit listener
fires exactly as it does for a real write. `Receiver` is an HTTP server on 127.0.0.1
(port 0, a thread) recording every POST and failing the first `fail_first` with 500.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bitseg.changes.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bitseg.server.app import BitsegServer
from bitseg.store import OrgStore, changelog, open_store

WAIT = 20.0  # every bounded wait in these tests


def entry(segment_id: str, segment: str, contact: str, joined: bool = True) -> dict[str, object]:
    return {
        "type": changelog.JOINED if joined else changelog.LEFT,
        "segment_id": segment_id,
        "segment": segment,
        "contact_id": contact,
        "at": "2026-11-20T12:00:00Z",
        "cause": "write",
    }


def append_to(store: OrgStore, entries: list[dict[str, object]]) -> int:
    """Append in one write transaction (commit listeners fire); the last seq."""
    with store.write() as txn:
        return changelog.append(store, txn, entries)


def read_log(store: OrgStore, after: int = 0) -> list[dict[str, object]]:
    with store.read() as txn:
        return list(changelog.read_after(store, txn, after, 1_000_000))


def append_offline(data_dir: Path, org: str, entries: list[dict[str, object]]) -> int:
    """Append to an org's store while no server has it open."""
    store = open_store(data_dir, org, create=False)
    assert store is not None, f"no org {org} in {data_dir}"
    try:
        return append_to(store, entries)
    finally:
        store.close()


def wait_until(check: Callable[[], bool], timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


class LoopServer:
    """A `BitsegServer` on a private event loop thread; `stop()` is graceful."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.server = BitsegServer(data_dir, host="127.0.0.1", port=port)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> LoopServer:
        self._thread.start()
        self._run(self.server.start())
        self.port = self.server.bound_port
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def hub(self) -> Any:
        return self.server._changes

    def store(self, org: str) -> OrgStore:
        service = self.server._service
        assert service is not None
        return service.org_store(org)

    def append(self, org: str, entries: list[dict[str, object]]) -> int:
        """Append on the server's writer thread (like every server write)."""
        store = self.store(org)
        return self.server._writer.submit(append_to, store, entries).result(30)

    def stop(self, grace: float = 1.0) -> None:
        if not self._thread.is_alive():
            return
        try:
            self._run(self.server.stop(grace))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)
            self.loop.close()

    def __enter__(self) -> LoopServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Attempt:
    """One POST the receiver got and what it answered."""

    status: int
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)

    @property
    def events(self) -> list[dict[str, Any]]:
        return orjson.loads(self.body)["events"]  # type: ignore[no-any-return]

    @property
    def timestamp(self) -> str:
        return self.headers.get(TIMESTAMP_HEADER.lower(), "")

    @property
    def signature(self) -> str:
        return self.headers.get(SIGNATURE_HEADER.lower(), "")


class Receiver:
    """An HTTP endpoint on 127.0.0.1 recording POSTs; answers 500 while `failing()`."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.fail_always = False
        self.attempts: list[Attempt] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    failing = receiver.fail_always or len(receiver.attempts) < receiver.fail_first
                    status = 500 if failing else 200
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.attempts.append(Attempt(status, headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)

    def accepted(self) -> list[Attempt]:
        with self.lock:
            return [a for a in self.attempts if a.status == 200]

    def all(self) -> list[Attempt]:
        with self.lock:
            return list(self.attempts)

    def delivered(self) -> list[dict[str, Any]]:
        """Every event of every acknowledged delivery, in arrival order."""
        return [e for a in self.accepted() for e in a.events]
