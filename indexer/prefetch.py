"""Events files parsed in a second process while the writer works on the other kinds.

A bulk load applies companies, campaigns, contacts and deals before events, and the
events file is the largest by far. `EventPrefetch` starts a child process — a fresh
interpreter running `python -m indexer.prefetch`, so nothing of the parent (threads,
LMDB handles, its `__main__`) is inherited or re-run — that reads the file from its
current position and sends `EventColumns` blocks back over a pipe; a thread of the
parent receives them into a bounded queue, so the child runs ahead on the second core
until the writer asks for them. The writer sees the same blocks in the
same order as from `scan_events` in process, and a bad line is the same
`RecordError` (`file:line: message`), raised when the writer reaches it. `close`
ends the child (an aborted batch does not leave it running).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import BinaryIO

from bitseg.errors import RecordError
from indexer.eventscan import EventColumns, scan_events

MIN_BYTES = 64 << 20  # smaller files are parsed in process (a child costs ~0.5 s to start)
MAX_QUEUED = 400  # blocks received ahead of the writer (~100k events, ~2 MB each)


def prefetchable(data: bytes | BinaryIO) -> str | None:
    """The path to re-open when `data` is a large regular file read from its start."""
    name = getattr(data, "name", None)
    if isinstance(data, bytes | bytearray) or not isinstance(name, str):
        return None
    try:
        if not data.seekable() or not os.path.isfile(name):
            return None
        remaining = os.path.getsize(name) - data.tell()
    except (OSError, ValueError):
        return None
    return name if remaining >= MIN_BYTES else None


class EventPrefetch:
    """The events of one file, parsed by a child process; iterate once, then `close`."""

    def __init__(self, path: str, offset: int, source: str) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)  # where `indexer` is importable
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "indexer.prefetch", path, str(offset), source,
                 str(write_fd)],
                stdin=subprocess.DEVNULL, pass_fds=(write_fd,), env=env,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(MAX_QUEUED)
        self._closed = threading.Event()
        self._thread = threading.Thread(
            target=self._receive, args=(Connection(read_fd, writable=False),), daemon=True,
            name="bitseg-events-receiver",
        )
        self._thread.start()

    def _receive(self, receiver: Connection) -> None:
        with receiver:
            while not self._closed.is_set():
                try:
                    message = receiver.recv()
                except (EOFError, OSError):
                    message = ("failed", "the events parser process ended unexpectedly")
                while not self._closed.is_set():
                    try:
                        self._queue.put(message, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if message[0] != "block":
                    return

    def __iter__(self) -> Iterator[EventColumns]:
        while True:
            tag, payload = self._queue.get()
            if tag == "block":
                yield payload  # type: ignore[misc]
            elif tag == "end":
                return
            elif tag == "error":
                source, line, message = payload  # type: ignore[misc]
                raise RecordError(source, line, message)
            else:
                raise RuntimeError(f"events parser: {payload}")

    def close(self) -> None:
        self._closed.set()
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        self._thread.join()


def _parse(path: str, offset: int, source: str, sender: Connection) -> None:
    """The child: scan the file and send its blocks, then "end" (or the error)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            for block in scan_events(f, source):
                sender.send(("block", block))
        sender.send(("end", None))
    except RecordError as exc:
        sender.send(("error", (exc.source, exc.line, exc.detail)))
    except BrokenPipeError:
        pass  # the parent has gone (or closed the batch): nothing left to do
    except BaseException as exc:  # reported to the parent, which aborts the batch
        sender.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


if __name__ == "__main__":
    _path, _offset, _source, _fd = sys.argv[1:5]
    _parse(_path, int(_offset), _source, Connection(int(_fd), readable=False))
